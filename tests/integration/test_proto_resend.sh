#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_proto_resend.sh - no silent loss between agent and analyzer (acks and resends, stream
# minor version 2), a real agent in the namespace hosts under a steady dnsperf load:
#   1. the analyzer is stopped, then SIGKILLed mid-stream and restarted: every frame the agent
#      captured is accounted for, exactly: frames the first analyzer acknowledged + frames the
#      second decoded + frames counted lost = frames captured; none lost (the outage fits the
#      8 MiB queue), and the batches in flight were sent again;
#   2. the same with a 64 KiB queue that the outage overflows: frames are lost, counted, and the
#      identity still exact; the new analyzer counts the loss upstream;
#   3. the connection breaks (ss -K) while the analyzer lives, with batches taken and not yet
#      acknowledged: the analyzer's first Ack on the new connection says what it took, nothing
#      is sent twice, every captured frame is decoded exactly once;
#   4. a hand-made agent run sends batches again on a second connection while the first is
#      open (the race the first Ack cannot close): the analyzer drops them by batch number;
#      an agent of minor version 1 (batch numbers per connection) is never deduplicated.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"

A=$PANO_BUILD/pano-analyzer
G=$PANO_BUILD/pano-agent
need_root proto_resend
need_cmd proto_resend dnsperf knotd ss
for b in "$A" "$G"; do [ -x "$b" ] || { fail "proto_resend: $b is not built"; t_done; }; done

