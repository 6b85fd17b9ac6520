#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""zeekcmp.py - compares pano-analyzer DNS records (JSON lines) with a Zeek dns.log baseline.

usage: zeekcmp.py BASELINE_DNS_LOG RECORDS_JSONL [--ignore FIELD[,FIELD...]]

The baseline is Zeek's TSV (#fields header, '-' unset, '(empty)' empty, vectors joined with
','). Every field except ts and uid is compared; records are matched as a multiset (Zeek writes
a record when its connection ends, we when the transaction completes or times out, so the order
differs). Within a record, answers and their TTLs are compared as a set of (answer, TTL) pairs.
Rows sharing a uid in the baseline must share one in our output, and only those.
Prints nothing and exits 0 on a match; otherwise prints the differences and exits 1.
"""
import json
import sys

FIELDS = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt",
          "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name",
          "AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected", "opcode", "opcode_name"]


def zeek_esc(s):
    """Our string as Zeek's TSV writer shows a set element: ',' escaped."""
    return s.replace(",", "\\x2c")


def norm_value(field, v):
    """A comparable form of one field, from either side (None = unset)."""
    if v is None:
        return None
    if field in ("AA", "TC", "RD", "RA", "rejected"):
        return v in (True, "T")
    if field in ("id.orig_p", "id.resp_p", "trans_id", "qclass", "qtype", "rcode", "Z",
                 "opcode"):
        return int(v)
    if field == "rtt":
        return round(float(v), 6)
    return v


def from_tsv(fields, line, vectors=("answers", "TTLs")):
    """One row of a Zeek TSV log; the fields in vectors as lists."""
    vals = line.rstrip("\n").split("\t")
    row = {}
    for f, v in zip(fields, vals):
        if v == "-":
            v = None
        elif v == "(empty)":
            v = [] if f in vectors else ""
        elif f in vectors:
            v = v.split(",")
        row[f] = v
    return row


def read_log(path, vectors=("answers", "TTLs")):
    """The rows of a Zeek TSV log (a list of dicts by field name)."""
    fields, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("#fields"):
                fields = line.rstrip("\n").split("\t")[1:]
            elif not line.startswith("#") and line.strip():
                if fields is None:  # btest-diff-cut: a plain header line of names
                    fields = line.rstrip("\n").split("\t")
                    continue
                rows.append(from_tsv(fields, line, vectors))
    return rows


def uid_grouping(matched):
    """(zeek uid, our uid) pairs: a line for each Zeek uid not mapped one to one on ours."""
    z2p, p2z, out = {}, {}, []
    for zu, pu in matched:
        if z2p.setdefault(zu, pu) != pu or p2z.setdefault(pu, zu) != zu:
            out.append(f"uid grouping differs: zeek {zu} vs ours {pu}")
    return out


def from_json(rec):
    row = {}
    for f in FIELDS + ["uid"]:
        k = f if f in rec else f.replace(".", "_")
        row[f] = rec.get(k)
    if row["answers"] is not None:
        row["answers"] = [zeek_esc(a) for a in row["answers"]]
    return row


def key(row, ignore):
    out = []
    for f in FIELDS:
        if f in ignore or f in ("answers", "TTLs"):
            continue
        out.append((f, norm_value(f, row.get(f))))
    if "answers" not in ignore:
        ans = row.get("answers") or []
        ttls = [round(float(t), 6) for t in (row.get("TTLs") or [])]
        out.append(("answers", tuple(sorted(zip(ans, ttls)))))
        out.append(("nanswers", len(ans)))
    return tuple(out)


def main():
    args = sys.argv[1:]
    ignore = set()
    if "--ignore" in args:
        i = args.index("--ignore")
        ignore = set(args[i + 1].split(","))
        del args[i:i + 2]
    base_path, ours_path = args
    expected = read_log(base_path)
    actual = []
    with open(ours_path) as f:
        for n, line in enumerate(f, 1):
            try:
                actual.append(from_json(json.loads(line)))
            except ValueError as e:
                print(f"record {n}: not JSON: {e}")
                return 1
    bad = 0
    pool = [(key(r, ignore), r) for r in actual]
    matched = []
    for e in expected:
        k = key(e, ignore)
        hit = next((i for i, (ak, _) in enumerate(pool) if ak == k), None)
        if hit is None:
            bad += 1
            print("missing:", dict(k))
            near = [r for ak, r in pool if norm_value("trans_id", r["trans_id"]) ==
                    norm_value("trans_id", e["trans_id"])]
            for r in near:
                diffs = {f: (a, b) for (f, a), (_, b) in zip(k, key(r, ignore)) if a != b}
                print("   nearest (same trans_id) differs in:", diffs)
            continue
        matched.append((e["uid"], pool[hit][1]["uid"]))
        del pool[hit]
    for _, r in pool:
        bad += 1
        print("extra:", dict(key(r, ignore)))
    # uid grouping: same Zeek uid <=> same PANO uid
    for line in uid_grouping(matched):
        bad += 1
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
