#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo-pipeline.sh - what `make demo-pipeline` runs: the whole PANO chain on this machine, every
# part real, in network namespaces:
#
#   client ns --dnsperf + kdig loop--> knot in the server ns (NOERROR, NXDOMAIN, SERVFAIL)
#   node ns: pano-agent on the server's pod veth --protobuf--> pano-analyzer --> Apache Kafka
#            --> flowlogs-pipeline --> Prometheus (scraping FLP, the analyzer and the agent)
#
# Kafka is scripts/kafka.sh's broker (its data in the work directory), FLP is scripts/flp.sh's
# build (the first run builds it: a few minutes), both with the configs from deploy/. At the end
# (the duration, or Ctrl-C) the dashboard's main panels (deploy/grafana/pano-dns-dashboard.json,
# evaluated by Prometheus) are printed as a table and drawn as a PNG chart; then everything it
# made is removed.
#
# Usage: scripts/demo-pipeline.sh [--duration SECONDS] [--qps N]
# Environment: DEMO_SECONDS (same as --duration; 0 = until Ctrl-C), DEMO_QPS (dnsperf rate,
# default 50), DEMO_BUILD=0 to skip install-deps and make, PANO_BUILD (build directory),
# DEMO_OUT (where the chart and table go; default $PANO_BUILD/demo-pipeline).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DEMO_SECONDS:-0}
QPS=${DEMO_QPS:-50}
SCRAPE=2	# Prometheus' scrape interval here (seconds); rates are over 4 of them

. "$ROOT/scripts/demo-setup.sh"
demo_setup demo-pipeline demo-pipeline "$@"
OUT=${DEMO_OUT:-$PANO_BUILD/demo-pipeline}
"$ROOT/scripts/flp.sh" build >/dev/null || exit 1

. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"
. "$ROOT/tests/lib/e2e.sh"
. "$ROOT/tests/lib/kafka.sh"
. "$ROOT/tests/lib/downstream.sh"
T_PREFIX=pp$$	# namespace and interface names of this demo
NODE=demo-node
DNS_BROKEN_ZONE=broken.pano.test	# knot answers SERVFAIL for every name in it

