#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_downstream.sh - the dashboards proven on data. Known DNS traffic goes through the whole
# chain, every part real:
#
#   two clients --> knot            (namespaces; NOERROR, NODATA, NXDOMAIN, SERVFAIL, UDP/TCP, v4/v6)
#   pano-agent per client port (nodes A and B) --protobuf--> pano-analyzer --> Apache Kafka
#   --> flowlogs-pipeline (deploy/ config, only the broker changed) --> Prometheus (deploy/
#   config, targets and a 1 s interval) scraping FLP, the analyzer and both agents
#
# Then: kcat reads the topic back (every query made is one record, once); FLP's counters per
# node equal the queries made (transactions, NXDOMAIN, SERVFAIL); every PromQL expression of
# deploy/grafana/pano-dns-dashboard.json, with its variables set, is evaluated through
# Prometheus' HTTP API, is not empty and equals what the traffic gives exactly (counts and
# rates over an exact window) or within the histogram's resolution (latency quantiles).
# tests/lib/dashboard_check.py holds those expectations.
#
# TLS and HTTP: records of both kinds go into topics pano-ssl and pano-http (l7_source below,
# the one place that makes them), a second flowlogs-pipeline runs deploy/flowlogs-pipeline/
# pano-kafka-ssl-http.yaml, and every query of deploy/grafana/pano-l7-dashboard.json is
# checked against the records read back (tests/lib/dashboard_check_l7.py).
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"
. "$PANO_ROOT/tests/lib/kafka.sh"
. "$PANO_ROOT/tests/lib/downstream.sh"

need_root downstream
need_cmd downstream knotd kdig kcat prometheus promtool socat nsenter jq curl go java
L7_RECORDS=$PANO_BUILD/tests/l7_records
for b in "$PANO_AGENT" "$PANO_ANALYZER" "$L7_RECORDS"; do [ -x "$b" ] || { fail "downstream: $b is not built"; t_done; }; done

"$PANO_ROOT/scripts/flp.sh" build >/dev/null 2>"$T_TMP/flp-build.log" ||
	{ fail "downstream_flp_build: $(tail -n 3 "$T_TMP/flp-build.log")"; t_done; }
