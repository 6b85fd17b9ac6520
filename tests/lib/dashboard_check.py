#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""dashboard_check.py - every PromQL expression of the Grafana dashboard, evaluated through
Prometheus' HTTP API after known DNS traffic, against what that traffic must give.

Inputs: the dashboard JSON; sent.tsv (one line per query the clients made: phase, node, client,
server, proto, name, qtype, rcode as the client saw it); records.jsonl (the records an
independent consumer read back from Kafka); P, the wall-clock second at which the second phase
of traffic started. The first phase sent every kind of query once, so that every series exists
before the second; the second phase sent the counts being measured.

The window of a rate() or increase() is made exact: for each scrape job, T1 is the last sample
before P and T2 the last sample of all, and an expression over that job is evaluated at T2 with
$__rate_interval and $__range set to T2 - T1 (Prometheus 2.x ranges include both ends, so the
first sample in the range is the one at T1, and nothing is extrapolated). Then a rate times the
range is exactly the number of second-phase events. $node is set to each node and to both.

Prints one PASS/FAIL line per check; exits 1 if any failed.
"""
import argparse
import bisect
import collections
import json
import math
import re
import sys
import time
import urllib.parse
import urllib.request

# Prometheus' default histogram bounds, which flowlogs-pipeline's prom encoder uses whatever
# the config says (see deploy/flowlogs-pipeline/pano-kafka-dns.yaml), and its value scale.
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
LAT_SCALE = 0.01
REL = 1e-9

failed = False


def ok(name, msg=""):
    print(f"PASS {name}{': ' + msg if msg else ''}")


def bad(name, msg):
    global failed
    failed = True
    print(f"FAIL {name}: {msg}")


def close(a, b):
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


class Prom:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def query(self, expr, at):
        data = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"}).encode()
        with urllib.request.urlopen(self.url + "/api/v1/query", data, timeout=30) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"{expr}: {body}")
        return body["data"]

    def job_times(self, job):
        """Sample timestamps (seconds) of the job's first target, oldest first."""
        data = self.query(f'up{{job="{job}"}}[30m]', time.time())
        res = sorted(data["result"], key=lambda s: s["metric"].get("instance", ""))
        if not res:
            return []
        return [float(t) for t, v in res[0]["values"]]


def load_sent(path):
    sent = []
    for line in open(path):
        f = line.split()
        if len(f) != 8:
            continue
        phase, node, client, server, proto, name, qtype, rcode = f
        sent.append(dict(phase=int(phase), node=node, client=client, server=server,
                         proto=proto, query=name.lower().rstrip("."), qtype=qtype, rcode=rcode))
    return sent


def load_records(path, nodes):
    recs = []
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("node") in nodes:
            recs.append(r)
    return recs


def rec_key(r):
    return (r.get("node"), r.get("id_orig_h"), r.get("id_resp_h"), r.get("proto"),
            r.get("query"), r.get("qtype_name"), r.get("rcode_name", "-"))


def sent_key(s):
    return (s["node"], s["client"], s["server"], s["proto"], s["query"], s["qtype"], s["rcode"])


# ---- what flowlogs-pipeline's metrics must hold, from the records -------------------------
# metric -> the records it counts (its labels are record fields of the same names)
FLP = {
    "pano_flp_dns_transactions_total": lambda r: True,
    "pano_flp_dns_queries_by_name_total": lambda r: True,
    "pano_flp_dns_nxdomain_total": lambda r: r.get("rcode_name") == "NXDOMAIN",
    "pano_flp_dns_servfail_total": lambda r: r.get("rcode_name") == "SERVFAIL",
    "pano_flp_dns_transactions_by_server_total": lambda r: True,
}
LAT = "pano_flp_dns_latency_centiseconds"


def bucket_of(v):
    """Index of the first bound >= v (len(BOUNDS) for +Inf), and whether v sits on a bound
    (where a one-ulp difference in parsing could tip it either way)."""
    i = bisect.bisect_left(BOUNDS, v)
    edge = any(abs(v - b) <= 1e-9 * b for b in BOUNDS)
    return i, edge