say() { printf '\033[1mdemo-pipeline:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# ---- the stop path: Ctrl-C, TERM or the end of the duration --------------------------------
STOPPING=0
demo_stop() {
	[ "$STOPPING" = 1 ] && return
	STOPPING=1
	trap '' INT
	echo >&2
	say "stopping the load; the last records reach Prometheus"
	[ -n "${LOAD_PID:-}" ] && bg_stop "$LOAD_PID" INT 5
	[ -n "${DIG_PID:-}" ] && bg_stop "$DIG_PID" TERM 3
	if [ -n "${T0:-}" ]; then
		sleep $((3 * SCRAPE))
		report
	fi
	exit 0
}
trap demo_stop INT TERM

report() {
	local t1
	t1=$(date +%s.%N)
	mkdir -p "$OUT"
	ip netns exec "$NS_NODE" /usr/bin/python3 "$ROOT/scripts/dashboard-report.py" \
		--prom "http://$DS_PROM" --node "$NODE" --start "$T0" --end "$t1" \
		--rate-interval $((4 * SCRAPE))s --step "$SCRAPE" --png "$OUT/dashboard.png" |
		tee "$OUT/dashboard.txt"
	[ -n "${LOAD_LOG:-}" ] && [ -f "$LOAD_LOG" ] &&
		echo "dnsperf: sent $(dnsperf_sent "$LOAD_LOG"), completed $(dnsperf_completed "$LOAD_LOG")"
	echo "records delivered to Kafka: $(ds_query "$NS_NODE" 'sum(pano_analyzer_sink_records_out_total{sink="kafka"})'), " \
		"counted by flowlogs-pipeline: $(ds_query "$NS_NODE" "sum(pano_flp_dns_transactions_total{node=\"$NODE\"})")"
	echo "table: $OUT/dashboard.txt"
}

# ---- set up --------------------------------------------------------------------------------
say "work directory $T_TMP, namespaces ${T_PREFIX}node/${T_PREFIX}cli/${T_PREFIX}srv"
netns_up || die "could not create the namespaces"
dns_up || die "knot did not start"
ip -n "$NS_NODE" link set lo up
say "knot serves pano.test on $SRV4 and $SRV6; names under $DNS_BROKEN_ZONE get SERVFAIL"
# A broker of its own, in the node namespace (files in the work directory).
kafka_private "$T_TMP/kafka" "$NS_NODE" || die "no Kafka broker (log: $T_TMP/kafka.err)"
DS_BROKER=$KAFKA_PRIVATE
say "Kafka $("$ROOT/scripts/kafka.sh" version) at $DS_BROKER"
# Agent and analyzer in sessions of their own (setsid, same pid), like FLP and Prometheus: the
# Ctrl-C that ends the demo stops the load, and the last records still flow to Prometheus.
bg_start AN_PID "$T_TMP/analyzer.log" "$NS_NODE" setsid "$PANO_ANALYZER" --listen 127.0.0.1:57013 \
	--kafka-brokers "$DS_BROKER" --metrics 127.0.0.1:9103 --stats -v
wait_for 10 grep -q "listening for agents" "$T_TMP/analyzer.log" ||
	die "pano-analyzer did not start: $(tail -n 3 "$T_TMP/analyzer.log")"
bg_start AGENT_PID "$T_TMP/agent.log" "$NS_NODE" setsid "$PANO_AGENT" -i "$IF_SRV" \
	--connect 127.0.0.1:57013 --node "$NODE" --metrics 127.0.0.1:9102
wait_for 15 grep -q "agent $NODE connected" "$T_TMP/analyzer.log" ||
	die "pano-agent did not connect: $(tail -n 3 "$T_TMP/agent.log")"
say "pano-agent captures $IF_SRV (node $NODE) and streams to pano-analyzer, which publishes to Kafka"
ds_flp "$NS_NODE" || die "flowlogs-pipeline did not start (log: $T_TMP/flp.log)"
ds_prometheus "$NS_NODE" "$SCRAPE" flowlogs-pipeline=127.0.0.1:9401 pano-analyzer=127.0.0.1:9103 \
	pano-agent=127.0.0.1:9102 || die "prometheus did not start (log: $T_TMP/prometheus.log)"
ds_flp_consuming "$NS_NODE" || die "flowlogs-pipeline does not consume the topic"
say "flowlogs-pipeline $("$ROOT/scripts/flp.sh" version) consumes pano-dns; Prometheus scrapes it, the analyzer and the agent every ${SCRAPE}s"

# ---- client load ---------------------------------------------------------------------------
dns_querylist "$T_TMP/queries.txt"
for i in 1 2; do echo "host$i.$DNS_BROKEN_ZONE A"; done >>"$T_TMP/queries.txt"
LOAD_LOG=$T_TMP/dnsperf.txt
T0=$(date +%s.%N)
bg_start LOAD_PID "$LOAD_LOG" "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -Q "$QPS" \
	-c 2 -l "$([ "$DURATION" -gt 0 ] && echo "$DURATION" || echo 86400)"
dig_loop() {	# TCP and IPv6 queries now and then; exits 0 on TERM
	trap 'exit 0' TERM
	while :; do
		kdig +timeout=1 +retry=0 +tcp @"$SRV4" pano.test MX
		kdig +timeout=1 +retry=0 @"$SRV6" www.pano.test AAAA
		sleep 1
	done
}
bg_start DIG_PID "$T_TMP/dig.log" "$NS_CLI" bash -c "$(declare -f dig_loop); SRV4=$SRV4 SRV6=$SRV6 dig_loop"
say "dnsperf sends $QPS queries/s$([ "$DURATION" -gt 0 ] && echo " for ${DURATION}s" || echo "; Ctrl-C ends the demo with the dashboard's panels")"

end=$((SECONDS + DURATION))
while [ "$DURATION" -eq 0 ] || [ "$SECONDS" -lt "$end" ]; do sleep 1; done
demo_stop
