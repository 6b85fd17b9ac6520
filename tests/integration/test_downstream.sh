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
# TLS and HTTP, every part real too (tests/lib/web.sh):
#
#   curl, openssl s_client (both clients) --> openssl s_server TLS 1.3 (443, 853: DoT) and
#   TLS 1.2 (443), Python HTTP/1.1 servers (80, 8080)      (server namespace)
#   the same two agents (--ports 53,80,8080 --tcp-head 443,853:16K) --> the same analyzer
#   --> topics pano-ssl and pano-http --> a second flowlogs-pipeline (deploy/flowlogs-pipeline/
#   pano-kafka-ssl-http.yaml) --> Prometheus
#
# Each connection and request the clients made (l7_source below: what they saw: TLS version,
# handshake done or refused, SNI, status code, bytes) must be one record, once (kcat reads the
# topics back, and they hold exactly the lines the analyzer also wrote to its --output file);
# every query of deploy/grafana/pano-l7-dashboard.json, FLP's and the analyzer's own
# (pano_tls_*, pano_http_*, encrypted DNS), equals what those records give
# (tests/lib/dashboard_check_l7.py).
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"
. "$PANO_ROOT/tests/lib/kafka.sh"
. "$PANO_ROOT/tests/lib/downstream.sh"
. "$PANO_ROOT/tests/lib/web.sh"

need_root downstream
need_cmd downstream knotd kdig kcat prometheus promtool socat nsenter jq curl go java openssl
for b in "$PANO_AGENT" "$PANO_ANALYZER"; do [ -x "$b" ] || { fail "downstream: $b is not built"; t_done; }; done

"$PANO_ROOT/scripts/flp.sh" build >/dev/null 2>"$T_TMP/flp-build.log" ||
	{ fail "downstream_flp_build: $(tail -n 3 "$T_TMP/flp-build.log")"; t_done; }
