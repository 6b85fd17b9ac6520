#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# gen-dashboard.py: writes the Grafana dashboards from the panel lists below, so panels stay
# uniform. Run it after editing:
#   deploy/grafana/gen-dashboard.py > deploy/grafana/pano-dns-dashboard.json
#   deploy/grafana/gen-dashboard.py l7 > deploy/grafana/pano-l7-dashboard.json
# Metric names: pano_flp_dns_* come from flowlogs-pipeline (../flowlogs-pipeline/
# pano-kafka-dns.yaml), pano_flp_tls_* and pano_flp_http_* from pano-kafka-ssl-http.yaml;
# pano_agent_*, pano_analyzer_*, pano_dns_*, pano_tls_* and pano_http_* from the PANO binaries'
# /metrics.
import json
import sys

R = "$__rate_interval"
RANGE = "$__range"
# The label selector of every flowlogs-pipeline query: one matcher per dashboard variable
# (VARS below), so a new label (a namespace, once records carry one) is one more entry.
VARS = ["node"]
SEL = ", ".join(f'{v}=~"${v}"' for v in VARS)
LAT = "pano_flp_dns_latency_centiseconds"

# (title, kind, unit, [(expr, legend)])
PANELS = [
    ("Query rate by qtype (flowlogs-pipeline)", "timeseries", "reqps",
     [(f"sum by (qtype_name) (rate(pano_flp_dns_transactions_total{{{SEL}}}[{R}]))", "{{qtype_name}}")]),
    ("Rcode mix", "timeseries", "reqps",
     [(f"sum by (rcode_name) (rate(pano_flp_dns_transactions_total{{{SEL}}}[{R}]))", "{{rcode_name}}")]),
    # PANO's latency (every answered transaction); the histogram counts hundredths of a
    # second (see the flowlogs-pipeline config), hence the / 100.
    ("Latency quantiles", "timeseries", "s",
     [(f"histogram_quantile({q}, sum by (le) (rate({LAT}_bucket{{{SEL}}}[{R}]))) / 100", f"p{int(q*100)}")
      for q in (0.5, 0.9, 0.99)] +
     [(f"sum(rate({LAT}_sum{{{SEL}}}[{R}])) / sum(rate({LAT}_count{{{SEL}}}[{R}])) / 100", "mean")]),
    ("Top queried names", "bargauge", "reqps",
     [(f"topk(10, sum by (query) (rate(pano_flp_dns_queries_by_name_total{{{SEL}}}[{R}])))", "{{query}}")]),
    ("NXDOMAIN names (time range)", "bargauge", "short",
     [(f"topk(10, sum by (query) (increase(pano_flp_dns_nxdomain_total{{{SEL}}}[{RANGE}])))", "{{query}}")]),
    ("SERVFAIL names (time range)", "bargauge", "short",
     [(f"topk(10, sum by (query) (increase(pano_flp_dns_servfail_total{{{SEL}}}[{RANGE}])))", "{{query}}")]),
    ("Transports", "timeseries", "reqps",
     [(f"sum by (proto) (rate(pano_flp_dns_transactions_total{{{SEL}}}[{R}]))", "{{proto}}")]),
    # Which pods ask (PANO names the pods on its node: orig_k8s_*), and which get errors.
    ("Transactions by client pod", "timeseries", "reqps",
     [(f"topk(10, sum by (orig_k8s_pod) (rate(pano_flp_dns_transactions_total{{{SEL}}}[{R}])))",
       "{{orig_k8s_pod}}")]),
    ("NXDOMAIN by client pod (time range)", "bargauge", "short",
     [(f'topk(10, sum by (orig_k8s_pod) (increase(pano_flp_dns_transactions_total{{{SEL}, rcode_name="NXDOMAIN"}}[{RANGE}])))',
       "{{orig_k8s_pod}}")]),
    ("SERVFAIL by client pod (time range)", "bargauge", "short",
     [(f'topk(10, sum by (orig_k8s_pod) (increase(pano_flp_dns_transactions_total{{{SEL}, rcode_name="SERVFAIL"}}[{RANGE}])))',
       "{{orig_k8s_pod}}")]),
    ("Transactions by server", "timeseries", "reqps",
     [(f"topk(10, sum by (id_resp_h) (rate(pano_flp_dns_transactions_by_server_total{{{SEL}}}[{R}])))", "{{id_resp_h}}")]),
    ("Loss: agent ring buffer and clients", "timeseries", "pps",
     [(f"sum(rate(pano_agent_bpf_ring_full_drops_total[{R}]))", "ring full"),
      (f"sum(rate(pano_agent_pcap_queue_full_drops_total[{R}]))", "PCAP-over-TCP client drops"),
      (f"sum(rate(pano_proto_out_queue_full_total[{R}])) + sum(rate(pano_proto_out_lost_in_flight_total[{R}]))",
       "protobuf stream drops"),
      (f"sum(rate(pano_analyzer_upstream_ring_drops_total[{R}]))", "ring drops reported upstream")]),
    ("Loss: analyzer sinks", "timeseries", "pps",
     [(f"sum by (sink) (rate(pano_analyzer_sink_records_dropped_total[{R}]))", "{{sink}}"),
      (f"sum(rate(pano_analyzer_kafka_dropped_queue_full_total[{R}]))", "kafka queue full"),
      (f"sum(rate(pano_analyzer_kafka_delivery_failed_total[{R}]))", "kafka delivery failed")]),
    # The analyzer's own summaries (pktvisor-like), straight from its /metrics.
    ("Analyzer: replies by rcode", "timeseries", "reqps",
     [(f"sum by (rcode) (rate(pano_dns_replies_rcode_total[{R}]))", "{{rcode}}")]),
    ("Analyzer: transaction time quantiles", "timeseries", "s",
     [("max by (quantile) (pano_dns_transaction_seconds)", "p{{quantile}}")]),
    ("Analyzer: top names (current windows)", "bargauge", "short",
     [("topk(10, pano_dns_top_qname)", "{{qname}}")]),
    ("Analyzer: top NXDOMAIN names", "bargauge", "short",
     [("topk(10, pano_dns_top_nxdomain)", "{{qname}}")]),
    ("Analyzer: unique names, clients, servers", "timeseries", "short",
     [("pano_dns_unique_qnames", "names"), ("pano_dns_unique_clients", "clients"),
      ("pano_dns_unique_servers", "servers")]),
]

