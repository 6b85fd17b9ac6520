#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""dashboard-report.py - the PANO DNS dashboard's main panels without Grafana: their PromQL
(from deploy/grafana/pano-dns-dashboard.json, variables set) evaluated through Prometheus'
HTTP API, printed as a table and drawn as a PNG chart with gnuplot. `make demo-pipeline`
(scripts/demo-pipeline.sh) ends with it.

  dashboard-report.py --prom http://127.0.0.1:9090 --node NODE --start T0 --end T1 \\
      --rate-interval 8s --step 2 --png out.png [--dashboard FILE]

The table holds every flowlogs-pipeline panel over the whole run, T0 to T1 (rates are the
run's averages, at most TOP rows a query); the chart plots query rate by rcode, query rate by
qtype and the latency quantiles from T0 to T1, with rates over --rate-interval (at most TOP
series a panel, the largest).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = ["Rcode mix", "Query rate by qtype (flowlogs-pipeline)", "Latency quantiles"]


def api(prom, path, **params):
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{prom}/api/v1/{path}", data, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]["result"]


def subst(expr, node, rate, rng):
    return (expr.replace("$node", node).replace("$__rate_interval", rate)
            .replace("$__range", rng))


def legend(fmt, metric):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), "") or "-", fmt)


def fmt_value(v, unit):
    if unit == "s":
        return f"{v * 1e3:.3f} ms" if v == v else "-"
    if unit == "reqps":
        return f"{v:.2f}/s"
    return f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prom", required=True)
    ap.add_argument("--dashboard", default=os.path.join(ROOT, "deploy/grafana/pano-dns-dashboard.json"))
    ap.add_argument("--node", required=True, help="value of $node (a regex: a|b)")
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--rate-interval", default="8s")
    ap.add_argument("--step", type=float, default=2)
    ap.add_argument("--png", required=True)
    ap.add_argument("--top", type=int, default=8)
    a = ap.parse_args()
    prom = a.prom.rstrip("/")
    panels = [p for p in json.load(open(a.dashboard))["panels"]
              if any("pano_flp_" in t["expr"] for t in p["targets"])]
    rng = f"{max(1, round(a.end - a.start))}s"

    # The table: each panel's series over the whole run.
    rows = []
    for p in panels:
        unit = p["fieldConfig"]["defaults"].get("unit", "")
        for t in p["targets"]:
            expr = subst(t["expr"], a.node, rng, rng)
            res = api(prom, "query", query=expr, time=f"{a.end:.3f}")
            res.sort(key=lambda s: -float(s["value"][1]))
            for s in res[:a.top]:
                rows.append((p["title"], legend(t.get("legendFormat", ""), s["metric"]),
                             fmt_value(float(s["value"][1]), unit)))
            if len(res) > a.top:
                rows.append((p["title"], f"({len(res) - a.top} more)", ""))
            if not res:
                rows.append((p["title"], legend(t.get("legendFormat", ""), {}), "(no data)"))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"PANO DNS dashboard, node {a.node}, over the whole run ({rng}; Prometheus "
          f"extrapolates counts to the range's edges)")
    last = None
    for title, name, value in rows:
        print(f"  {title if title != last else '':<{w0}}  {name:<{w1}}  {value:>12}")
        last = title

    # The chart: three panels over the run, one gnuplot data block per series.
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for title in CHART:
            p = next((p for p in panels if p["title"] == title), None)
            if p is None:
                continue
            series, means = [], []
            for t in p["targets"]:
                expr = subst(t["expr"], a.node, a.rate_interval, rng)
                res = api(prom, "query_range", query=expr, start=f"{a.start:.3f}",
                          end=f"{a.end:.3f}", step=str(a.step))
                for s in res:
                    path = os.path.join(tmp, f"d{len(plots)}_{len(series)}.dat")
                    scale = 1e3 if p["fieldConfig"]["defaults"].get("unit") == "s" else 1
                    vals = [(float(ts) - a.start, float(v) * scale) for ts, v in s["values"]
                            if v not in ("NaN", "+Inf", "-Inf")]
                    with open(path, "w") as f:
                        f.writelines(f"{x:.3f} {y}\n" for x, y in vals)
                    series.append((path, legend(t.get("legendFormat", ""), s["metric"])))
                    means.append(sum(y for _, y in vals) / len(vals) if vals else 0)
            if "quantile" not in title.lower():  # the largest TOP series
                keep = sorted(range(len(series)), key=lambda i: -means[i])[:a.top]
                series = [series[i] for i in sorted(keep)]
            unit = "ms" if p["fieldConfig"]["defaults"].get("unit") == "s" else "queries/s"
            plots.append((title, unit, series))
        gp = [f"set terminal pngcairo size 1000,{280 * max(1, len(plots))} font 'sans,10'",
              f"set output '{a.png}'", f"set multiplot layout {max(1, len(plots))},1",
              "set key outside right", "set grid", "set xlabel 'seconds since the load started'",
              f"set xrange [0:{a.end - a.start:.0f}]"]
        for title, unit, series in plots:
            gp.append(f"set title '{title} (node {a.node})' noenhanced")
            gp.append(f"set ylabel '{unit}'")
            gp.append("set logscale y" if unit == "ms" else "unset logscale y")
            if series:
                gp.append("plot " + ", ".join(f"'{d}' using 1:2 with lines lw 2 title '{n}' noenhanced"
                                              for d, n in series))
            else:
                gp.append("plot NaN title 'no data'")
        gp.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(gp), text=True, capture_output=True)
        if r.returncode != 0:
            print(f"dashboard-report: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
            return 1
    print(f"chart: {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