netns_up && netns_client2 || { fail "downstream_netns: could not build the test hosts"; t_done; }
DNS_BROKEN_ZONE=broken.pano.test	# SERVFAIL for every name in it
dns_up || { fail "downstream_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up
# The web servers: TLS 1.3 on SRV4 (443 and 853, DNS over TLS by its port), TLS 1.2 on TLS12
# (443), HTTP on SRV4 80 and 8080; one certificate for every name the clients ask for.
TLS12=198.18.0.3
ip -n "$NS_SRV" addr add "$TLS12/24" dev eth0
web_pki "$T_TMP/pki" web.pano.test api.pano.test old.pano.test dot.pano.test dns.google ||
	{ fail "downstream_web_pki: $(tail -n 3 "$T_TMP/pki/openssl.log")"; t_done; }
web_docroot "$T_TMP/www" 65536 || { fail "downstream_web_docroot"; t_done; }
web_tls_server W13 "$NS_SRV" "$SRV4" 443 1.3 && web_tls_server WDOT "$NS_SRV" "$SRV4" 853 1.3 &&
	web_tls_server W12 "$NS_SRV" "$TLS12" 443 1.2 &&
	web_http_server WH80 "$NS_SRV" "$SRV4" 80 "$T_TMP/www" &&
	web_http_server WH8080 "$NS_SRV" "$SRV4" 8080 "$T_TMP/www" ||
	{ fail "downstream_web_servers: a server did not start"; t_done; }
# The run's broker (kafka_shared: the one tests/run.sh shares, else one of this test's own),
# reached from the node namespace through a relay.
kafka_shared && ds_kafka_relay "$NS_NODE" "$KAFKA_BOOT" || { fail "downstream_kafka: no broker"; t_done; }
pass "downstream_kafka: broker $DS_BROKER${PANO_KAFKA_DIR:+ (shared by the run)}"

NODE_A=$T_PREFIX-a NODE_B=$T_PREFIX-b
bg_start AN_PID "$T_TMP/analyzer.log" "$NS_NODE" "$PANO_ANALYZER" --listen 127.0.0.1:57013 \
	--kafka-brokers "$DS_BROKER" --output "$T_TMP/analyzer.jsonl" --metrics 127.0.0.1:9103 --stats -v
wait_for 10 grep -q "listening for agents" "$T_TMP/analyzer.log" ||
	{ fail "downstream_analyzer: $(tail -n 3 "$T_TMP/analyzer.log")"; t_done; }
CAP=(--ports 53,80,8080 --tcp-head 443,853:16K)
bg_start AG_A "$T_TMP/agent-a.log" "$NS_NODE" "$PANO_AGENT" -v -i "$IF_CLI" "${CAP[@]}" \
	--connect 127.0.0.1:57013 --node "$NODE_A" --metrics 127.0.0.1:9102
bg_start AG_B "$T_TMP/agent-b.log" "$NS_NODE" "$PANO_AGENT" -v -i "$IF_CLI2" "${CAP[@]}" \
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
# The traffic: node, what the client does, how many times the second phase does it (the first
# does each once).
#   tls13/tls12   curl GET over TLS 1.3 (SRV4) / TLS 1.2 (TLS12), SNI web/api.pano.test
#   tls_refused   curl insisting on TLS 1.3 against the TLS 1.2 server: the server refuses the
#                 handshake (an alert, no ServerHello), a record with established false
#   dot           openssl s_client to port 853 (DNS over TLS by the analyzer's --tls-dot-ports)
#   doh           curl with SNI dns.google (on the analyzer's default DoH list), to SRV4
#   get/get404/post/delete   HTTP: a file, a missing file, a POST, a DELETE the server does not
#                 implement (501: a 5xx from the real server)
L7SPEC="a tls13 5
a tls12 3
a tls_refused 2
a dot 2
a get 6
a get404 3
a post 2
b doh 3
b tls13 2
b get8080 4
b delete8080 2"
L7_SENT=$T_TMP/l7-sent.jsonl
: >"$L7_SENT"
: >"$T_TMP/l7-unexpected"
# l7_expect PHASE NODE OUT JSON...: what one connection or request of the client whose curl -w
# line is in OUT must give, from what that client saw, to l7-sent.jsonl.
l7_expect() {
	local phase=$1 node=$2 out=$3 port code up down
	shift 3
	read -r port code up down _ <"$out" 2>/dev/null
	jq -nc --argjson phase "$phase" --arg node "$node" --argjson code "${code:-0}" \
		--argjson down "${down:-0}" --argjson up "${up:-0}" "$@" >>"$L7_SENT"
}
# l7_tls PHASE NODE NS CLIENT SERVER PORT SNI OUT: the record of a TLS connection the client
# (curl -v or s_client in OUT) completed; version as the client reports it.
l7_tls() {
	local v
	v=$(web_tls_field "$8" version)
	[ -n "$v" ] || echo "$7 on $5:$6: no TLS version reported: $(tail -n 1 "$8")" >>"$T_TMP/l7-unexpected"
	jq -nc --argjson phase "$1" --arg node "$2" --arg c "$4" --arg s "$5" --argjson p "$6" \
		--arg sni "$7" --arg v "${v//./}" \
		'{phase: $phase, _path: "ssl", node: $node, id_orig_h: $c, id_resp_h: $s, id_resp_p: $p,
		  server_name: $sni, version: $v, established: true, dot: ($p == 853),
		  doh: ($sni == "dns.google")}' >>"$L7_SENT"
}
# l7_do PHASE NODE NS CLIENT KIND: one client run.
l7_do() {
	local phase=$1 node=$2 ns=$3 cli=$4 kind=$5 out=$T_TMP/l7-client u code
	local tls=(--http1.1 --cacert "$WEB_CA")
	case $kind in
	tls13 | tls12 | doh)
		local srv=$SRV4 sni=web.pano.test
		[ "$kind" = tls12 ] && srv=$TLS12 sni=api.pano.test
		[ "$kind" = doh ] && sni=dns.google
		web_curl "$ns" "$out" "${tls[@]}" --resolve "$sni:443:$srv" "https://$sni/index.html"
		read -r _ code _ <"$out"
		[ "$code" = 200 ] || echo "$kind: curl got ${code:-nothing}: $(tail -n 1 "$out.err")" >>"$T_TMP/l7-unexpected"
		l7_tls "$phase" "$node" "$ns" "$cli" "$srv" 443 "$sni" "$out.err" ;;
	dot)
		web_s_client "$ns" "$out" -connect "$SRV4:853" -servername dot.pano.test -CAfile "$WEB_CA"
		grep -q '^HTTP/1.0 200' "$out" || echo "dot: no answer: $(grep -i error "$out" | head -n 1)" >>"$T_TMP/l7-unexpected"
		l7_tls "$phase" "$node" "$ns" "$cli" "$SRV4" 853 dot.pano.test "$out" ;;
	tls_refused)
		web_curl "$ns" "$out" "${tls[@]}" --tlsv1.3 --resolve "old.pano.test:443:$TLS12" \
			https://old.pano.test/index.html
		grep -q 'alert protocol version\|unsupported protocol\|wrong version' "$out.err" ||
			echo "tls_refused: not refused for its version: $(tail -n 1 "$out.err")" >>"$T_TMP/l7-unexpected"
		# No ServerHello: no version, and the handshake did not complete.
		jq -nc --argjson phase "$phase" --arg node "$node" --arg c "$cli" --arg s "$TLS12" \
			'{phase: $phase, _path: "ssl", node: $node, id_orig_h: $c, id_resp_h: $s,
			  id_resp_p: 443, server_name: "old.pano.test", version: null, established: false,
			  dot: false, doh: false}' >>"$L7_SENT" ;;
	get | get404 | post | get8080 | delete8080)
		local port=80 host=web.pano.test uri=/a.txt method=GET want=200 args=()
		case $kind in
		get404) uri=/missing want=404 ;;
		post) method=POST uri="/upload?n=1" args=(--data-binary "@$T_TMP/www/b.txt") ;;
		get8080) port=8080 uri=/c.txt ;;
		delete8080) port=8080 method=DELETE uri=/orders/1 want=501 args=(-X DELETE) ;;
		esac
		u=$host
		[ "$port" = 80 ] || u=$host:$port
		web_curl "$ns" "$out" --resolve "$host:$port:$SRV4" "${args[@]}" "http://$u$uri"
		read -r _ code _ <"$out"
		[ "$code" = "$want" ] || echo "$kind: status ${code:-none}, not $want" >>"$T_TMP/l7-unexpected"
		l7_expect "$phase" "$node" "$out" --arg c "$cli" --arg s "$SRV4" --argjson p "$port" \
			--arg m "$method" --arg h "$u" --arg uri "$uri" \
			'{phase: $phase, _path: "http", node: $node, id_orig_h: $c, id_resp_h: $s,
			  id_resp_p: $p, method: $m, host: $h, uri: $uri, status_code: $code,
			  request_body_len: $up, response_body_len: $down}' ;;
	*) fail "downstream_l7_spec: unknown kind $kind" ;;
	esac
}
# l7_source PHASE: every client run of L7SPEC (once in phase 1, its count in phase 2).
l7_source() {
	local phase=$1 node kind count ns cli n i
	while read -r node kind count; do
		[ "$phase" = 1 ] && count=1
		ns=$NS_CLI cli=$CLI4 n=$NODE_A
		[ "$node" = b ] && ns=$NS_CLI2 cli=$CLI2_4 n=$NODE_B
		for i in $(seq "$count"); do l7_do "$phase" "$n" "$ns" "$cli" "$kind"; done
	done <<<"$L7SPEC"
}
# l7_total N: Prometheus holds N records of nodes A and B in the L7 FLP's two counters.
l7_total() {
	local sel="{node=~\"$NODE_A|$NODE_B\"}" t h
	t=$(ds_query "$NS_NODE" "sum(pano_flp_tls_connections_total$sel)")
	h=$(ds_query "$NS_NODE" "sum(pano_flp_http_requests_total$sel)")
	[ $((${t:-0} + ${h:-0})) = "$1" ]
}
l7_source 1
n1=$(grep -c . "$L7_SENT")
wait_for 30 l7_total "$n1" || fail "downstream_l7_phase1: Prometheus did not reach $n1 records"
sleep 3
P=$(date +%s.%N)
l7_source 2
n=$(grep -c . "$L7_SENT")
wait_for 30 l7_total "$n" || fail "downstream_l7_phase2: Prometheus did not reach $n records"
sleep 3
if [ -s "$T_TMP/l7-unexpected" ]; then
	fail "downstream_l7_clients_as_expected: $(sort "$T_TMP/l7-unexpected" | uniq -c | head -n 3 | tr '\n' ';')"