netns_up && netns_client2 || { fail "downstream_netns: could not build the test hosts"; t_done; }
DNS_BROKEN_ZONE=broken.pano.test	# SERVFAIL for every name in it
dns_up || { fail "downstream_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up
# The run's broker (kafka_shared: the one tests/run.sh shares, else one of this test's own),
# reached from the node namespace through a relay.
kafka_shared && ds_kafka_relay "$NS_NODE" "$KAFKA_BOOT" || { fail "downstream_kafka: no broker"; t_done; }
pass "downstream_kafka: broker $DS_BROKER${PANO_KAFKA_DIR:+ (shared by the run)}"

NODE_A=$T_PREFIX-a NODE_B=$T_PREFIX-b
bg_start AN_PID "$T_TMP/analyzer.log" "$NS_NODE" "$PANO_ANALYZER" --listen 127.0.0.1:57013 \
	--kafka-brokers "$DS_BROKER" --metrics 127.0.0.1:9103 --stats -v
wait_for 10 grep -q "listening for agents" "$T_TMP/analyzer.log" ||
	{ fail "downstream_analyzer: $(tail -n 3 "$T_TMP/analyzer.log")"; t_done; }
bg_start AG_A "$T_TMP/agent-a.log" "$NS_NODE" "$PANO_AGENT" -v -i "$IF_CLI" \
	--connect 127.0.0.1:57013 --node "$NODE_A" --metrics 127.0.0.1:9102
bg_start AG_B "$T_TMP/agent-b.log" "$NS_NODE" "$PANO_AGENT" -v -i "$IF_CLI2" \
	--connect 127.0.0.1:57013 --node "$NODE_B" --metrics 127.0.0.1:9104
for n in "$NODE_A" "$NODE_B"; do
	wait_for 15 grep -q "agent $n connected" "$T_TMP/analyzer.log" ||
		{ fail "downstream_agents: $n did not connect: $(tail -n 3 "$T_TMP/analyzer.log")"; t_done; }
done
ds_flp "$NS_NODE" || { fail "downstream_flp_start"; t_done; }
L7_FLP=$PANO_ROOT/deploy/flowlogs-pipeline/pano-kafka-ssl-http.yaml L7_FLP_METRICS=127.0.0.1:9402
ds_probe "$NS_NODE" pano-ssl && ds_probe "$NS_NODE" pano-http # the topics, before their FLP
ds_flp "$NS_NODE" "$L7_FLP" "$L7_FLP_METRICS" || { fail "downstream_flp_l7_start"; t_done; }
ds_prometheus "$NS_NODE" 1 flowlogs-pipeline=127.0.0.1:9401 pano-analyzer=127.0.0.1:9103 \
	pano-agent=127.0.0.1:9102,127.0.0.1:9104 flowlogs-pipeline-l7=$L7_FLP_METRICS ||
	{ fail "downstream_prometheus_start"; t_done; }
ds_flp_consuming "$NS_NODE" || { fail "downstream_flp_consumes: no probe record counted"; t_done; }
ds_flp_consuming "$NS_NODE" pano-ssl pano_flp_tls_connections_total "$L7_FLP_METRICS" &&
	ds_flp_consuming "$NS_NODE" pano-http pano_flp_http_requests_total "$L7_FLP_METRICS" ||
	{ fail "downstream_flp_l7_consumes: no probe record counted"; t_done; }
pass "downstream_chain_up: FLP $("$PANO_ROOT/scripts/flp.sh" version), $(prometheus --version 2>&1 | head -n1)"

# The traffic: node, client host, server (4/6), transport, name, type, rcode the server gives,
# and how many of each the second phase sends (the first sends one of each).
SPEC="a $NS_CLI 4 udp www.pano.test A NOERROR 12
a $NS_CLI 4 udp www.pano.test AAAA NOERROR 4
a $NS_CLI 4 udp www.pano.test MX NOERROR 2
a $NS_CLI 4 udp nothere.pano.test A NXDOMAIN 5
a $NS_CLI 4 udp x.broken.pano.test A SERVFAIL 3
a $NS_CLI 4 tcp pano.test MX NOERROR 2
a $NS_CLI 6 udp www.pano.test AAAA NOERROR 2
b $NS_CLI2 4 udp www.pano.test A NOERROR 7
b $NS_CLI2 4 udp mail.pano.test A NOERROR 3
b $NS_CLI2 4 udp nothere.pano.test A NXDOMAIN 2
b $NS_CLI2 4 udp deep.nothere.pano.test AAAA NXDOMAIN 1
b $NS_CLI2 4 udp y.broken.pano.test A SERVFAIL 4"
SENT=$T_TMP/sent.tsv
: >"$SENT"
: >"$T_TMP/unexpected"
# send PHASE: every query of SPEC (once in phase 1, its count in phase 2), one kdig each; the
# status each client saw goes to sent.tsv.
send() {
	local phase=$1 node ns fam proto name type rcode count i srv cli status
	while read -r node ns fam proto name type rcode count; do
		[ "$phase" = 1 ] && count=1
		srv=$SRV4 cli=$CLI4
		[ "$fam" = 6 ] && srv=$SRV6 cli=$CLI6
		[ "$ns" = "$NS_CLI2" ] && cli=$CLI2_4
		node=$([ "$node" = a ] && echo "$NODE_A" || echo "$NODE_B")
		for i in $(seq "$count"); do
			status=$(nsx "$ns" kdig +retry=0 +timeout=2 $([ "$proto" = tcp ] && echo +tcp) \
				@"$srv" "$name" "$type" | sed -n 's/.*status: \([A-Z]*\);.*/\1/p')
			echo "$phase $node $cli $srv $proto $name $type ${status:-TIMEOUT}" >>"$SENT"
			[ "$status" = "$rcode" ] ||
				echo "$name $type @$srv: ${status:-no answer}, not $rcode" >>"$T_TMP/unexpected"
		done
	done <<<"$SPEC"
}
# flp_total N: Prometheus holds N transactions of nodes A and B in FLP's counter.
flp_total() {
	[ "$(ds_query "$NS_NODE" "sum(pano_flp_dns_transactions_total{node=~\"$NODE_A|$NODE_B\"})")" = "$1" ]
}

send 1
n1=$(grep -c . "$SENT")
wait_for 30 flp_total "$n1" || fail "downstream_phase1: Prometheus did not reach $n1 transactions"
sleep 3	# a few more scrapes of every job with the first phase complete
P=$(date +%s.%N)
send 2
n=$(grep -c . "$SENT")
wait_for 30 flp_total "$n" || fail "downstream_phase2: Prometheus did not reach $n transactions"
sleep 3
# Every query got the answer the spec says (so the counts below are the spec's).
if [ -s "$T_TMP/unexpected" ]; then
	fail "downstream_answers_as_expected: $(sort "$T_TMP/unexpected" | uniq -c | head -n 3 | tr '\n' ';')"
else
	pass "downstream_answers_as_expected: $n queries"
fi
log "phase 1: $n1 queries, phase 2: $((n - n1)) queries from $(date -d @"${P%.*}" +%T)"

# An independent consumer reads the topic back.
kcat -C -b "$DS_BROKER" -t pano-dns -o beginning -e -q >"$T_TMP/records.jsonl" 2>"$T_TMP/kcat.log" ||
	fail "downstream_kcat: $(tail -n 2 "$T_TMP/kcat.log")"

ip netns exec "$NS_NODE" /usr/bin/python3 "$PANO_ROOT/tests/lib/dashboard_check.py" \
	--prom "http://$DS_PROM" --dashboard "$PANO_ROOT/deploy/grafana/pano-dns-dashboard.json" \
	--sent "$SENT" --records "$T_TMP/records.jsonl" --phase2 "$P" --nodes "$NODE_A,$NODE_B" \
	>"$T_TMP/check.out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP) ' "$T_TMP/check.out"
[ "$rc" -eq 0 ] || grep -q '^FAIL ' "$T_TMP/check.out" ||
	fail "downstream_dashboard_check: exit $rc: $(tail -n 5 "$T_TMP/check.out")"

# ---- TLS and HTTP ---------------------------------------------------------------------------
# l7_source PHASE: the TLS and HTTP records of PHASE (1: one of each kind, 2: the counts) of
# node A (ssl and http) and node B (http) into topics pano-ssl and pano-http, each line also
# appended to l7-sent.jsonl. The one source of L7 records: today build/tests/l7_records writes
# them with the records' own JSON writers (the lines pano-analyzer writes, {"_path":"ssl",...})
# and kcat publishes them; once the TLS and HTTP parsers land, TLS and HTTP traffic through the
# agent and the analyzer takes its place.
l7_source() {
	local phase=$1 node path
	for node in "$NODE_A" "$NODE_B"; do
		for path in ssl http; do
			[ "$node" = "$NODE_B" ] && [ "$path" = ssl ] && continue
			"$L7_RECORDS" emit --phase "$phase" --node "$node" --path "$path" |
				tee -a "$T_TMP/l7-sent.jsonl" |
				ip netns exec "$NS_NODE" kcat -P -b "$DS_BROKER" -t "pano-$path" -q ||
				fail "downstream_l7_source: publishing phase $phase $path records of $node failed"
		done
	done
}
# l7_total N: Prometheus holds N records of nodes A and B in the L7 FLP's two counters.
l7_total() {
	local sel="{node=~\"$NODE_A|$NODE_B\"}" t h
	t=$(ds_query "$NS_NODE" "sum(pano_flp_tls_connections_total$sel)")
	h=$(ds_query "$NS_NODE" "sum(pano_flp_http_requests_total$sel)")
	[ $((${t:-0} + ${h:-0})) = "$1" ]
}
: >"$T_TMP/l7-sent.jsonl"
l7_source 1
n1=$(grep -c . "$T_TMP/l7-sent.jsonl")
wait_for 30 l7_total "$n1" || fail "downstream_l7_phase1: Prometheus did not reach $n1 records"
sleep 3
P=$(date +%s.%N)
l7_source 2
n=$(grep -c . "$T_TMP/l7-sent.jsonl")
wait_for 30 l7_total "$n" || fail "downstream_l7_phase2: Prometheus did not reach $n records"
sleep 3
log "TLS and HTTP: phase 1 $n1 records, phase 2 $((n - n1)) records"
for path in ssl http; do
	kcat -C -b "$DS_BROKER" -t "pano-$path" -o beginning -e -q >>"$T_TMP/l7-records.jsonl" \
		2>>"$T_TMP/kcat.log" || fail "downstream_l7_kcat: $(tail -n 2 "$T_TMP/kcat.log")"
done
ip netns exec "$NS_NODE" /usr/bin/python3 "$PANO_ROOT/tests/lib/dashboard_check_l7.py" \
	--prom "http://$DS_PROM" --dashboard "$PANO_ROOT/deploy/grafana/pano-l7-dashboard.json" \
	--sent "$T_TMP/l7-sent.jsonl" --records "$T_TMP/l7-records.jsonl" --phase2 "$P" \
	--nodes "$NODE_A,$NODE_B" >"$T_TMP/check-l7.out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP) ' "$T_TMP/check-l7.out"
[ "$rc" -eq 0 ] || grep -q '^FAIL ' "$T_TMP/check-l7.out" ||
	fail "downstream_l7_dashboard_check: exit $rc: $(tail -n 5 "$T_TMP/check-l7.out")"
t_done
