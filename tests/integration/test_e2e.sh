#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_e2e.sh - the whole pipeline on live traffic:
#
#   dnsperf (client ns) --> knot (server ns)
#        pano-agent on the client's bridge port (node ns) --PCAP-over-TCP-->
#        pano-analyzer --pcap-connect --> Kafka (a real broker in the node ns) --> kcat
#
# dnsperf runs at a moderate rate for a few seconds over UDP/IPv4, then briefly over TCP/IPv6.
# Every query it saw answered must come out of Kafka as one answered transaction (a record with
# an rcode): the counts are equal, for TCP alone too. The analyzer's file output holds the same
# records as Kafka, and both programs stop cleanly. The agent runs with its defaults (snaplen
# 9216, so TCP answers the server sends as one GSO frame of several kB arrive whole); if
# frames are cut short (a smaller --snaplen in E2E_AGENT_ARGS), the test says so when it fails.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"
. "$PANO_ROOT/tests/lib/kafka.sh"

RATE=${E2E_RATE:-500}
SECONDS_RUN=${E2E_SECONDS:-5}

need_root e2e
need_cmd e2e knotd kdig dnsperf kcat jq java mvn
for b in "$PANO_AGENT" "$PANO_ANALYZER"; do
	[ -x "$b" ] || { fail "e2e: $b is not built"; t_done; }
done

netns_up || { fail "e2e: netns_up failed"; t_done; }
dns_up || { fail "e2e: knot did not start"; t_done; }
dns_querylist "$T_TMP/queries.txt"

PORT=$(free_port)
# The agent also writes a file, to explain a failure; E2E_KEEP=DIR keeps it and every log there.
[ -n "${E2E_KEEP:-}" ] && on_exit "mkdir -p '$E2E_KEEP'; cp -r $T_TMP/. '$E2E_KEEP'/"
# E2E_AGENT_ARGS: extra pano-agent options (e.g. --snaplen 9216), default none.
# shellcheck disable=SC2086
agent_up "$NS_NODE" "$IF_CLI" "$PORT" --write "$T_TMP/agent.pcap" ${E2E_AGENT_ARGS:-} ||
	{ fail "e2e: pano-agent did not start"; t_done; }
# The analyzer runs in the node namespace, where the run's shared broker (on the host's
# loopback) cannot be reached: this test starts a broker there.
kafka_private "$T_TMP/kafka" "$NS_NODE" ||
	{ fail "e2e: the Kafka broker did not start: $(tail -n 3 "$T_TMP/kafka.err")"; t_done; }
KAFKA_BOOT=$KAFKA_PRIVATE
log "kafka broker at $KAFKA_BOOT, agent on $IF_CLI, PCAP-over-TCP port $PORT"

bg_start AN_PID "$T_TMP/analyzer.log" "$NS_NODE" "$PANO_ANALYZER" --pcap-connect "127.0.0.1:$PORT" \
	--kafka-brokers "$KAFKA_BOOT" --output "$T_TMP/records.jsonl" --stats
wait_for 10 established "$NS_NODE" "$PORT" 1 || { fail "e2e: analyzer did not connect: $(cat "$T_TMP/analyzer.log")"; t_done; }
sleep 0.5

# UDP over IPv4 at RATE for SECONDS_RUN, then TCP over IPv6 at a fifth of it for 2 s.
nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -l "$SECONDS_RUN" -Q "$RATE" -c 4 -t 2 \
	>"$T_TMP/dnsperf.txt" 2>&1
nsx "$NS_CLI" dnsperf -m tcp -s "$SRV6" -d "$T_TMP/queries.txt" -l 2 -Q $((RATE / 5)) -c 2 -t 2 \
	>"$T_TMP/dnsperf-tcp.txt" 2>&1
c_udp=$(dnsperf_completed "$T_TMP/dnsperf.txt") c_tcp=$(dnsperf_completed "$T_TMP/dnsperf-tcp.txt")
s_udp=$(dnsperf_sent "$T_TMP/dnsperf.txt") s_tcp=$(dnsperf_sent "$T_TMP/dnsperf-tcp.txt")
log "dnsperf: udp/v4 sent ${s_udp:-?}, completed ${c_udp:-?}; tcp/v6 sent ${s_tcp:-?}, completed ${c_tcp:-?}"
if [ -z "$c_udp" ] || [ -z "$c_tcp" ] || [ "$c_udp" -eq 0 ] || [ "$c_tcp" -eq 0 ]; then
	fail "e2e_dnsperf: no completed queries: $(tail -3 "$T_TMP/dnsperf.txt" "$T_TMP/dnsperf-tcp.txt" | tr '\n' ' ')"
	t_done