netns_up || { fail "proto_resend_netns: could not build the test hosts"; t_done; }
dns_up || { fail "proto_resend_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up
PORT=$(free_port)

pid() { cat "$T_TMP/$1.pid"; }
stop() {	# stop NAME [SIG]: signal (TERM by default) and wait up to 10 s for the process to go
	local p; p=$(pid "$1")
	kill -"${2:-TERM}" "$p" 2>/dev/null
	local i
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
analyzer() {	# analyzer NAME ARGS...: an analyzer listening on $PORT
	local name=$1; shift
	ns_start "$name" "$A" -v --stats --listen "127.0.0.1:$PORT" "$@"
	wait_for 5 grep -q "listening for agents" "$T_TMP/$name.err"
}
# load SECONDS QPS TAG: dnsperf from the client host, in the background (its pid in $LOAD).
load() {
	local i
	for i in $(seq 20000); do echo "q$i.$3.pano.test A"; done >"$T_TMP/$3.txt"
	nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/$3.txt" -l "$1" -Q "$2" -q 100 \
		>"$T_TMP/$3.dnsperf" 2>&1 &
	LOAD=$!
}
# metric NAME FILE: a counter from an analyzer's exit stats (--stats), 0 when absent.
metric() { awk -v n="$1" '$1 == n {v = $2} END {print v + 0}' "$2"; }
# agent_stat FIELD NAME: a number from the agent's exit stats line ("captured 12", ...).
agent_stat() {
	sed -n "s/.*pano-agent: stats:.*[ ,;]$1 \([0-9]*\).*/\1/p" "$T_TMP/$2.err" | tail -1
}
# first_acked NAME: frames acknowledged on the agent's first connection (its reconnect line).
first_acked() {
	sed -n 's/.*reconnecting (this connection: \([0-9]*\) frame(s) acknowledged.*/\1/p' \
		"$T_TMP/$1.err" | head -1
}
agent_up() {	# agent_up NAME NODE ANALYZER ARGS...: an agent on the client's port, connected
	local name=$1 node=$2 an=$3; shift 3
	ns_start "$name" "$G" -v -i "$IF_CLI" --connect "127.0.0.1:$PORT" --node "$node" "$@"
	wait_for 10 sh -c "grep -q 'agent $node connected' '$T_TMP/$an.err'"
}

# kill_restart CASE QUEUE QPS: analyzer CASE-1 streams from an agent (--connect-queue QUEUE)
# under QPS queries/s; it is stopped (so that batches are in flight, not acknowledged), killed,
# and CASE-2 starts 1.5 s later; then the load ends, the agent stops and drains, CASE-2 stops.
# Sets CAP (captured), ACKED, LOST (dropped by the output), RESENT, A1 (acked by CASE-1) and
# D2 (frames CASE-2 decoded).
kill_restart() {
	local c=$1 queue=$2 qps=$3
	analyzer "${c}1" || fail "${c}_analyzer_start: $(tail -3 "$T_TMP/${c}1.err")"
	agent_up "${c}_ag" "$c" "${c}1" --connect-queue "$queue" ||
		fail "${c}_connect: $(tail -3 "$T_TMP/${c}_ag.err")"
	load 7 "$qps" "$c"
	sleep 2
	kill -STOP "$(pid "${c}1")"
	sleep 0.5
	stop "${c}1" KILL
	sleep 1.5
	analyzer "${c}2" || fail "${c}_analyzer_restart: $(tail -3 "$T_TMP/${c}2.err")"
	wait_for 15 sh -c "grep -q 'agent $c connected' '$T_TMP/${c}2.err'" ||
		fail "${c}_reconnect: $(tail -3 "$T_TMP/${c}_ag.err")"
	wait "$LOAD"
	sleep 0.5
	stop "${c}_ag"
	stop "${c}2"
	CAP=$(agent_stat captured "${c}_ag")
	ACKED=$(agent_stat acked "${c}_ag")
	LOST=$(sed -n 's/.*; connect: sent [0-9]*, dropped \([0-9]*\).*/\1/p' \
		"$T_TMP/${c}_ag.err" | tail -1)
	RESENT=$(agent_stat resent "${c}_ag")
	A1=$(first_acked "${c}_ag")
	D2=$(metric proto_frames "$T_TMP/${c}2.err")
	log "$c: captured $CAP, acked $ACKED (first analyzer $A1), second analyzer decoded $D2," \
		"lost $LOST, resent $RESENT"
}

# ---- 1. outage that fits the queue: nothing lost ------------------------------------------------
kill_restart fit 8M 300
check fit_captured test "${CAP:-0}" -gt 1000
check_eq fit_nothing_lost "$LOST" 0
check_eq fit_acked_is_captured "$ACKED" "$CAP"
check_eq fit_identity "$((${A1:-0} + D2 + LOST))" "$CAP"
check fit_batches_resent test "${RESENT:-0}" -gt 0
check_eq fit_unacked_lost_at_exit "$(agent_stat lost fit_ag)" 0

# ---- 2. outage that overflows a 64 KiB queue: lost, counted, identity exact ---------------------
kill_restart small 64k 1500
check small_frames_lost test "${LOST:-0}" -gt 0
check_eq small_identity "$((${A1:-0} + D2 + LOST))" "$CAP"
check_eq small_acked_plus_lost "$((ACKED + LOST))" "$CAP"
check small_batches_resent test "${RESENT:-0}" -gt 0
up=$(metric upstream_stream_drops "$T_TMP/small2.err")
check small_analyzer_counts_loss test "$up" -gt 0
check_eq small_analyzer_counts_agent_loss "$up" "$LOST"

# ---- 3. the connection breaks, the analyzer lives: exactly once ---------------------------------
# Acks every 10 s: what the analyzer takes before the break is not acknowledged when the
# connection breaks; the analyzer's first Ack on the new connection says it took it, so the
# agent releases it instead of sending it again.
analyzer same --ack-interval 10 || fail "same_analyzer_start: $(tail -3 "$T_TMP/same.err")"
agent_up same_ag same same || fail "same_connect: $(tail -3 "$T_TMP/same_ag.err")"
load 5 100 same
sleep 2
nsx "$NS_NODE" ss -K -t state established dst 127.0.0.1 dport = :"$PORT" >/dev/null
wait_for 10 sh -c "[ \$(grep -c 'agent same connected' '$T_TMP/same.err') -ge 2 ]" ||
	fail "same_reconnect: $(tail -3 "$T_TMP/same_ag.err")"
wait "$LOAD"
sleep 0.5
stop same_ag
stop same
CAP=$(agent_stat captured same_ag)
D=$(metric proto_frames "$T_TMP/same.err")
RESENT=$(agent_stat resent same_ag)
KEPT=$(sed -n 's/.*sent again; \([0-9]*\) batch(es) kept to send again.*/\1/p' \
	"$T_TMP/same_ag.err" | head -1)
log "same: captured $CAP, decoded $D, resent $RESENT, kept at the break $KEPT"
check same_captured test "${CAP:-0}" -gt 300
check_eq same_reconnected "$(grep -c 'agent same connected' "$T_TMP/same.err")" 2
check same_unacked_at_break test "${KEPT:-0}" -gt 0
check_eq same_exactly_once "$D" "$CAP"
check_eq same_duplicates "$(metric proto_duplicate_frames "$T_TMP/same.err")" 0
check_eq same_resumed_after_taken "$RESENT" 0
check_eq same_all_acked "$(agent_stat acked same_ag)/$(agent_stat lost same_ag)" "$CAP/0"

# ---- 4. batches sent again to the analyzer that took them: dropped by number --------------------
# A hand-made agent run sends batches 1-4 on one connection and, while it is still open,
# batches 3-6 on a second: 3 and 4 are duplicates (2 frames each). An agent of minor version 1
# numbers batches per connection: its repeated numbers are new batches.
analyzer dup || fail "dup_analyzer_start: $(tail -3 "$T_TMP/dup.err")"
out=$(nsx "$NS_NODE" /usr/bin/python3 - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
def varint(v):
    b = b""
    while True:
        if v < 0x80:
            return b + bytes([v])
        b += bytes([v & 0x7f | 0x80]); v >>= 7
def field(num, data): return varint(num << 3 | 2) + varint(len(data)) + data
def vfield(num, v): return varint(num << 3) + varint(v)
def env(num, msg):
    body = field(num, msg)
    return struct.pack(">I", len(body)) + body
def hello(node, session):
    return env(1, vfield(1, 1) + field(3, node) + vfield(6, 77) + vfield(7, session))
frame = bytes(12) + b"\x88\xb5" + bytes(46)     # an Ethernet frame (local experimental type)
pkt = field(2, vfield(1, 10**18) + vfield(2, 1) + vfield(3, 1) + vfield(4, len(frame)) +
            field(5, frame))
def batch(seq): return env(2, vfield(1, seq) + pkt + pkt)
def conn(minor, node, session, seqs):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PANS" + struct.pack(">HH", 1, minor) + hello(node, session) +
              b"".join(batch(q) for q in seqs))
    return s
def first_ack(s):                   # the analyzer's preamble, then Envelope{ack{seq}}
    s.settimeout(5)
    got = b""
    while len(got) < 12 or len(got) < 12 + struct.unpack(">I", got[8:12])[0]:
        got += s.recv(100)
    body = got[12:12 + struct.unpack(">I", got[8:12])[0]]
    if got[:4] != b"PANS" or body[:1] != b"\x2a":
        return "not an ack: %r" % got
    ack = body[2:2 + body[1]]
    return 0 if not ack else ack[1]     # Ack{seq = 1}: a one-byte seq here
a = conn(2, b"dup", 1, [1, 2, 3, 4])
print("ack1", first_ack(a))
time.sleep(0.5)
b = conn(2, b"dup", 2, [3, 4, 5, 6])
print("ack2", first_ack(b))
time.sleep(0.5)
c = conn(1, b"old", 1, [1, 2])
time.sleep(0.3)
c.close()
d = conn(1, b"old", 2, [1, 2])
time.sleep(0.5)
for s in (a, b, d):
    s.close()
PY
)
sleep 0.5
stop dup
check_eq dup_first_ack_new_run "$(echo "$out" | sed -n 's/^ack1 //p')" 0
check_eq dup_first_ack_says_taken "$(echo "$out" | sed -n 's/^ack2 //p')" 4
check_eq dup_frames_once "$(metric proto_frames "$T_TMP/dup.err")" $((6 * 2 + 4 * 2))
check_eq dup_duplicates_dropped "$(metric proto_duplicate_frames "$T_TMP/dup.err")" 4
t_done
