#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tls_tshark.py - pano-analyzer's ssl records against tshark's decoding of the same ClientHellos.

usage: tls_tshark.py TSHARK_TSV RECORDS_JSONL [--missing-ok]

TSHARK_TSV: tshark -Y 'tcp && tls.handshake.type == 1' -T fields -E separator=/t with the fields
ip.src ipv6.src tcp.srcport tls.handshake.extensions_server_name
tls.handshake.extensions.supported_version tls.handshake.extensions_alpn_str
tls.handshake.version tls.handshake.ciphersuite tls.handshake.extension.type
tls.handshake.sig_hash_alg. The first hello of each connection is compared with our record of
that connection: server_name, client_versions (supported_versions without GREASE, else the
hello's version), client_alpn, and ja4 computed here from tshark's decoding by FoxIO's JA4.md
(skipped for a hello with signature_algorithms_cert or delegated_credentials, whose signature
schemes tshark's sig_hash_alg field mixes in). --missing-ok: a hello without a record is not a failure (a capture
whose TLS runs inside a tunnel). Prints a summary; exits 1 on any difference.
"""
import hashlib
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


def ja4(sni, sv, alpn, hv, ciphers, exts, sigs):
    """JA4 of a hello from tshark's fields (hex or decimal comma-separated lists)."""
    num = lambda x: int(x, 0)
    vs = [num(x) for x in sv.split(",") if x and not grease(num(x))]
    v = max(vs) if vs else num(hv)
    ver = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
           0x0002: "s2"}.get(v, "00")
    cs = sorted(num(x) for x in ciphers.split(",") if x and not grease(num(x)))
    es = [num(x) for x in exts.split(",") if x and not grease(num(x))]
    first = alpn.split(",")[0] if alpn else ""
    if not first:
        a = "00"
    elif first[0].isalnum() and first[-1].isalnum() and first.isascii():
        a = first[0] + first[-1]
    else:
        h = first.encode().hex()
        a = h[0] + h[-1]
    head = "t%s%s%02d%02d%s" % (ver, "d" if 0 in es else "i", min(len(cs), 99),
                                min(len(es), 99), a)
    h12 = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h12(",".join("%04x" % c for c in cs)) if cs else "000000000000"
    el = sorted(e for e in es if e not in (0, 16))
    c = ",".join("%04x" % e for e in el)
    sg = [num(x) for x in sigs.split(",") if x and not grease(num(x))]
    if sg:
        c += "_" + ",".join("%04x" % x for x in sg)
    return "%s_%s_%s" % (head, b, h12(c) if el else "000000000000")


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
            c = (line.rstrip("\n").split("\t") + [""] * 10)[:10]
            src4, src6, port, sni, sv, alpn, hv, ciphers, exts, sigs = c
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
            if not {"34", "50"} & set(exts.split(",")):
                want["ja4"] = ja4(sni, sv, alpn, hv, ciphers, exts, sigs)
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
