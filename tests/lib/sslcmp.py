#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sslcmp.py - pano-analyzer's ssl records (JSON lines) against a Zeek ssl.log baseline.

usage: sslcmp.py BASELINE_SSL_LOG RECORDS_JSONL [--ignore FIELD[,FIELD...]]

The baseline is Zeek's TSV (#fields/#types header, '-' unset, '(empty)' an empty vector,
vectors joined with ','). Records are matched by connection (the four id fields); every field
of Zeek's ssl.log that PANO writes is compared except ts and uid (--ignore names more, for a
deliberate difference the calling test explains). Columns of Zeek's optional scripts
(validation_status, subject, ...) are not PANO's and are not compared. Prints nothing and exits
0 on a match; otherwise prints the differences and exits 1.
"""
import json
import sys

FIELDS = ["version", "cipher", "curve", "server_name", "resumed", "last_alert",
          "next_protocol", "established", "ssl_history", "cert_chain_fps",
          "client_cert_chain_fps", "sni_matches_cert"]
ID = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]


def tsv_rows(path):
    fields, types, rows = None, None, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif line.startswith("#types"):
                types = line.split("\t")[1:]
            elif line and not line.startswith("#"):
                row = {}
                for fld, typ, v in zip(fields, types, line.split("\t")):
                    if v == "-":
                        v = None
                    elif typ.startswith("vector") or typ.startswith("set"):
                        v = [] if v == "(empty)" else v.split(",")
                    elif typ == "bool":
                        v = v == "T"
                    elif typ in ("port", "count"):
                        v = int(v)
                    row[fld] = v
                rows.append(row)
    return rows


def json_row(rec):
    row = {}
    for fld in ID + FIELDS:
        row[fld] = rec.get(fld, rec.get(fld.replace(".", "_")))
    return row


def main():
    args = sys.argv[1:]
    ignore = set()
    if "--ignore" in args:
        i = args.index("--ignore")
        ignore = set(args[i + 1].split(","))
        del args[i:i + 2]
    base, ours = args
    expected = tsv_rows(base)
    actual = {}
    with open(ours) as f:
        for line in f:
            r = json.loads(line)
            if r.get("_path") == "ssl":
                row = json_row(r)
                actual[tuple(row[k] for k in ID)] = row
    bad = 0
    for e in expected:
        k = tuple(e[f] for f in ID)
        a = actual.pop(k, None)
        if a is None:
            print(f"missing: {k}")
            bad += 1
            continue
        for fld in FIELDS:
            if fld in ignore or fld not in e:
                continue
            if e[fld] != a[fld]:
                print(f"{k} {fld}: ours {a[fld]!r}, Zeek {e[fld]!r}")
                bad += 1
    for k in actual:
        print(f"extra: {k}")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