def series_map(data, label):
    out = {}
    for s in data["result"]:
        key = s["metric"].get(label, "") if label else ""
        out[key] = float(s["value"][1])
    return out


def check_counts(name, got, want, scale):
    """got: label -> value; want: label -> count; value * scale must equal the count."""
    if not got:
        bad(name, "empty result")
        return
    if set(got) != set(want):
        bad(name, f"series {sorted(got)} but traffic gives {sorted(want)}")
        return
    wrong = [f"{k}: {got[k] * scale:.9g} != {want[k]}" for k in sorted(want)
             if not close(got[k] * scale, want[k])]
    if wrong:
        bad(name, "; ".join(wrong))
    else:
        ok(name, ", ".join(f"{k or 'all'}={want[k]}" for k in sorted(want)))


def check_flp_expr(prom, expr, tag, recs2, win):
    t1, t2 = win
    rng = round((t2 - t1) * 1000)
    e = expr.replace("$__rate_interval", f"{rng}ms").replace("$__range", f"{rng}ms")
    data = prom.query(e, t2)
    secs = rng / 1000
    lat = [float(r["latency"]) / LAT_SCALE for r in recs2 if "latency" in r]
    m = re.search(r"histogram_quantile\(([0-9.]+),", e)
    if m:
        q = float(m.group(1))
        got = [float(s["value"][1]) for s in data["result"]]
        if len(got) != 1 or math.isnan(got[0]):
            bad(tag, f"result {data['result']}")
            return
        est = got[0] * 100  # the expression divides the centiseconds by 100
        v = sorted(lat)
        k = max(1, math.ceil(q * len(v)))
        true = v[k - 1]
        i, edge = bucket_of(true)
        lo_i = hi_i = i
        if edge:  # on a bound k: FLP may have put it just below or just above (one ulp)
            k = min(range(len(BOUNDS)), key=lambda k: abs(BOUNDS[k] - true))
            lo_i, hi_i = k, k + 1
        lo = BOUNDS[lo_i - 1] if lo_i > 0 else 0.0
        hi = BOUNDS[hi_i] if hi_i < len(BOUNDS) else BOUNDS[-1]
        if lo - 1e-12 <= est <= hi + 1e-12:
            ok(tag, f"p{q * 100:g} {est / 100 * 1e6:.1f} us, true {true / 100 * 1e6:.1f} us, "
               f"bucket ({lo / 100 * 1e6:g}, {hi / 100 * 1e6:g}] us")
        else:
            bad(tag, f"p{q * 100:g} estimate {est / 100:.6g} s is outside the bucket "
                f"({lo / 100:g}, {hi / 100:g}] s of the true value {true / 100:.6g} s")
        return
    if "_sum" in e and "_count" in e:
        got = [float(s["value"][1]) for s in data["result"]]
        want = sum(lat) / len(lat) / 100
        if len(got) == 1 and close(got[0], want):
            ok(tag, f"mean {got[0] * 1e6:.3f} us over {len(lat)} transactions")
        else:
            bad(tag, f"mean {got} s, records give {want:.9g} s")
        return
    m = re.search(r"(rate|increase)\((pano_flp_dns_\w+)\{", e)
    if not m or m.group(2) not in FLP:
        bad(tag, "no expectation known for this expression: teach dashboard_check.py")
        return
    fn, metric = m.groups()
    keep = FLP[metric]
    eq = dict(re.findall(r'(\w+)="([^"]*)"', e))  # label matchers such as rcode_name="NXDOMAIN"
    if eq:
        base = keep
        keep = lambda r: base(r) and all(r.get(k, "") == v for k, v in eq.items())
    by = re.search(r"sum by \((\w+)\)", e)
    label = by.group(1) if by else None
    want = collections.Counter(r.get(label, "") if label else "" for r in recs2 if keep(r))
    check_counts(tag, series_map(data, label), want, secs if fn == "rate" else 1)


