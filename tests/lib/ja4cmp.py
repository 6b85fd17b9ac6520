#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ja4cmp.py - pano-analyzer's ssl records against FoxIO's expected JA4 list of a capture.

usage: ja4cmp.py EXPECTED RECORDS_JSONL [--missing-ok REASON]

EXPECTED is the X.expected of ../shared/corpus/ja4: one "- stream:" entry per client hello
(transport, src, dst, src_port, dst_port, tls_server_name, ja4). Every TCP entry with a ja4 must
have a record of ours for the same connection (client address and port, server address and
port) with the same ja4 and the same server_name (none when the entry has none). QUIC entries
(ja4 "q...") are counted as skipped: PANO reads TLS over TCP only. With --missing-ok, an entry
with no record of ours is skipped with that reason instead of failing (TLS inside a tunnel
that the analyzer does not open). Prints a summary line; exits 1 on any difference.
"""
import json
import sys


def entries(path):
    out, cur = [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("- "):
                cur = {}
                out.append(cur)
                line = line[2:]
            line = line.strip()
            if cur is not None and ":" in line:
                k, v = line.split(":", 1)
                cur[k.strip()] = v.strip()
    return out


def main():
    args = sys.argv[1:]
    missing_ok = None
    if "--missing-ok" in args:
        i = args.index("--missing-ok")
        missing_ok = args[i + 1]
        del args[i:i + 2]
    exp_path, ours_path = args
    recs = {}
    with open(ours_path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("_path") != "ssl":
                continue
            k = (r["id_orig_h"], int(r["id_orig_p"]), r["id_resp_h"], int(r["id_resp_p"]))
            recs[k] = r
    ok = bad = quic = missing = 0
    for e in entries(exp_path):
        if "ja4" not in e:
            continue
        if e.get("transport") != "tcp" or e["ja4"].startswith("q"):
            quic += 1
            continue
        k = (e["src"], int(e["src_port"]), e["dst"], int(e["dst_port"]))
        r = recs.get(k)
        if r is None:
            if missing_ok:
                missing += 1
                continue
            print(f"missing: no record for {k} (want {e['ja4']})")
            bad += 1
            continue
        diffs = []
        if r.get("ja4") != e["ja4"]:
            diffs.append(f"ja4 {r.get('ja4')} != {e['ja4']}")
        if r.get("server_name") != e.get("tls_server_name"):
            diffs.append(f"server_name {r.get('server_name')} != {e.get('tls_server_name')}")
        if diffs:
            print(f"{k}: " + "; ".join(diffs))
            bad += 1
        else:
            ok += 1
    msg = f"{ok} hellos agree"
    if quic:
        msg += f", {quic} QUIC hellos skipped (PANO reads TLS over TCP only)"
    if missing:
        msg += f", {missing} not seen ({missing_ok})"
    print(msg)
    return 1 if bad or not (ok or missing or quic) else 0


if __name__ == "__main__":
    sys.exit(main())
