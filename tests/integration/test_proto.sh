#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_proto.sh - the protobuf stream end to end, in network namespaces with a real DNS server:
#   1. three agents (client port, server port and bridge of the node) stream to one analyzer:
#      every transaction appears once per agent, with that agent's node and interface;
#   2. the analyzer is SIGKILLed mid-stream and restarted: the agent reconnects, the loss is
#      counted by the agent and reported to (and counted by) the new analyzer, records resume;
#   3. mutual TLS: a good certificate works; a certificate from another CA, an expired one and a
#      plain-TCP agent are refused, and nothing they captured reaches the records;
#   5. PCAP-over-TCP over TLS (agent --pcap-listen with --tls-*): `openssl s_client | tcpdump -r -`
#      reads it with a good client certificate; another CA's certificate and plain TCP get no
#      pcap byte;
#   4. malformed streams (truncated envelope, 4 GB length prefix, garbage after the hello, newer
#      major version): each gets its own clear error and a closed connection, and the analyzer
#      keeps serving.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"

A=$PANO_BUILD/pano-analyzer
G=$PANO_BUILD/pano-agent
need_root proto
need_cmd proto dig dnsperf openssl python3 knotd
for b in "$A" "$G"; do [ -x "$b" ] || { fail "proto: $b is not built"; t_done; }; done

