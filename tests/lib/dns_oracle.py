#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dns_oracle.py - tshark as the oracle for pano-analyzer's DNS records.

  dns_oracle.py TSHARK_JSON RECORDS_JSONL

TSHARK_JSON is `tshark -r CAPTURE -T json --no-duplicate-keys -Y dns`; RECORDS_JSONL is
`pano-analyzer --read CAPTURE --output -` of the same capture, in which every query has its
reply (the test generates such traffic). For every DNS message tshark decodes:
  - queries: the multiset of (proto, id, qname, qtype) equals the records' (proto, trans_id,
    query, qtype);
  - replies: the multiset of (proto, id, qname, qtype, rcode, AA, RA, answer count) equals that
    of the records that have an rcode (AA and RA only for replies with answers, as Zeek);
  - the answers of the types whose Zeek form is plain (A, AAAA, CNAME, NS, PTR, MX, SRV, SOA,
    TXT) are among the record's answers, and the record's rtt is tshark's dns.time.
Prints a summary line and each mismatch; exit 0 when all agree, 1 otherwise, 2 on bad input.
"""
import collections
import json
import sys


def one(v):
    """tshark's --no-duplicate-keys turns repeated keys into lists: the first value."""
    return v[0] if isinstance(v, list) else v


def many(v):
    """A value that may be repeated, as a list."""
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def zeek_answer(rr):
    """The text Zeek logs for one answer RR, or None when its form is not a plain field."""
    t = int(one(rr.get('dns.resp.type', '0')))
    plain = {1: 'dns.a', 28: 'dns.aaaa', 5: 'dns.cname', 2: 'dns.ns',
             12: 'dns.ptr.domain_name', 15: 'dns.mx.mail_exchange', 33: 'dns.srv.target',
             6: 'dns.soa.mname'}
    if t in plain and plain[t] in rr:
        return one(rr[plain[t]])
    if t == 16:
        strings = many(rr.get('dns.txt'))
        return ' '.join(f'TXT {len(s.encode())} {s}' for s in strings)
    return None


def tshark_messages(path):
    """Every DNS message in tshark's JSON, as dicts with the fields compared."""
    with open(path) as f:
        packets = json.load(f)
    msgs = []
    for p in packets:
        layers = p['_source']['layers']
        proto = 'tcp' if 'tcp' in layers else 'udp'
        for dns in many(layers.get('dns')):
            flags = dns.get('dns.flags_tree', {})
            queries = list(dns.get('Queries', {}).values())
            if not queries:
                continue
            q = one(queries[0])
            answers = []
            for rrs in dns.get('Answers', {}).values():
                answers.extend(many(rrs))
            msgs.append({
                'proto': proto,
                'id': int(one(dns['dns.id']), 16),
                'qname': one(q['dns.qry.name']).lower(),
                'qtype': int(one(q['dns.qry.type'])),
                'response': one(flags.get('dns.flags.response')) == '1',
                'rcode': int(one(flags.get('dns.flags.rcode', '0'))),
                'AA': one(flags.get('dns.flags.authoritative', '0')) == '1',
                'RA': one(flags.get('dns.flags.recavail', '0')) == '1',
                'ancount': int(one(dns.get('dns.count.answers', '0'))),
                'known': [a for a in map(zeek_answer, answers) if a is not None],
                'time': float(one(dns['dns.time'])) if 'dns.time' in dns else None,
            })
    return msgs


def read_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    msgs = tshark_messages(argv[1])
    recs = read_records(argv[2])
    bad = []

    tq = collections.Counter((m['proto'], m['id'], m['qname'], m['qtype'])
                             for m in msgs if not m['response'])
    rq = collections.Counter((r.get('proto'), r.get('trans_id'), r.get('query'), r.get('qtype'))
                             for r in recs)
    for k in tq - rq:
        bad.append(f'query {k} in tshark, not in the records')
    for k in rq - tq:
        bad.append(f'record {k} for a query tshark does not show')

    # Zeek sets AA and RA while logging an answer RR (DNS::do_reply), so a reply without answers
    # leaves them false whatever its header says: compare the flags only when there are answers.
    def rkey(proto, i, name, qtype, rcode, aa, ra, n):
        if n == 0:
            aa = ra = None
        return (proto, i, name, qtype, rcode, aa, ra, n)
    replies = [m for m in msgs if m['response']]
    tr = collections.Counter(rkey(m['proto'], m['id'], m['qname'], m['qtype'], m['rcode'],
                                  m['AA'], m['RA'], m['ancount']) for m in replies)
    answered = [r for r in recs if 'rcode' in r]
    rr = collections.Counter(rkey(r.get('proto'), r.get('trans_id'), r.get('query'),
                                  r.get('qtype'), r.get('rcode'), r.get('AA'), r.get('RA'),
                                  len(r.get('answers', []))) for r in answered)
    for k in tr - rr:
        bad.append(f'reply (proto,id,qname,qtype,rcode,AA,RA,ancount)={k} in tshark, not in the records')
    for k in rr - tr:
        bad.append(f'record reply {k} that tshark does not show')

    # Answers and rtt, reply by reply (records and replies with the same key, in order).
    by_key = collections.defaultdict(list)
    for r in answered:
        by_key[(r.get('proto'), r.get('trans_id'), r.get('query'), r.get('qtype'))].append(r)
    checked = 0
    for m in replies:
        cand = by_key.get((m['proto'], m['id'], m['qname'], m['qtype']))
        if not cand:
            continue
        r = cand.pop(0)
        missing = collections.Counter(m['known']) - collections.Counter(r.get('answers', []))
        if missing:
            bad.append(f'{m["qname"]}/{m["qtype"]} id {m["id"]}: answers {r.get("answers")} '
                       f'lack {list(missing)}')
        if m['time'] is not None and 'rtt' in r and abs(r['rtt'] - m['time']) > 5e-6:
            bad.append(f'{m["qname"]}/{m["qtype"]} id {m["id"]}: rtt {r["rtt"]} vs tshark {m["time"]}')
        checked += 1

    print(f'{sum(tq.values())} queries, {len(replies)} replies in tshark; {len(recs)} records, '
          f'{len(answered)} answered; {checked} answer lists compared; {len(bad)} mismatches')
    for b in bad[:8]:
        print('  ' + b)
    return 1 if bad or not msgs else 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write(f'dns_oracle.py: {e}\n')
        sys.exit(2)