def check_buckets(prom, tag, node_re, recs2, win):
    """The histogram's buckets hold exactly the second phase's latencies (not a dashboard
    expression: the ground the quantile panels stand on)."""
    t1, t2 = win
    rng = round((t2 - t1) * 1000)
    data = prom.query(f'sum by (le) (increase({LAT}_bucket{{node=~"{node_re}"}}[{rng}ms]))', t2)
    got = {s["metric"]["le"]: float(s["value"][1]) for s in data["result"]}
    les = [float(x) for x in got if x != "+Inf"]
    if sorted(les) != BOUNDS:
        bad(tag, f"bucket bounds {sorted(les)} are not Prometheus' defaults {BOUNDS}")
        return
    lat = [float(r["latency"]) / LAT_SCALE for r in recs2 if "latency" in r]
    wrong = []
    for b in BOUNDS + [math.inf]:
        key = "+Inf" if b == math.inf else next(k for k in got if k != "+Inf" and float(k) == b)
        below = sum(1 for v in lat if v < b * (1 - 1e-9))
        upto = sum(1 for v in lat if v <= b * (1 + 1e-9))
        if not (below - 1e-9 <= got[key] <= upto + 1e-9) or got[key] != round(got[key]):
            wrong.append(f"le={key}: {got[key]} (records: {below}..{upto})")
    if wrong:
        bad(tag, "; ".join(wrong))
    else:
        ok(tag, f"{len(lat)} latencies in the buckets they belong to")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--sent", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--phase2", type=float, required=True)
    ap.add_argument("--nodes", required=True, help="comma-separated node names")
    a = ap.parse_args()
    nodes = a.nodes.split(",")
    prom = Prom(a.prom)
    sent = load_sent(a.sent)
    recs = load_records(a.records, set(nodes))
    P = a.phase2

    # 1. The chain lost and duplicated nothing: the records are the queries the clients made.
    want = collections.Counter(sent_key(s) for s in sent)
    got = collections.Counter(rec_key(r) for r in recs)
    if want == got:
        ok("downstream_records_exactly_once", f"{len(recs)} records = {len(sent)} queries")
    else:
        diff = [f"{k}: sent {want[k]}, records {got[k]}" for k in sorted(set(want) | set(got),
                key=str) if want[k] != got[k]]
        bad("downstream_records_exactly_once", "; ".join(diff[:6]))
    recs2 = [r for r in recs if float(r["ts"]) >= P]
    sent2 = [s for s in sent if s["phase"] == 2]
    if len(recs2) != len(sent2):
        bad("downstream_phase2_records", f"{len(recs2)} records after P, {len(sent2)} sent")

    wins = {}
    for job in ("flowlogs-pipeline", "pano-analyzer", "pano-agent"):
        ts = prom.job_times(job)
        before = [t for t in ts if t < P]
        if not before or ts[-1] <= P:
            bad(f"downstream_scrapes_{job}", f"no samples around the second phase: {ts[-5:]}")
            return 1
        wins[job] = (before[-1], ts[-1])

    # 2. FLP's counters (the raw ones, both phases) per node: transactions, NXDOMAIN, SERVFAIL.
    t2 = wins["flowlogs-pipeline"][1]
    for node in nodes:
        mine = [s for s in sent if s["node"] == node]
        for what, sel in (("transactions", ""), ("nxdomain", ', rcode_name="NXDOMAIN"'),
                          ("servfail", ', rcode_name="SERVFAIL"')):
            n = len([s for s in mine if what == "transactions" or s["rcode"] == what.upper()])
            d = prom.query(f'sum(pano_flp_dns_transactions_total{{node="{node}"{sel}}})', t2)
            v = [float(s["value"][1]) for s in d["result"]]
            name = f"downstream_flp_{what}_{node}"
            if v == [n]:
                ok(name, f"{n}")
            else:
                bad(name, f"Prometheus has {v}, the clients made {n}")

    # 3. Every dashboard expression.
    dash = json.load(open(a.dashboard))
    exprs = [(f'{p["title"]}/{t.get("refId", "?")}', t["expr"])
             for p in dash["panels"] for t in p.get("targets", [])]
    node_sets = [[n] for n in nodes] + [nodes]
    addrs = {"clients": {r["id_orig_h"] for r in recs}, "servers": {r["id_resp_h"] for r in recs},
             "qnames": {r["query"] for r in recs}}
    all_lat = [float(r["latency"]) for r in recs if "latency" in r]
    for title, expr in exprs:
        if "pano_flp_" in expr:
            for ns in node_sets:
                node_re = "|".join(ns)
                tag = f"dashboard[{title}] node={node_re}"
                mine = [r for r in recs2 if r["node"] in ns]
                check_flp_expr(prom, expr.replace("$node", node_re), tag, mine,
                               wins["flowlogs-pipeline"])
            continue
        job = "pano-analyzer" if re.search(r"pano_(analyzer|dns)_", expr) else "pano-agent"
        t1, t2 = wins[job if job == "pano-analyzer" else "flowlogs-pipeline"]
        rng = round((t2 - t1) * 1000)
        e = expr.replace("$__rate_interval", f"{rng}ms").replace("$__range", f"{rng}ms")
        tag = f"dashboard[{title}]"
        res = prom.query(e, t2)["result"]
        if not res:
            bad(tag, "empty result")
            continue
        vals = [float(s["value"][1]) for s in res]
        if "drop" in expr or "failed" in expr or "lost" in expr:
            if all(v == 0 for v in vals):
                ok(tag, f"{len(vals)} series, nothing lost")
            else:
                bad(tag, f"losses {vals}")
        elif "pano_dns_replies_rcode_total" in expr:
            def kind(r):
                if r.get("rcode_name") == "NOERROR":
                    return "NOERROR" if r.get("answers") else "NODATA"
                return r.get("rcode_name")
            want = collections.Counter(kind(r) for r in recs2)
            for k in ("NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "REFUSED"):
                want.setdefault(k, 0)
            check_counts(tag, series_map({"result": res}, "rcode"), want, rng / 1000)
        elif "pano_dns_transaction_seconds" in expr:
            lo, hi = min(all_lat), max(all_lat)
            if all(lo - 1e-6 <= v <= hi + 1e-6 for v in vals):
                ok(tag, f"{len(vals)} quantiles within the latencies seen [{lo}, {hi}] s")
            else:
                bad(tag, f"quantiles {vals} outside [{lo}, {hi}] s")
        elif "pano_dns_top_qname" in expr or "pano_dns_top_nxdomain" in expr:
            # Names are counted on queries and replies alike (as pktvisor), NXDOMAIN on replies.
            nx = "nxdomain" in expr
            per = 1 if nx else 2
            want = collections.Counter(r["query"] for r in recs
                                       if not nx or r.get("rcode_name") == "NXDOMAIN")
            want = {k: per * n for k, n in want.most_common(10)}
            check_counts(tag, series_map({"result": res}, "qname"), want, 1)
        elif re.fullmatch(r"pano_dns_unique_(qnames|clients|servers)", expr):
            n = len(addrs[expr.rsplit("_", 1)[1]])
            if vals == [n]:
                ok(tag, f"{n}")
            else:
                bad(tag, f"{vals}, traffic has {n}")
        else:
            bad(tag, "no expectation known for this expression: teach dashboard_check.py")

    # 4. The latency histogram itself, per node and for both.
    for ns in node_sets:
        node_re = "|".join(ns)
        check_buckets(prom, f"downstream_latency_buckets node={node_re}", node_re,
                      [r for r in recs2 if r["node"] in ns], wins["flowlogs-pipeline"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