fi
completed=$((c_udp + c_tcp)) sent=$((s_udp + s_tcp))
pass "e2e_dnsperf ($completed of $sent queries answered)"

# Let the analyzer catch up with the stream (it writes answered records at once), then stop it:
# on SIGTERM it flushes Kafka.
answered_in_file() { [ "$(jq -c 'select(.rcode != null)' "$T_TMP/records.jsonl" 2>/dev/null | wc -l)" -ge "$completed" ]; }
wait_for 15 answered_in_file
bg_stop "$AN_PID" TERM 20
check_eq e2e_analyzer_exit_status "$BG_RC" 0
bg_stop "$AGENT_PID" INT 10
check_eq e2e_agent_exit_status "$BG_RC" 0

# Read everything back from Kafka.
nsx "$NS_NODE" timeout 60 kcat -C -b "$KAFKA_BOOT" -t pano-dns -o beginning -e -q -f '%s\n' \
	>"$T_TMP/kafka.jsonl" 2>"$T_TMP/kcat.err"
kafka_all=$(grep -c . "$T_TMP/kafka.jsonl")
kafka_answered=$(jq -c 'select(.rcode != null)' "$T_TMP/kafka.jsonl" | wc -l)
file_all=$(grep -c . "$T_TMP/records.jsonl")
log "kafka: $kafka_all records, $kafka_answered answered; file: $file_all records"
# why_short: a hint when transactions are missing: frames the agent cut short (snaplen), e.g.
# TCP answers sent as one GSO frame larger than the MTU.
why_short() {
	local cut
	cut=$($PCAP_FRAMES full "$T_TMP/agent.pcap" 2>&1 | awk '{ print $1 }')
	[ "${cut:-0}" != 0 ] && echo " ($cut frames cut short by the agent's snaplen: $(tshark -n -r "$T_TMP/agent.pcap" \
		-Y 'frame.cap_len < frame.len' -T fields -e frame.len -e _ws.col.Protocol 2>/dev/null | sort -u | head -3 | tr '\n\t' ', '))"
}
if [ "$kafka_answered" -eq "$completed" ]; then
	pass "e2e_kafka_answered_equals_dnsperf_completed ($completed)"
else
	fail "e2e_kafka_answered_equals_dnsperf_completed: got $kafka_answered, want $completed$(why_short)"
fi
if [ "$kafka_all" -gt 0 ] && jq -e . "$T_TMP/kafka.jsonl" >/dev/null 2>&1; then pass e2e_kafka_valid_json; else fail "e2e_kafka_valid_json: jq rejects the Kafka records"; fi
# The same records went to the file and to Kafka (compared as sorted lines).
if [ "$kafka_all" -gt 0 ] && cmp -s <(sort "$T_TMP/kafka.jsonl") <(sort "$T_TMP/records.jsonl"); then
	pass "e2e_kafka_equals_file ($kafka_all records)"
else
	fail "e2e_kafka_equals_file: kafka $kafka_all records, file $file_all: $(head -c 300 "$T_TMP/kcat.err")"
fi
# Every record is for a name dnsperf asked, from the client to the server.
bad=$(jq -r --arg c "$CLI4" --arg s "$SRV4" --arg c6 "$CLI6" --arg s6 "$SRV6" '
	select((.proto == "udp" and .id_orig_h == $c and .id_resp_h == $s) or
	       (.proto == "tcp" and .id_orig_h == $c6 and .id_resp_h == $s6) | not)
	| "\(.proto) \(.id_orig_h) \(.query)"' "$T_TMP/kafka.jsonl" | head -3)
tcp_n=$(jq -c 'select(.proto == "tcp" and .rcode != null)' "$T_TMP/kafka.jsonl" | wc -l)
if [ "$tcp_n" -eq "$c_tcp" ]; then pass "e2e_kafka_tcp_v6_answered ($tcp_n)"; else
	fail "e2e_kafka_tcp_v6_answered: got $tcp_n, want $c_tcp$(why_short)"
fi
[ -z "$bad" ] && [ "$kafka_all" -gt 0 ] && pass e2e_record_endpoints || fail "e2e_record_endpoints: unexpected records for: $bad"
t_done
