#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""dashboard_check_l7.py - every PromQL expression of the TLS and HTTP dashboard
(deploy/grafana/pano-l7-dashboard.json), evaluated through Prometheus' HTTP API after real TLS
and HTTP traffic went through pano-agent, pano-analyzer, Kafka and flowlogs-pipeline, against
what that traffic gives.

Inputs: the dashboard; sent.jsonl (one line per TLS connection or HTTP request the clients made:
phase, and the record fields the client's own view fixes: addresses, server port, SNI, TLS
version, handshake completed, dot/doh, method, host, URI, status code, body sizes);
published.jsonl (the analyzer's --output file: every record it made, also the DNS ones);
records.jsonl (what an independent consumer read back from topics pano-ssl and pano-http); P,
the wall-clock second at which the second phase started (its records have ts >= P). The first
phase made one of each kind, so that every series exists before the second.

1. The topics hold exactly the ssl and http lines the analyzer wrote (byte for byte, once), and
   those records are the traffic: each sent line is one record with its fields, once.
2. FLP's panels: windows are made exact as in dashboard_check.py (whose helpers this uses): T1
   is the last scrape of the FLP job before P, T2 its last, and rate()/increase() ranges are
   T2 - T1, so a rate times the range is exactly the number of second-phase records. $node is
   set to each node and to all.
3. The analyzer's own panels (its /metrics, scraped by job pano-analyzer): counters by the same
   exact window of that job; top-N tables over its current windows (which hold every record of
   the test) equal the counts of all its ssl and http records; latency quantiles within the
   sketch's 1% of the value of rank floor(q (n - 1)) (analyzer/summary/sketch_quantile.h).

Prints one PASS/FAIL line per check; exits 1 if any failed.
"""
import argparse
import collections
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_check as dc  # noqa: E402

# metric -> (_path of the records it counts, which of them, what each adds)
FLP = {
    "pano_flp_tls_connections_total": ("ssl", lambda r: True, None),
    "pano_flp_tls_connections_by_sni_total": ("ssl", lambda r: True, None),
    "pano_flp_tls_connections_by_ja4_total": ("ssl", lambda r: True, None),
    "pano_flp_tls_not_established_total": ("ssl", lambda r: r.get("established") is False, None),
    "pano_flp_tls_dot_connections_total": ("ssl", lambda r: r.get("dot") is True, None),
    "pano_flp_tls_doh_connections_total": ("ssl", lambda r: r.get("doh") is True, None),
    "pano_flp_http_requests_total": ("http", lambda r: True, None),
    "pano_flp_http_requests_by_host_total": ("http", lambda r: True, None),
    "pano_flp_http_server_errors_total":
        ("http", lambda r: 500 <= int(r.get("status_code", 0)) <= 599, None),
    "pano_flp_http_response_body_bytes_total":
        ("http", lambda r: True, lambda r: float(r.get("response_body_len", 0))),
}
HLAT = "pano_flp_http_latency_seconds"


def label_value(r, label):
    """A record field as FLP writes it into a label (utils.ConvertToString)."""
    if label == "class":  # label_replace(..., "class", "${1}xx", "status_code", "([1-5])[0-9][0-9]")
        s = r.get("status_code")
        return f"{s // 100}xx" if isinstance(s, int) and 100 <= s <= 599 else ""
    v = r.get(label)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def series(data, labels):
    out = {}
    for s in data["result"]:
        out[tuple(s["metric"].get(l, "") for l in labels)] = float(s["value"][1])
    return out


def check_quantile(tag, e, data, lat):
    q = float(re.search(r"histogram_quantile\(([0-9.]+),", e).group(1))
    got = [float(s["value"][1]) for s in data["result"]]
    if len(got) != 1 or math.isnan(got[0]):
        dc.bad(tag, f"result {data['result']}")
        return
    v = sorted(lat)
    true = v[max(1, math.ceil(q * len(v))) - 1]
    i, edge = dc.bucket_of(true)
    lo_i = hi_i = i
    if edge:
        k = min(range(len(dc.BOUNDS)), key=lambda k: abs(dc.BOUNDS[k] - true))
        lo_i, hi_i = k, k + 1
    lo = dc.BOUNDS[lo_i - 1] if lo_i > 0 else 0.0
    hi = dc.BOUNDS[hi_i] if hi_i < len(dc.BOUNDS) else dc.BOUNDS[-1]
    if lo - 1e-12 <= got[0] <= hi + 1e-12:
        dc.ok(tag, f"p{q * 100:g} {got[0] * 1e3:.2f} ms, true {true * 1e3:.2f} ms, "
              f"bucket ({lo * 1e3:g}, {hi * 1e3:g}] ms")
    else:
        dc.bad(tag, f"p{q * 100:g} estimate {got[0]:.6g} s is outside the bucket ({lo:g}, {hi:g}] s "
               f"of the true value {true:.6g} s")


def check_flp(prom, expr, tag, recs2, win):
    t1, t2 = win
    rng = round((t2 - t1) * 1000)
    e = expr.replace("$__rate_interval", f"{rng}ms").replace("$__range", f"{rng}ms")
    data = prom.query(e, t2)
    secs = rng / 1000
    http = [r for r in recs2 if r.get("_path") == "http"]
    lat = [float(r["latency"]) for r in http if "latency" in r]
    if ("histogram_quantile(" in e or "_sum" in e) and not lat:
        if data["result"] and not all(math.isnan(float(s["value"][1])) for s in data["result"]):
            dc.bad(tag, f"no latencies in the records, but {data['result']}")
        else:
            dc.ok(tag, "no latencies in the records, none in Prometheus")
        return
    if "histogram_quantile(" in e:
        check_quantile(tag, e, data, lat)
        return
    if "_sum" in e and "_count" in e:
        got = [float(s["value"][1]) for s in data["result"]]
        want = sum(lat) / len(lat)
        if len(got) == 1 and abs(got[0] - want) <= 1e-9 * max(1, want):
            dc.ok(tag, f"mean {got[0] * 1e3:.3f} ms over {len(lat)} requests")
        else:
            dc.bad(tag, f"mean {got} s, records give {want:.9g} s")
        return
    m = re.search(r"(rate|increase)\((pano_flp_\w+)\{", e)
    if not m or m.group(2) not in FLP:
        dc.bad(tag, "no expectation known for this expression: teach dashboard_check_l7.py")
        return
    fn, metric = m.groups()
    path, keep, weight = FLP[metric]
    by = re.search(r"sum by \(([\w, ]+)\)", e)
    labels = [l.strip() for l in by.group(1).split(",")] if by else []
    want = collections.Counter()
    for r in recs2:
        if r.get("_path") == path and keep(r):
            want[tuple(label_value(r, l) for l in labels)] += weight(r) if weight else 1
    got = series(data, labels)
    scale = secs if fn == "rate" else 1
    if not got and not want:
        dc.ok(tag, "no records of this node, no series")
    elif not got:
        dc.bad(tag, "empty result")
    elif set(got) != set(want):
        dc.bad(tag, f"series {sorted(got)} but the records give {sorted(want)}")
    else:
        wrong = [f"{k}: {got[k] * scale:.9g} != {want[k]}" for k in sorted(want)
                 if not dc.close(got[k] * scale, want[k])]
        if wrong:
            dc.bad(tag, "; ".join(wrong[:4]))
        else:
            dc.ok(tag, ", ".join(f"{'/'.join(x or '(none)' for x in k) or 'all'}={want[k]:g}"
                                 for k in sorted(want))[:300])


# The analyzer's top-N gauges: metric -> (_path, the labels, the label values of a record
# (None: not counted)). A client key is its address and, when the record names its pod,
# "namespace/pod" (analyzer/summary/summary_l7.c).
def client_key(r):
    pod = f'{r["orig_k8s_namespace"]}/{r["orig_k8s_pod"]}' if r.get("orig_k8s_pod") else ""
    return (r.get("id_orig_h", ""), pod)


def nonempty(v):
    return (str(v),) if v not in (None, "") else None


TOPS = {
    "pano_tls_top_sni": ("ssl", ["sni"], lambda r: nonempty(r.get("server_name"))),
    "pano_tls_top_version": ("ssl", ["version"], lambda r: nonempty(r.get("version"))),
    "pano_tls_top_ja4": ("ssl", ["ja4"], lambda r: nonempty(r.get("ja4"))),
    "pano_dns_top_dot_client": ("ssl", ["client", "pod"],
                                lambda r: client_key(r) if r.get("dot") is True else None),
    "pano_dns_top_doh_client": ("ssl", ["client", "pod"],
                                lambda r: client_key(r) if r.get("doh") is True else None),
    "pano_http_top_host": ("http", ["host"], lambda r: nonempty(r.get("host"))),
    "pano_http_top_status": ("http", ["status"], lambda r: nonempty(r.get("status_code"))),
}
QUANT_ALPHA = 0.01  # analyzer/summary/sketch_quantile.h
JSON_SECS = 1e-6  # a record's latency is written in microseconds


def status_class(r):
    s = r.get("status_code")
    return f"{s // 100}xx" if isinstance(s, int) and 100 <= s <= 599 else "other"


def check_analyzer(prom, expr, tag, recs, recs2, win):
    """recs: every ssl and http record the analyzer made; recs2: those of the second phase."""
    t1, t2 = win
    rng = round((t2 - t1) * 1000)
    e = expr.replace("$__rate_interval", f"{rng}ms").replace("$__range", f"{rng}ms")
    data = prom.query(e, t2)
    m = re.search(r"\b(pano_\w+)", e)
    metric = m.group(1) if m else ""
    if metric in TOPS:
        path, labels, key = TOPS[metric]
        want = collections.Counter(k for k in (key(r) for r in recs if r["_path"] == path) if k)
        n = int(re.search(r"topk\((\d+),", e).group(1)) if "topk(" in e else None
        if n is not None and len(want) > n:
            dc.bad(tag, f"{len(want)} items, more than topk's {n}: the test must make fewer")
            return
        got = series(data, labels)
        if not want:
            dc.bad(tag, "the traffic made nothing this table counts: the test must")
        elif got != {k: float(v) for k, v in want.items()}:
            dc.bad(tag, f"{sorted(got.items())[:6]}, the records give {sorted(want.items())[:6]}")
        else:
            dc.ok(tag, ", ".join(f"{'/'.join(x for x in k if x)}={v}" for k, v in sorted(want.items()))[:300])
    elif metric == "pano_http_responses_status_total":
        want = collections.Counter(status_class(r) for r in recs2
                                   if r["_path"] == "http" and "status_code" in r)
        for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "other"):
            want.setdefault(c, 0)
        dc.check_counts(tag, dc.series_map(data, "class"), want, rng / 1000)
    elif metric == "pano_http_latency_seconds":
        lat = sorted(float(r["latency"]) for r in recs if r["_path"] == "http" and "latency" in r)
        got = {float(s["metric"]["quantile"]): float(s["value"][1]) for s in data["result"]}
        if not lat or sorted(got) != [0.5, 0.9, 0.95, 0.99]:
            dc.bad(tag, f"quantiles {sorted(got)}, {len(lat)} latencies in the records")
            return
        wrong = []
        for q, v in sorted(got.items()):
            x = lat[math.floor(q * (len(lat) - 1))]
            if abs(v - x) > QUANT_ALPHA * x + JSON_SECS:
                wrong.append(f"p{q * 100:g} {v:.9g} s, the records' {x:.9g} s")
        if wrong:
            dc.bad(tag, "; ".join(wrong))
        else:
            dc.ok(tag, ", ".join(f"p{q * 100:g} {v * 1e3:.3f} ms" for q, v in sorted(got.items()))
                  + f" over {len(lat)} requests, each within 1% of the records'")
    else:
        dc.bad(tag, "no expectation known for this expression: teach dashboard_check_l7.py")


# The fields of a record a sent line fixes (all of its keys but the phase).
def projection(line, r):
    return tuple((k, json.dumps(r.get(k))) for k in sorted(line) if k != "phase")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--sent", required=True)
    ap.add_argument("--published", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--phase2", type=float, required=True)
    ap.add_argument("--nodes", required=True)
    a = ap.parse_args()
    nodes = a.nodes.split(",")
    prom = dc.Prom(a.prom)

    # 1a. Kafka and the consumer lost, changed and duplicated nothing: the lines read back are
    # the ssl and http lines the analyzer wrote, byte for byte.
    def l7_lines(path):
        for line in open(path):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("_path") in ("ssl", "http") and r.get("node") in nodes:
                yield line
    pub = collections.Counter(l7_lines(a.published))
    got = collections.Counter(l7_lines(a.records))
    if pub == got and pub:
        dc.ok("downstream_l7_kafka_exactly_once", f"{sum(got.values())} records")
    else:
        dc.bad("downstream_l7_kafka_exactly_once",
               f"{sum((pub - got).values())} written not read back, "
               f"{sum((got - pub).values())} read back not written")
    recs = [json.loads(l) for l in got.elements()]
    recs2 = [r for r in recs if float(r["ts"]) >= a.phase2]

    # 1b. The records are the traffic: every connection and request the clients made is one
    # record with the fields the client saw, and there is no other.
    sent = [json.loads(l) for l in open(a.sent) if l.strip()]
    want = collections.Counter(projection(s, s) for s in sent)
    keys = {s["_path"]: s for s in sent}
    have = collections.Counter(projection(keys[r["_path"]], r) for r in recs
                               if r["_path"] in keys)
    if want == have:
        dc.ok("downstream_l7_records_are_the_traffic",
              f"{len(recs)} records = {len(sent)} connections and requests")
    else:
        diff = [f"{dict(k)}: made {want[k]}, records {have[k]}"
                for k in sorted(set(want) | set(have), key=str) if want[k] != have[k]]
        dc.bad("downstream_l7_records_are_the_traffic", "; ".join(diff[:4]))
    n2 = sum(1 for s in sent if s["phase"] == 2)
    if len(recs2) == n2:
        dc.ok("downstream_l7_phase2_records", f"{n2}")
    else:
        dc.bad("downstream_l7_phase2_records", f"{len(recs2)} records after P, {n2} made")

    wins = {}
    for job in ("flowlogs-pipeline-l7", "pano-analyzer"):
        ts = prom.job_times(job)
        before = [t for t in ts if t < a.phase2]
        if not before or ts[-1] <= a.phase2:
            dc.bad(f"downstream_l7_scrapes_{job}", f"no samples around the second phase: {ts[-5:]}")
            return 1
        wins[job] = (before[-1], ts[-1])

    # 2 and 3. Every dashboard expression.
    dash = json.load(open(a.dashboard))
    for p in dash["panels"]:
        for t in p.get("targets", []):
            title, expr = f'{p["title"]}/{t.get("refId", "?")}', t["expr"]
            tag = f"dashboard_l7[{title}]"
            if "pano_flp_" not in expr:
                check_analyzer(prom, expr, tag, recs, recs2, wins["pano-analyzer"])
                continue
            for ns in [[n] for n in nodes] + [nodes]:
                node_re = "|".join(ns)
                check_flp(prom, expr.replace("$node", node_re), f"{tag} node={node_re}",
                          [r for r in recs2 if r.get("node") in ns], wins["flowlogs-pipeline-l7"])
    return 1 if dc.failed else 0


if __name__ == "__main__":
    sys.exit(main())
