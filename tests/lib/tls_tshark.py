#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tls_tshark.py - pano-analyzer's ssl records against tshark's decoding of the same ClientHellos.

usage: tls_tshark.py TSHARK_TSV RECORDS_JSONL [--missing-ok]

TSHARK_TSV: tshark -Y 'tcp && tls.handshake.type == 1' -T fields -E separator=/t with the fields
ip.src ipv6.src tcp.srcport tls.handshake.extensions_server_name
tls.handshake.extensions.supported_version tls.handshake.extensions_alpn_str
tls.handshake.version. The first hello of each connection is compared with our record of that
connection: server_name, client_versions (supported_versions without GREASE, else the hello's
version) and client_alpn. --missing-ok: a hello without a record is not a failure (a capture
whose TLS runs inside a tunnel). Prints a summary; exits 1 on any difference.
"""
import json
import sys


def vname(v):
    names = {0x0002: "SSLv2", 0x0300: "SSLv3", 0x0301: "TLSv10", 0x0302: "TLSv11",
             0x0303: "TLSv12", 0x0304: "TLSv13"}
    if v in names:
        return names[v]
    if v >> 8 == 0x7f:
        return "TLSv13-draft%d" % (v % 0x7f)
    return "unknown-%d" % v


def grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def main():
    args = sys.argv[1:]
    missing_ok = "--missing-ok" in args
    if missing_ok:
        args.remove("--missing-ok")
    tsv, ours = args
    recs = {}
    with open(ours) as f:
        for line in f:
            r = json.loads(line)
            if r.get("_path") == "ssl":
                recs[(r["id_orig_h"], int(r["id_orig_p"]))] = r
    seen, ok, bad, missing = set(), 0, 0, 0
    with open(tsv) as f:
        for line in f:
            c = (line.rstrip("\n").split("\t") + [""] * 7)[:7]
            src4, src6, port, sni, sv, alpn, hv = c
            if not port:
                continue
            k = (src4 or src6, int(port))
            if k in seen:
                continue
            seen.add(k)
            r = recs.get(k)
            if r is None:
                if missing_ok:
                    missing += 1
                else:
                    print(f"missing: no record for the hello of {k}")
                    bad += 1
                continue
            want_v = [vname(int(x, 16)) for x in sv.split(",") if x and not grease(int(x, 16))]
            if not sv:
                want_v = [vname(int(hv, 16))]
            want = {"server_name": sni or None,
                    "client_versions": want_v,
                    "client_alpn": alpn.split(",") if alpn else None}
            diffs = [f"{fld}: ours {r.get(fld)!r}, tshark {w!r}" for fld, w in want.items()
                     if r.get(fld) != w]
            if diffs:
                print(f"{k}: " + "; ".join(diffs))
                bad += 1
            else:
                ok += 1
    print(f"{ok} hellos agree with tshark" + (f", {missing} in tunnels not seen" if missing else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