else
	pass "downstream_l7_clients_as_expected: $n connections and requests"
fi
log "TLS and HTTP: phase 1 $n1 connections and requests, phase 2 $((n - n1)) from $(date -d @"${P%.*}" +%T)"
for path in ssl http; do
	kcat -C -b "$DS_BROKER" -t "pano-$path" -o beginning -e -q >>"$T_TMP/l7-records.jsonl" \
		2>>"$T_TMP/kcat.log" || fail "downstream_l7_kcat: $(tail -n 2 "$T_TMP/kcat.log")"
done
ip netns exec "$NS_NODE" /usr/bin/python3 "$PANO_ROOT/tests/lib/dashboard_check_l7.py" \
	--prom "http://$DS_PROM" --dashboard "$PANO_ROOT/deploy/grafana/pano-l7-dashboard.json" \
	--sent "$L7_SENT" --published "$T_TMP/analyzer.jsonl" --records "$T_TMP/l7-records.jsonl" \
	--phase2 "$P" --nodes "$NODE_A,$NODE_B" >"$T_TMP/check-l7.out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP) ' "$T_TMP/check-l7.out"
[ "$rc" -eq 0 ] || grep -q '^FAIL ' "$T_TMP/check-l7.out" ||
	fail "downstream_l7_dashboard_check: exit $rc: $(tail -n 5 "$T_TMP/check-l7.out")"
t_done
