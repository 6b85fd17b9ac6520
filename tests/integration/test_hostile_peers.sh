#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_hostile_peers.sh - PANO's listeners under hostile peers (tests/lib/hostile_peers.py), in
# network namespaces with a real DNS server and the real agent:
#   1. pano-analyzer --listen, plain and with mutual TLS: while 300 idle TCP peers, 300
#      half-sent TLS ClientHellos and 100 peers announcing a 4 MiB envelope before any hello are
#      attached (and reconnect as soon as they are closed), a legitimate agent gets in and
#      delivers every frame it captured (exact count, every transaction a record); the
#      analyzer's peak RSS stays under RSS_BOUND_KB (below); every close is counted by reason;
#   2. a refused agent (--max-agents 1) logs the analyzer's reason in one line;
#   3. /healthz answers within a second (curl --max-time 1) while 500 slow HTTP clients (a
#      header line every 5 s) are attached to the analyzer's and the agent's metrics ports, also
#      from the prober's own address; a slow client is closed at the request deadline;
#   4. the agent's PCAP-over-TCP server serves a new reader (pano-analyzer --pcap-connect,
#      every transaction) while 64 idle clients are attached; the reader says at the default
#      log level why it could not get in while the server was not there;
#   5. a capture of 200k half-open DNS-over-TCP connections (one segment each, a partial
#      message): the analyzer's TCP buffers stay within --tcp-max-buffer, /metrics and --stats
#      report them, the evictions are counted, and the RSS stays bounded.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"

A=$PANO_BUILD/pano-analyzer
G=$PANO_BUILD/pano-agent
PY=/usr/bin/python3
HP="$PY $PANO_ROOT/tests/lib/hostile_peers.py"
need_root hostile
need_cmd hostile dig knotd openssl curl "$PY"
for b in "$A" "$G"; do [ -x "$b" ] || { fail "hostile: $b is not built"; t_done; }; done
# 700 attacker sockets in one process (the tool raises its own soft limit up to the hard one).
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"