HLAT = "pano_flp_http_latency_seconds"
# The TLS and HTTP dashboard (records of topics pano-ssl and pano-http).
L7_PANELS = [
    ("TLS connections by version (flowlogs-pipeline)", "timeseries", "cps",
     [(f"sum by (version) (rate(pano_flp_tls_connections_total{{{SEL}}}[{R}]))", "{{version}}")]),
    ("TLS handshakes completed or not", "timeseries", "cps",
     [(f"sum by (established) (rate(pano_flp_tls_connections_total{{{SEL}}}[{R}]))",
       "established={{established}}")]),
    ("Top server names (SNI)", "bargauge", "cps",
     [(f"topk(10, sum by (server_name) (rate(pano_flp_tls_connections_by_sni_total{{{SEL}}}[{R}])))",
       "{{server_name}}")]),
    ("Top JA4 client fingerprints", "bargauge", "cps",
     [(f"topk(10, sum by (ja4) (rate(pano_flp_tls_connections_by_ja4_total{{{SEL}}}[{R}])))", "{{ja4}}")]),
    ("Negotiated ALPN", "timeseries", "cps",
     [(f"sum by (next_protocol) (rate(pano_flp_tls_connections_total{{{SEL}}}[{R}]))", "{{next_protocol}}")]),
    ("Handshakes not completed by SNI (time range)", "bargauge", "short",
     [(f"topk(10, sum by (server_name) (increase(pano_flp_tls_not_established_total{{{SEL}}}[{RANGE}])))",
       "{{server_name}}")]),
    # Who bypasses the node's resolver: DNS over TLS (port 853) and over HTTPS (a known DoH
    # resolver's SNI), per client address and the pod PANO named.
    ("Encrypted DNS: DoT clients (time range)", "bargauge", "short",
     [(f"topk(10, sum by (id_orig_h, orig_k8s_pod) (increase(pano_flp_tls_dot_connections_total{{{SEL}}}[{RANGE}])))",
       "{{id_orig_h}} {{orig_k8s_pod}}")]),
    ("Encrypted DNS: DoH clients (time range)", "bargauge", "short",
     [(f"topk(10, sum by (id_orig_h, orig_k8s_pod) (increase(pano_flp_tls_doh_connections_total{{{SEL}}}[{RANGE}])))",
       "{{id_orig_h}} {{orig_k8s_pod}}")]),
    ("HTTP requests by status code", "timeseries", "reqps",
     [(f"sum by (status_code) (rate(pano_flp_http_requests_total{{{SEL}}}[{R}]))", "{{status_code}}")]),
    # No response: an empty status_code, so no class.
    ("HTTP status classes", "timeseries", "reqps",
     [(f'sum by (class) (label_replace(rate(pano_flp_http_requests_total{{{SEL}}}[{R}]), "class", "${{1}}xx", "status_code", "([1-5])[0-9][0-9]"))',
       "{{class}}")]),
    ("HTTP requests by method", "timeseries", "reqps",
     [(f"sum by (method) (rate(pano_flp_http_requests_total{{{SEL}}}[{R}]))", "{{method}}")]),
    ("Top HTTP hosts", "bargauge", "reqps",
     [(f"topk(10, sum by (host) (rate(pano_flp_http_requests_by_host_total{{{SEL}}}[{R}])))", "{{host}}")]),
    ("HTTP 5xx by host (time range)", "bargauge", "short",
     [(f"topk(10, sum by (host) (increase(pano_flp_http_server_errors_total{{{SEL}}}[{RANGE}])))", "{{host}}")]),
    ("HTTP latency quantiles", "timeseries", "s",
     [(f"histogram_quantile({q}, sum by (le) (rate({HLAT}_bucket{{{SEL}}}[{R}])))", f"p{int(q*100)}")
      for q in (0.5, 0.9, 0.99)] +
     [(f"sum(rate({HLAT}_sum{{{SEL}}}[{R}])) / sum(rate({HLAT}_count{{{SEL}}}[{R}]))", "mean")]),
    ("HTTP response body bytes by host", "timeseries", "Bps",
     [(f"topk(10, sum by (host) (rate(pano_flp_http_response_body_bytes_total{{{SEL}}}[{R}])))", "{{host}}")]),
    # The analyzer's own summaries (pktvisor-like), straight from its /metrics.
    ("Analyzer: TLS top server names (current windows)", "bargauge", "short",
     [("topk(10, pano_tls_top_sni)", "{{sni}}")]),
    ("Analyzer: TLS versions and JA4s (current windows)", "bargauge", "short",
     [("pano_tls_top_version", "{{version}}"), ("topk(10, pano_tls_top_ja4)", "{{ja4}}")]),
    ("Analyzer: encrypted DNS clients (current windows)", "bargauge", "short",
     [("topk(10, pano_dns_top_dot_client)", "DoT {{client}} {{pod}}"),
      ("topk(10, pano_dns_top_doh_client)", "DoH {{client}} {{pod}}")]),
    ("Analyzer: HTTP responses by status class", "timeseries", "reqps",
     [(f"sum by (class) (rate(pano_http_responses_status_total[{R}]))", "{{class}}")]),
    ("Analyzer: HTTP latency quantiles", "timeseries", "s",
     [("max by (quantile) (pano_http_latency_seconds)", "p{{quantile}}")]),
    ("Analyzer: top HTTP hosts and status codes (current windows)", "bargauge", "short",
     [("topk(10, pano_http_top_host)", "{{host}}"), ("topk(10, pano_http_top_status)", "{{status}}")]),
]


