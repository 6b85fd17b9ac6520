#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""dashboard_check_l7.py - every PromQL expression of the TLS and HTTP dashboard
(deploy/grafana/pano-l7-dashboard.json), evaluated through Prometheus' HTTP API after known
ssl and http records went through Kafka and flowlogs-pipeline, against what those records give.

Inputs: the dashboard; sent.jsonl (every record line the test published, in order); records.jsonl
(what an independent consumer read back from topics pano-ssl and pano-http); P, the wall-clock
second at which the second phase started (its records have ts >= P). The first phase published
one record of each kind, so that every series exists before the second.

Windows are made exact as in dashboard_check.py (whose helpers this uses): T1 is the last scrape
of the FLP job before P, T2 its last, and rate()/increase() ranges are T2 - T1, so a rate times
the range is exactly the number of second-phase records. $node is set to each node and to all.
The analyzer's own panels (pano_tls_*, pano_http_*, pano_dns_*) need the analyzer to have
made the records; with --analyzer-made-records absent they are skipped, saying why.

Prints one PASS/FAIL/SKIP line per check; exits 1 if any failed.
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
            dc.ok(tag, ", ".join(f"{'/'.join(k) or 'all'}={want[k]:g}" for k in sorted(want))[:300])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--sent", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--phase2", type=float, required=True)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--analyzer-made-records", action="store_true")
    a = ap.parse_args()
    nodes = a.nodes.split(",")
    prom = dc.Prom(a.prom)

    # 1. Kafka and the consumer lost, changed and duplicated nothing: the lines read back are
    # the lines published, byte for byte.
    sent = collections.Counter(l.rstrip("\n") for l in open(a.sent) if l.strip())
    back = [l.rstrip("\n") for l in open(a.records) if l.strip()]
    got = collections.Counter(l for l in back if json.loads(l).get("node") in nodes)
    if sent == got:
        dc.ok("downstream_l7_records_exactly_once", f"{sum(got.values())} records")
    else:
        dc.bad("downstream_l7_records_exactly_once",
               f"{sum((sent - got).values())} published not read back, "
               f"{sum((got - sent).values())} read back not published")
    recs = [json.loads(l) for l in got.elements()]
    recs2 = [r for r in recs if float(r["ts"]) >= a.phase2]

    ts = prom.job_times("flowlogs-pipeline-l7")
    before = [t for t in ts if t < a.phase2]
    if not before or ts[-1] <= a.phase2:
        dc.bad("downstream_l7_scrapes", f"no samples around the second phase: {ts[-5:]}")
        return 1
    win = (before[-1], ts[-1])

    dash = json.load(open(a.dashboard))
    for p in dash["panels"]:
        for t in p.get("targets", []):
            title, expr = f'{p["title"]}/{t.get("refId", "?")}', t["expr"]
            tag = f"dashboard_l7[{title}]"
            if "pano_flp_" not in expr:
                if a.analyzer_made_records:
                    dc.bad(tag, "no expectation known yet for the analyzer's own panels: "
                           "teach dashboard_check_l7.py")
                else:
                    print(f"SKIP {tag}: the records went into Kafka directly, "
                          "the analyzer summarised none")
                continue
            for ns in [[n] for n in nodes] + [nodes]:
                node_re = "|".join(ns)
                check_flp(prom, expr.replace("$node", node_re), f"{tag} node={node_re}",
                          [r for r in recs2 if r.get("node") in ns], win)
    return 1 if dc.failed else 0


if __name__ == "__main__":
    sys.exit(main())
