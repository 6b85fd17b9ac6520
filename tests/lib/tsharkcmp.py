#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tsharkcmp.py - tshark as an oracle for pano-analyzer's DNS records.

usage: tsharkcmp.py TSHARK_FIELDS RECORDS_JSONL

TSHARK_FIELDS is `tshark -T fields -E separator=/t -e dns.id -e dns.flags.response
-e dns.flags.opcode -e dns.qry.name -e dns.qry.type -e dns.flags.rcode` (one DNS message per
line). Each of our records holds at most one query and one reply; the multiset of queries
(id, name, type) and of replies (id, rcode) that tshark decoded must be the one our records
carry (query_size / reply_size mark which halves a record has). Only standard queries with one
question are compared, and not NetBIOS/mDNS/LLMNR, which tshark decodes as other protocols.
Exit 1 with the differences.
"""
import collections
import json
import sys


def main():
    fields, recs = sys.argv[1:3]
    tq, tr = collections.Counter(), collections.Counter()
    for line in open(fields):
        v = line.rstrip("\n").split("\t")
        if len(v) < 6 or not v[0] or v[2] != "0" or "," in v[3] or not v[3]:
            continue  # several messages in one frame, other opcodes, no/many questions
        if v[3] == "<Root>":
            v[3] = ""
        msg_id = int(v[0], 16) if v[0].startswith("0x") else int(v[0])
        if v[1] in ("0", "False"):
            tq[(msg_id, v[3].lower(), int(v[4]))] += 1
        else:
            tr[(msg_id, int(v[5]))] += 1
    oq, orr = collections.Counter(), collections.Counter()
    for line in open(recs):
        r = json.loads(line)
        if r.get("opcode") != 0 or r.get("id_resp_p", r.get("id.resp_p")) in (137, 5353, 5355):
            continue  # tshark shows NBNS, mDNS and LLMNR as other protocols
        if "query_size" in r and "qtype" in r:
            oq[(r["trans_id"], r.get("query", ""), r["qtype"])] += 1
        if "reply_size" in r and "rcode" in r:
            orr[(r["trans_id"], r["rcode"])] += 1
    bad = 0
    for what, t, o in (("query", tq, oq), ("reply", tr, orr)):
        if t != o:
            bad = 1
            print(f"{what}s: tshark only {dict(t - o)}; ours only {dict(o - t)}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