netns_up || { fail "proto_netns: could not build the test hosts"; t_done; }
dns_up || { fail "proto_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up	# the analyzer listens on the node's loopback
# A second client host on the bridge, so that three agents have three ports to watch (bridged
# frames never pass br0's own hooks).
netns_client2 || { fail "proto_netns: second client host"; t_done; }
CERTS=$T_TMP/certs
"$PANO_ROOT/scripts/make-certs.sh" "$CERTS" >/dev/null || { fail "proto_certs: make-certs.sh"; t_done; }
PORT=$(free_port)

pid() { cat "$T_TMP/$1.pid"; }
# stop NAME [SIG]: signal (TERM by default) and wait up to 10 s for the process to go.
stop() {
	local p; p=$(pid "$1")
	kill -"${2:-TERM}" "$p" 2>/dev/null
	local i
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
analyzer() {	# analyzer NAME ARGS...: an analyzer listening on $PORT, records in NAME.out
	local name=$1; shift
	ns_start "$name" "$A" -v --stats --listen "127.0.0.1:$PORT" "$@"
	wait_for 5 grep -q "listening for agents" "$T_TMP/$name.err"
}
connected() { grep -c "agent $2 connected" "$T_TMP/$1.err"; }
# queries N TAG [NS]: N dig queries for qI.TAG.pano.test from the client host (or NS), in turn.
queries() {
	local i
	for i in $(seq "$1"); do
		nsx "${3:-$NS_CLI}" dig +tries=1 +timeout=2 @"$SRV4" "q$i.$2.pano.test" A >/dev/null 2>&1
	done
}
# records FILE NODE QUERY-REGEX: how many records of NODE whose query matches.
records() {
	python3 - "$@" <<'EOF'
import json, re, sys
path, node, pat = sys.argv[1:4]
n = 0
for line in open(path):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("node") == node and re.fullmatch(pat, r.get("query", "")):
        n += 1
print(n)
EOF
}

# ---- 1. three agents, one analyzer -------------------------------------------------------------
# node-a watches the first client's port, node-c the second client's, node-b the server's: a
# query from the first client is seen by node-a and node-b, one from the second by node-c and
# node-b; each agent must report each of its transactions once, with its own node/interface.
analyzer an1 || fail "proto_analyzer_start: $(tail -3 "$T_TMP/an1.err")"
ns_start ag_a "$G" -v -i "$IF_CLI" --connect "127.0.0.1:$PORT" --node node-a
ns_start ag_b "$G" -v -i "$IF_SRV" --connect "127.0.0.1:$PORT" --node node-b
ns_start ag_c "$G" -v -i "$IF_CLI2" --connect "127.0.0.1:$PORT" --node node-c
ok=1
for n in node-a node-b node-c; do
	wait_for 10 sh -c "grep -q 'agent $n connected' '$T_TMP/an1.err'" || ok=0
done
check_eq proto_three_agents_connected "$ok" 1
N=12
queries $N one
queries $N two "$NS_CLI2"
sleep 0.5
for n in ag_a ag_b ag_c; do stop $n; done
stop an1
R=$T_TMP/an1.out
check_eq proto_node-a_transactions "$(records $R node-a 'q[0-9]+\.one\.pano\.test')/$(records $R node-a '.*\.two\..*')" "$N/0"
check_eq proto_node-c_transactions "$(records $R node-c 'q[0-9]+\.two\.pano\.test')/$(records $R node-c '.*\.one\..*')" "$N/0"
check_eq proto_node-b_transactions "$(records $R node-b 'q[0-9]+\.one\.pano\.test')/$(records $R node-b 'q[0-9]+\.two\.pano\.test')" "$N/$N"
want_if() { case $1 in node-a) echo "$IF_CLI";; node-b) echo "$IF_SRV";; node-c) echo "$IF_CLI2";; esac; }
for n in node-a node-b node-c; do
	bad=$(python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("node") == sys.argv[2] and r.get("interface") != sys.argv[3]:
        bad += 1
print(bad)' $R $n "$(want_if $n)")
	check_eq "proto_${n}_interface" "$bad" 0
done
# Per query: exactly one record per agent that saw it (two), never a merge across agents.
check_eq proto_two_records_per_query "$(python3 -c '
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("query", "").endswith((".one.pano.test", ".two.pano.test")):
        c[r["query"]] += 1
print(len(c), sorted(set(c.values())))' $R)" "$((2 * N)) [2]"

# ---- 2. analyzer killed and restarted mid-stream ------------------------------------------------
analyzer an2
ns_start ag_r "$G" -v -i "$IF_CLI" --connect "127.0.0.1:$PORT" --node node-r --connect-queue 64k
wait_for 10 sh -c "grep -q 'agent node-r connected' '$T_TMP/an2.err'" ||
	fail "proto_restart_connect: $(tail -3 "$T_TMP/ag_r.err")"
queries 5 before
sleep 0.5	# let the agent's batch timer (50 ms) send them
stop an2 KILL
# While no analyzer listens: far more frames than the 64 KiB queue holds.
for i in $(seq 3000); do echo "q$i.down.pano.test A"; done >"$T_TMP/down.txt"
nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/down.txt" -n 1 -q 500 -l 20 >/dev/null 2>&1
analyzer an3
wait_for 15 sh -c "grep -q 'agent node-r connected' '$T_TMP/an3.err'"
check_eq proto_agent_reconnected "$(connected an3 node-r)" 1
# The agent first sends what its full 64 KiB queue held; a frame captured before that went is
# dropped (and counted, as it should be), so the new queries wait for the queue to drain.
sleep 1
queries 5 after
stop ag_r
stop an3
check proto_agent_saw_disconnect grep -q "reconnecting" "$T_TMP/ag_r.err"
agent_dropped=$(sed -n 's/.*connect: sent [0-9]*, dropped \([0-9]*\).*/\1/p' "$T_TMP/ag_r.err" | tail -1)
check proto_agent_counts_loss test "${agent_dropped:-0}" -gt 0
an_dropped=$(awk '$1 == "upstream_stream_drops" {print $2}' "$T_TMP/an3.err")
check proto_analyzer_counts_upstream_loss test "${an_dropped:-0}" -gt 0
check_eq proto_records_before_kill "$(records "$T_TMP/an2.out" node-r 'q[0-9]+\.before\.pano\.test')" 5
check_eq proto_records_resume "$(records "$T_TMP/an3.out" node-r 'q[0-9]+\.after\.pano\.test')" 5
log "agent dropped $agent_dropped frames; new analyzer counted $an_dropped upstream"

# ---- 3. mutual TLS ---------------------------------------------------------------------------
TLS_S=(--tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" --tls-ca "$CERTS/ca.crt")
analyzer an4 "${TLS_S[@]}"
tls_agent() {	# tls_agent NAME NODE CERT IFACE: an agent on IFACE presenting CERT
	ns_start "$1" "$G" -v -i "$4" --connect "127.0.0.1:$PORT" --node "$2" \
		--tls-ca "$CERTS/ca.crt" --tls-cert "$CERTS/$3.crt" --tls-key "$CERTS/$3.key"
}
tls_agent ag_good tls-good client "$IF_CLI"
tls_agent ag_other tls-other other "$IF_SRV"
tls_agent ag_expired tls-expired expired "$IF_CLI2"
ns_start ag_plain "$G" -v -i br0 --connect "127.0.0.1:$PORT" --node tls-plain
wait_for 10 sh -c "grep -q 'agent tls-good connected' '$T_TMP/an4.err'"
check_eq proto_tls_good_connected "$(connected an4 tls-good)" 1
# Refusals happen at (or right after) the handshake; let each agent try at least twice.
wait_for 15 sh -c "[ \$(grep -c 'TLS handshake refused' '$T_TMP/an4.err') -ge 6 ]"
queries 4 tls
queries 4 tls2 "$NS_CLI2"
sleep 0.5
for n in ag_good ag_other ag_expired ag_plain; do stop $n; done
stop an4
check_eq proto_tls_good_records "$(records "$T_TMP/an4.out" tls-good 'q[0-9]+\.tls\.pano\.test')" 4
for n in tls-other tls-expired tls-plain; do
	check_eq "proto_${n}_refused_no_records" "$(records "$T_TMP/an4.out" $n '.*')" 0
	check_eq "proto_${n}_never_said_hello" "$(connected an4 $n)" 0
done
check proto_tls_refusal_other_ca grep -q "unable to get local issuer certificate" "$T_TMP/an4.err"
check proto_tls_refusal_expired grep -q "certificate has expired" "$T_TMP/an4.err"
check proto_tls_refusal_plain grep -qE "TLS handshake refused: .*(wrong version|http request|packet length|record)" "$T_TMP/an4.err"
refused=$(awk '$1 == "proto_connections_refused" {print $2}' "$T_TMP/an4.err")
check proto_tls_refusals_counted test "${refused:-0}" -ge 3
# The only frames decoded came from the good agent: every record is tls-good's.
check_eq proto_tls_only_good_records "$(records "$T_TMP/an4.out" tls-good '.*')" \
	"$(grep -c . "$T_TMP/an4.out")"

# ---- 4. malformed streams ------------------------------------------------------------------------
analyzer an5
# evil CASE: connects, sends the case's bytes, and prints "closed" when the analyzer closed the
# connection (EOF or reset) within 5 s, "open" otherwise; then "no refusal" unless the analyzer
# said why first (its preamble and a Refusal envelope).
evil() {
	nsx "$NS_NODE" python3 - "$PORT" "$1" <<'EOF'
import socket, struct, sys
port, case = int(sys.argv[1]), sys.argv[2]
def pre(major=1, minor=0): return b"PANS" + struct.pack(">HH", major, minor)
def env(body): return struct.pack(">I", len(body)) + body
hello_msg = b"\x08\x01\x1a\x04evil"                       # Hello{stream_version 1, node "evil"}
hello = env(b"\x0a" + bytes([len(hello_msg)]) + hello_msg)  # Envelope{hello}
data = {
    "truncated": pre() + hello + struct.pack(">I", 100) + b"\x12\x05",
    "huge": pre() + hello + b"\xff\xff\xff\xff" + b"\x00" * 64,
    "garbage": pre() + hello + b"\x00\x00\x00\x06\xff\xff\xff\xff\xff\xff",
    "newer": pre(major=2) + hello,
}[case]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(data)
if case == "truncated":
    s.shutdown(socket.SHUT_WR)       # the peer ends the stream mid-envelope
s.settimeout(5)
said = b""                           # the analyzer's Refusal before it closes
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        said += b
    print("closed")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("open")
if said[:4] != b"PANS" or len(said) < 16:
    print("no refusal")
EOF
}
check_eq proto_malformed_truncated_closed "$(evil truncated)" closed
check_eq proto_malformed_huge_length_closed "$(evil huge)" closed
check_eq proto_malformed_garbage_closed "$(evil garbage)" closed
check_eq proto_malformed_newer_version_closed "$(evil newer)" closed
check proto_malformed_analyzer_alive kill -0 "$(pid an5)"
stop an5
check proto_error_truncated grep -q "truncated" "$T_TMP/an5.err"
check proto_error_huge_length grep -q "claims 4294967295 bytes, over the" "$T_TMP/an5.err"
check proto_error_garbage grep -q "malformed envelope" "$T_TMP/an5.err"
check proto_error_newer_version grep -q "stream version 2.0 is newer than this analyzer" "$T_TMP/an5.err"
check_eq proto_malformed_no_records "$(grep -c . "$T_TMP/an5.out")" 0

# ---- 5. PCAP-over-TCP over TLS ----------------------------------------------------------------
PPORT=$(free_port)
ns_start ag_pot "$G" -v -i "$IF_CLI" --pcap-listen "127.0.0.1:$PPORT" "${TLS_S[@]}"
wait_for 10 sh -c "grep -q 'listening on' '$T_TMP/ag_pot.err'"
# s_client NAME CERT: a TLS client presenting CERT, its plaintext output in $T_TMP/NAME.pcap.
s_client() {
	nsx "$NS_NODE" timeout 15 openssl s_client -quiet -connect "127.0.0.1:$PPORT" \
		-CAfile "$CERTS/ca.crt" -verify_return_error -cert "$CERTS/$2.crt" \
		-key "$CERTS/$2.key" </dev/null 2>"$T_TMP/$1.tlserr" | head -c 2000000 >"$T_TMP/$1.pcap" &
	CLIENTS+=($!)
}
CLIENTS=()
s_client pot_good client
s_client pot_other other
nsx "$NS_NODE" python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
s.settimeout(5)
data = b""
try:
    while len(data) < 64:
        b = s.recv(64)
        if not b:
            break
        data += b
except OSError:
    pass
open(sys.argv[2], "wb").write(data)' "$PPORT" "$T_TMP/pot_plain.pcap" &
CLIENTS+=($!)
# The analyzer's own PCAP-over-TCP client over TLS: verifies the agent, presents a certificate.
ns_start an_pot "$A" -v --node potnode --pcap-connect "127.0.0.1:$PPORT" --tls-ca "$CERTS/ca.crt" \
	--tls-cert "$CERTS/client.crt" --tls-key "$CERTS/client.key"
ns_start an_pot_other "$A" -v --pcap-connect "127.0.0.1:$PPORT" --tls-ca "$CERTS/ca.crt" \
	--tls-cert "$CERTS/other.crt" --tls-key "$CERTS/other.key"
wait_for 10 grep -q "connected to 127.0.0.1:$PPORT (TLS)" "$T_TMP/an_pot.err"
sleep 1
queries 6 pot
sleep 1
stop an_pot
stop an_pot_other
stop ag_pot
wait "${CLIENTS[@]}"
check proto_pcap_tls_analyzer_client_records \
	test "$(records "$T_TMP/an_pot.out" potnode 'q[0-9]+\.pot\.pano\.test')" -ge 6
check_eq proto_pcap_tls_analyzer_other_ca_no_records "$(grep -c . "$T_TMP/an_pot_other.out")" 0
got=$(tcpdump -r "$T_TMP/pot_good.pcap" -nn 2>/dev/null | grep -c 'pot\.pano\.test')
check proto_pcap_tls_tcpdump_reads test "$got" -ge 6
check_eq proto_pcap_tls_other_ca_no_bytes "$(wc -c <"$T_TMP/pot_other.pcap")" 0
check proto_pcap_tls_plain_no_pcap sh -c "! head -c 4 '$T_TMP/pot_plain.pcap' | od -An -tx1 | grep -q 'd4 c3 b2 a1'"
check proto_pcap_tls_refusals_logged grep -q "unable to get local issuer" "$T_TMP/ag_pot.err"
t_done
