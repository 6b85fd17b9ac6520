#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""zeekcmp_http.py - compares pano-analyzer http records (JSON lines) with a Zeek http.log.

usage: zeekcmp_http.py BASELINE_HTTP_LOG RECORDS_JSONL [--ignore FIELD[,FIELD...]]
                       [--drop-zeek FIELD=VALUE[,FIELD=VALUE...]]...

Every field of the baseline's #fields that PANO has is compared (ts and uid aside; the
file-analysis columns and password, which PANO never logs, are left out); records are matched
as a multiset. --drop-zeek removes the baseline rows whose fields all have those values ('-'
for unset): rows Zeek writes that PANO deliberately does not (the caller says why). Rows sharing
a uid in the baseline must share one in our output, and only those.
Prints nothing and exits 0 on a match; otherwise prints the differences and exits 1.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zeekcmp  # noqa: E402

FIELDS = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host",
          "uri", "referrer", "version", "user_agent", "origin", "request_body_len",
          "response_body_len", "status_code", "status_msg", "info_code", "info_msg", "tags",
          "username", "proxied"]
NUMBERS = {"id.orig_p", "id.resp_p", "trans_depth", "request_body_len", "response_body_len",
           "status_code", "info_code"}
SETS = ("tags", "proxied")


def zeek_text(s):
    """Our string as Zeek's TSV writer prints it: bytes outside printable ASCII as \\xNN."""
    out = []
    for ch in s.encode("utf-8", "surrogateescape"):
        out.append(chr(ch) if 0x20 <= ch < 0x7f else "\\x%02x" % ch)
    return "".join(out)


def norm(field, v):
    if v is None:
        return None
    if field in NUMBERS:
        return int(v)
    if field in SETS:
        return tuple(sorted(v))
    return v


def from_json(rec):
    row = {}
    for f in FIELDS + ["uid"]:
        v = rec.get(f, rec.get(f.replace(".", "_")))
        if isinstance(v, str) and f != "uid":
            v = zeek_text(v)
        elif isinstance(v, list):
            v = [zeekcmp.zeek_esc(zeek_text(x)) for x in v]
        row[f] = v
    return row


def main():
    args = sys.argv[1:]
    ignore, drops = set(), []
    while "--ignore" in args:
        i = args.index("--ignore")
        ignore |= set(args[i + 1].split(","))
        del args[i:i + 2]
    while "--drop-zeek" in args:
        i = args.index("--drop-zeek")
        drops.append(dict(kv.split("=", 1) for kv in args[i + 1].split(",")))
        del args[i:i + 2]
    base_path, ours_path = args
    expected = zeekcmp.read_log(base_path, SETS)
    if not expected:
        print("the baseline has no rows")
        return 1
    have = [f for f in FIELDS if f in expected[0] and f not in ignore]

    def dropped(row):
        return any(all((row.get(k) or "-") == v for k, v in d.items()) for d in drops)

    expected = [e for e in expected if not dropped(e)]
    actual = []
    with open(ours_path) as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                print(f"record {n}: not JSON: {e}")
                return 1
            if rec.get("_path") == "http":
                actual.append(from_json(rec))

    def key(row):
        return tuple((f, norm(f, row.get(f))) for f in have)

    bad = 0
    pool = [(key(r), r) for r in actual]
    matched = []
    for e in expected:
        k = key(e)
        hit = next((i for i, (ak, _) in enumerate(pool) if ak == k), None)
        if hit is None:
            bad += 1
            print("missing:", {f: v for f, v in k if v is not None})
            near = [ak for ak, r in pool if r["id.orig_p"] == int(e["id.orig_p"] or 0)]
            for ak in near:
                print("   ours on that connection differs in:",
                      {f: (a, b) for (f, a), (_, b) in zip(k, ak) if a != b})
            continue
        if "uid" in e:
            matched.append((e["uid"], pool[hit][1]["uid"]))
        del pool[hit]
    for k, _ in pool:
        bad += 1
        print("extra:", {f: v for f, v in k if v is not None})
    for line in zeekcmp.uid_grouping(matched):
        bad += 1
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