def panel(i, title, kind, unit, targets):
    return {
        "id": i + 1,
        "title": title,
        "type": kind,
        "datasource": {"type": "prometheus", "uid": "pano-prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [{"refId": chr(65 + j), "expr": e, "legendFormat": l}
                    for j, (e, l) in enumerate(targets)],
    }




def dashboard(uid, title, tags, var_metric, panels):
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {"list": [{
            "name": v, "label": v, "type": "query",
            "datasource": {"type": "prometheus", "uid": "pano-prometheus"},
            "query": f"label_values({var_metric}, {v})",
            "includeAll": True, "multi": True, "allValue": ".*",
            "current": {"text": "All", "value": "$__all"}, "refresh": 2,
        } for v in VARS]},
        "panels": [panel(i, *p) for i, p in enumerate(panels)],
    }


if sys.argv[1:] == ["l7"]:
    dash = dashboard("pano-l7", "PANO TLS and HTTP", ["pano", "tls", "http"],
                     "pano_flp_tls_connections_total", L7_PANELS)
elif sys.argv[1:] in ([], ["dns"]):
    dash = dashboard("pano-dns", "PANO DNS", ["pano", "dns"], "pano_flp_dns_transactions_total",
                     PANELS)
else:
    sys.exit("usage: gen-dashboard.py [dns|l7]")
print(json.dumps(dash, indent=2))