netns_up || { fail "hostile_netns: could not build the test hosts"; t_done; }
dns_up || { fail "hostile_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up
CERTS=$T_TMP/certs
"$PANO_ROOT/scripts/make-certs.sh" "$CERTS" >/dev/null || { fail "hostile_certs: make-certs.sh"; t_done; }
TLS_S=(--tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" --tls-ca "$CERTS/ca.crt")
TLS_C=(--tls-ca "$CERTS/ca.crt" --tls-cert "$CERTS/client.crt" --tls-key "$CERTS/client.key")

# The analyzer's peak RSS under the attack of part 1 must stay under this: its own ~10 MB,
# plus 128 pending connections (--max-pending) at their worst, each a 64 KiB pre-hello buffer
# and ~60 KiB of OpenSSL handshake state (16 MB), plus one agent's receive buffer (1 MB), with
# room for the allocator. Before the caps, 100 peers announcing 4 MiB took it to ~480 MB.
RSS_BOUND_KB=65536
# rss_check NAME KB BOUND_KB: KB under the bound. Not a check of a sanitizer build (SAN=1), whose
# shadow memory and quarantine of freed blocks say nothing about PANO's own memory: that run
# checks everything else, the plain build's run checks this.
SANBUILD=0
[ "$(cat "$PANO_BUILD/flavour" 2>/dev/null)" = san ] && SANBUILD=1
rss_check() {
	if [ $SANBUILD = 1 ]; then
		log "$1: not checked on a SAN=1 build (${2:-?} kB: AddressSanitizer's memory)"
	elif [ "${2:-0}" -gt 0 ] && [ "$2" -lt "$3" ]; then
		pass "$1"
	else
		fail "$1: ${2:-?} kB, bound $3 kB"
	fi
}

pid() { cat "$T_TMP/$1.pid"; }
stop() {	# stop NAME [SIG]: signal (TERM by default), wait up to 10 s for it to go
	local p; p=$(pid "$1")
	kill -"${2:-TERM}" "$p" 2>/dev/null
	local i
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$(pid "$1")/status"; }
# stat_of NAME COUNTER: the counter in NAME's --stats summary (0 when it is not there)
stat_of() {
	local v; v=$(awk -v k="$2" '$1 == k {print $2}' "$T_TMP/$1.err" | tail -1)
	echo "${v:-0}"
}
# peers NAME MODE PORT N SOURCES: hostile peers in the node namespace, reconnecting 1 s after
# each close, their status in $T_TMP/NAME.st
peers() {
	ns_start "$1" $HP "$2" "127.0.0.1:$3" "$4" --sources "$5" --status "$T_TMP/$1.st"
}
peer_stat() { awk -v k="$2" '{for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1)}' "$T_TMP/$1.st" 2>/dev/null; }
# connected_all NAME N: the peers made their N connections at least once
connected_all() { [ "$(peer_stat "$1" connected)" -ge "$2" ] 2>/dev/null; }
# queries N TAG: N dig queries for qI.TAG.pano.test from the client host, one at a time
queries() {
	local i
	for i in $(seq "$1"); do
		nsx "$NS_CLI" dig +tries=1 +timeout=2 @"$SRV4" "q$i.$2.pano.test" A >/dev/null 2>&1
	done
}
records() { grep -c "\"query\":\"q[0-9]*\.$2\.pano\.test\"" "$T_TMP/$1.out"; }

# ---- 1. --listen under attack, plain and mutual TLS ------------------------------------------
Q=40
attack_round() {	# attack_round TAG [TLS]: one analyzer, the attackers, one agent
	local tag=$1 tls=${2:-} port; port=$(free_port)
	local an=an_$tag ag=ag_$tag
	local sargs=() cargs=()
	[ -n "$tls" ] && sargs=("${TLS_S[@]}") cargs=("${TLS_C[@]}")
	ns_start "$an" "$A" -v --stats --listen "127.0.0.1:$port" "${sargs[@]}"
	wait_for 5 grep -q "listening for agents" "$T_TMP/$an.err" || true
	# 10 sources for each kind of attacker: 30 connections per address, under the per-address
	# cap (32), so that the pending cap (128) and its evictions are what holds them
	peers "idle_$tag" idle "$port" 300 127.1.0.0/10
	peers "tls_$tag" tls-half "$port" 300 127.2.0.0/10
	peers "big_$tag" big-envelope "$port" 100 127.3.0.0/10
	local ok=1
	wait_for 30 connected_all "idle_$tag" 300 || ok=0
	wait_for 30 connected_all "tls_$tag" 300 || ok=0
	wait_for 30 connected_all "big_$tag" 100 || ok=0
	check_eq "hostile_${tag}_attackers_attached" "$ok" 1
	ns_start "$ag" "$G" -i "$IF_CLI" --connect "127.0.0.1:$port" --node "legit-$tag" "${cargs[@]}"
	if wait_for 20 grep -q "agent legit-$tag connected" "$T_TMP/$an.err"; then
		pass "hostile_${tag}_agent_gets_in"
	else
		fail "hostile_${tag}_agent_gets_in: $(tail -3 "$T_TMP/$ag.err" | tr '\n' ' ')"
	fi
	queries $Q "$tag"
	sleep 0.5	# the agent's batch timer (50 ms) and a stats message
	stop "$ag"	# SIGTERM: the agent sends what it queued, prints its totals
	sleep 0.5
	local hwm; hwm=$(hwm_kb "$an")
	for p in "idle_$tag" "tls_$tag" "big_$tag"; do stop "$p"; done
	# Peers that stay (no churn evicts them now) are closed at the hello deadline (5 s):
	# plain, 10 idle ones without a hello; TLS, 10 half-sent ClientHellos
	local slow=idle; [ -n "$tls" ] && slow=tls-half
	ns_start "late_$tag" $HP $slow "127.0.0.1:$port" 10 --reconnect 0 --status "$T_TMP/late_$tag.st"
	late_closed() { [ "$(peer_stat "late_$tag" closed_by_server)" -ge 10 ] 2>/dev/null; }
	wait_for 15 late_closed
	check_eq "hostile_${tag}_deadline_closes_the_rest" "$(peer_stat "late_$tag" closed_by_server)" 10
	stop "late_$tag"
	stop "$an" INT
	local captured sent dropped frames
	captured=$(sed -n 's/.*captured \([0-9]*\),.*/\1/p' "$T_TMP/$ag.err" | tail -1)
	sent=$(sed -n 's/.*connect: sent \([0-9]*\), dropped \([0-9]*\).*/\1/p' "$T_TMP/$ag.err" | tail -1)
	dropped=$(sed -n 's/.*connect: sent \([0-9]*\), dropped \([0-9]*\).*/\2/p' "$T_TMP/$ag.err" | tail -1)
	frames=$(stat_of "$an" proto_frames)
	# each query and its answer cross the client's port once: 2 frames
	check_eq "hostile_${tag}_agent_captured" "${captured:-?}" $((2 * Q))
	check_eq "hostile_${tag}_agent_sent_all" "${sent:-?}/${dropped:-?}" "$((2 * Q))/0"
	check_eq "hostile_${tag}_analyzer_frames_exact" "${frames:-0}" $((2 * Q))
	check_eq "hostile_${tag}_records" "$(records "$an" "$tag")" $Q
	rss_check "hostile_${tag}_analyzer_rss_bounded" "$hwm" $RSS_BOUND_KB
	log "$tag: analyzer peak RSS $hwm kB; $(grep -E '^  (proto_(evicted|closed|refused|stream)|stream_hello|tls_handshake_failed)' "$T_TMP/$an.err" | tr -s ' ' | tr '\n' ';')"
	check "hostile_${tag}_evictions_counted" test "$(stat_of "$an" proto_evicted_pending)" -gt 0
	if [ -n "$tls" ]; then
		check "hostile_${tag}_handshake_timeouts_counted" test "$(stat_of "$an" proto_closed_handshake_timeout)" -ge 10
	else
		check "hostile_${tag}_big_envelope_refused" test "$(stat_of "$an" stream_hello_oversize)" -ge 100
		check "hostile_${tag}_hello_timeouts_counted" test "$(stat_of "$an" proto_closed_hello_timeout)" -ge 10
	fi
	# thousands of closes, a few lines: at most LOG_LIMIT_BURST (5) per reason per 10 s
	local lines; lines=$(grep -c "connection closed" "$T_TMP/$an.err")
	check "hostile_${tag}_closes_logged_rate_limited" test "$lines" -le 200 -a "$(stat_of "$an" proto_evicted_pending)" -gt $((4 * lines))
}
attack_round plain
attack_round mtls tls

# ---- 2. a refusal reaches the agent's log ----------------------------------------------------
PORT=$(free_port)
ns_start an_cap "$A" -v --stats --listen "127.0.0.1:$PORT" --max-agents 1
wait_for 5 grep -q "listening for agents" "$T_TMP/an_cap.err"
ns_start ag_one "$G" -i "$IF_CLI" --connect "127.0.0.1:$PORT" --node one
wait_for 10 grep -q "agent one connected" "$T_TMP/an_cap.err"
ns_start ag_two "$G" -i "$IF_SRV" --connect "127.0.0.1:$PORT" --node two
wait_for 10 grep -q "refused this agent" "$T_TMP/ag_two.err"
check hostile_refusal_logged_by_agent grep -q "refused this agent (too_many_agents): agent two refused: 1 agents connected already" "$T_TMP/ag_two.err"
check_eq hostile_refusal_one_line "$(grep -c 'refused this agent' "$T_TMP/ag_two.err")" 1
check hostile_refusal_no_reset_loop sh -c "! grep -q 'reset by peer' '$T_TMP/ag_two.err'"
stop ag_two; stop ag_one; stop an_cap INT
check hostile_refusal_counted test "$(stat_of an_cap proto_refused_too_many_agents)" -ge 1

# ---- 3. /healthz under 500 slow HTTP clients --------------------------------------------------
APORT=$(free_port) GPORT=$(free_port) PPORT=$(free_port)
ns_start an_http "$A" --listen "127.0.0.1:$(free_port)" --metrics "127.0.0.1:$APORT"
ns_start ag_http "$G" -i "$IF_CLI" --pcap-listen "127.0.0.1:$PPORT" --metrics "127.0.0.1:$GPORT"
wait_for 10 nsx "$NS_NODE" curl -sf "http://127.0.0.1:$APORT/healthz" || fail "hostile_http_analyzer_up"
wait_for 10 nsx "$NS_NODE" curl -sf "http://127.0.0.1:$GPORT/healthz" || fail "hostile_http_agent_up"
# probe NAME PORT [SRC]: /healthz five times, each within 1 s (curl's own deadline), from SRC
probe() {
	local i src=() got=""
	[ -n "${3:-}" ] && src=(--interface "$3")
	for i in 1 2 3 4 5; do
		got="$got $(nsx "$NS_NODE" curl -s "${src[@]}" --max-time 1 -o /dev/null \
			-w '%{http_code}' "http://127.0.0.1:$2/healthz")/$?"
		sleep 0.3
	done
	check_eq "$1" "$got" " 200/0 200/0 200/0 200/0 200/0"
}
for side in analyzer:$APORT agent:$GPORT; do
	name=${side%%:*} port=${side#*:}
	# 25 addresses, 20 slow clients each: under the per-address cap (32), over the total (256)
	peers "slow_$name" slow-http "$port" 500 127.4.0.0/25
	wait_for 30 connected_all "slow_$name" 500 || fail "hostile_http_${name}_slow_attached"
	probe "hostile_http_${name}_healthz_within_1s" "$port"
	# The prober shares an address with 100 more slow clients (over the per-address cap)
	peers "slow1_$name" slow-http "$port" 100 127.5.0.0/1
	wait_for 30 connected_all "slow1_$name" 100 || fail "hostile_http_${name}_slow1_attached"
	probe "hostile_http_${name}_healthz_same_address_within_1s" "$port" 127.5.0.1
	metric=pano_analyzer_httpd_evicted_total
	[ "$name" = agent ] && metric=pano_httpd_evicted_total
	ev=$(nsx "$NS_NODE" curl -s --max-time 1 "http://127.0.0.1:$port/metrics" | awk -v m="$metric" '$1 ~ "^"m {print $2}')
	check "hostile_http_${name}_evictions_counted" test "${ev:-0}" -gt 0
	stop "slow_$name"; stop "slow1_$name"
done
# Fewer slow clients than the caps: nothing evicts them, the request deadline (10 s) closes them.
peers slow_deadline slow-http "$APORT" 10 127.6.0.0/1
wait_for 30 connected_all slow_deadline 10
deadline_closed() { [ "$(peer_stat slow_deadline closed_by_server)" -ge 10 ] 2>/dev/null; }
wait_for 20 deadline_closed
check hostile_http_deadline_closes_slow_clients test "$(peer_stat slow_deadline closed_by_server)" -ge 10
dl=$(nsx "$NS_NODE" curl -s --max-time 1 "http://127.0.0.1:$APORT/metrics" | awk '$1 ~ /^pano_analyzer_httpd_closed_deadline_total/ {print $2}')
check hostile_http_deadline_counted test "${dl:-0}" -ge 10
stop slow_deadline

# ---- 4. PCAP-over-TCP: a new reader while 64 idle clients are attached ----------------------
# The reader first finds no server (a fresh port): it says so at the default log level.
QPORT=$(free_port)
ns_start rd_pot "$A" --node potnode --pcap-connect "127.0.0.1:$QPORT"
wait_for 10 grep -q "cannot connect to 127.0.0.1:$QPORT: connect: Connection refused" "$T_TMP/rd_pot.err"
check hostile_pot_reader_says_why grep -q "cannot connect to 127.0.0.1:$QPORT: connect: Connection refused" "$T_TMP/rd_pot.err"
stop rd_pot
# 64 idle clients (8 addresses, 8 each: the per-address cap) fill the server (64), and stay
ns_start idle_pot $HP idle "127.0.0.1:$PPORT" 64 --sources 127.7.0.0/8 --reconnect 0 \
	--status "$T_TMP/idle_pot.st"
wait_for 20 connected_all idle_pot 64
# gmetric NAME: a sample of the agent's /metrics (the first whose name starts with NAME)
gmetric() {
	nsx "$NS_NODE" curl -s --max-time 2 "http://127.0.0.1:$GPORT/metrics" |
		awk -v m="$1" 'index($1, m) == 1 {print $2; exit}'
}
pot_clients() { [ "$(gmetric pano_agent_pcap_clients)" = "$1" ]; }
wait_for 10 pot_clients 64
check_eq hostile_pot_64_idle_attached "$(gmetric pano_agent_pcap_clients)" 64
ns_start rd_pot2 "$A" -v --stats --node potnode --pcap-connect "127.0.0.1:$PPORT"
check hostile_pot_new_reader_gets_in wait_for 10 grep -q "stream up" "$T_TMP/rd_pot2.err"
queries 10 pot
sleep 1
stop rd_pot2 INT
check_eq hostile_pot_new_reader_records "$(records rd_pot2 pot)" 10
check_eq hostile_pot_one_idle_evicted "$(gmetric pano_agent_pcap_clients_evicted_total)" 1
check_eq hostile_pot_idle_closed_is_one "$(peer_stat idle_pot closed_by_server)" 1
stop idle_pot
stop ag_http
stop an_http INT

# ---- 5. 200k half-open DNS-over-TCP connections ------------------------------------------------
HO=$T_TMP/halfopen.pcap
HELD=$($PY "$PANO_ROOT/tests/lib/gen_tcp_halfopen.py" "$HO" 200000 300 600) ||
	fail "hostile_tcp_generate"
MPORT=$(free_port)
TCPBUF=$((16 << 20))
# The capture comes through a pipe held open after it, so that the state can be looked at
# with everything read and nothing closed yet.
mkfifo "$T_TMP/ho.fifo"
ns_start an_tcp "$A" --stats -o /dev/null --metrics "127.0.0.1:$MPORT" --tcp-max-buffer $TCPBUF -r "$T_TMP/ho.fifo"
exec 7>"$T_TMP/ho.fifo"
cat "$HO" >&7
metric() { nsx "$NS_NODE" curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m || index($1, m"{") == 1 {print $2}'; }
all_read() { [ "$(metric pano_analyzer_frames_total)" = 200000 ]; }
wait_for 60 all_read || log "frames read: $(metric pano_analyzer_frames_total)"
buf=$(metric pano_analyzer_tcp_buffer_bytes)
conns=$(metric pano_analyzer_tcp_connections)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(pid an_tcp)/status")
exec 7>&-
wait_for 10 sh -c "! kill -0 $(pid an_tcp) 2>/dev/null"
log "tcp: $conns connections, $buf bytes buffered (cap $TCPBUF), RSS $rss kB; partial bytes held by the peers $HELD"
# Every connection left holds at least its 302 bytes (prefix and partial message): the figure
# is not the "0 bytes" of old; and it stays within the cap.
check "hostile_tcp_buffer_within_cap" test "${buf:-0}" -le $TCPBUF
check "hostile_tcp_buffer_reported" test "${buf:-0}" -ge $(( ${conns:-1} * 302 ))
check "hostile_tcp_buffer_holds_many" test "${conns:-0}" -ge 10000
evicted=$(stat_of an_tcp tcp_buf_evicted)
check "hostile_tcp_buffer_evictions_counted" test "${evicted:-0}" -gt 0
check_eq "hostile_tcp_every_connection_accounted" \
	"$(( $(stat_of an_tcp tcp_buf_evicted) + $(stat_of an_tcp tcp_conn_evicted || echo 0) + ${conns:-0} ))" 200000
# RSS: the analyzer's own ~10 MB, the buffers (at most the cap) and the connection state
# (under 1 KiB each, at most 65536 connections): 10 + 16 + 64 MB; before the cap it was 640 MB.
rss_check hostile_tcp_rss_bounded "$rss" $(( (10 << 10) + (TCPBUF >> 10) + 65536 ))
check "hostile_tcp_stats_line" grep -q "bytes buffered (cap $TCPBUF)" "$T_TMP/an_tcp.err"
t_done
