#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_kafka.sh - pano-analyzer publishing to a real Apache Kafka broker (scripts/kafka.sh,
# shared by the test run: kafka_shared in tests/lib/kafka.sh), read back by kcat as an independent
# consumer. The capture is made here (tests/lib/gen_dns_clients.py: 40 clients, 2000
# transactions, some records over 2 kB), and the analyzer's own stdout for the same capture is
# the reference every read-back is compared with, as a multiset of JSON lines.
#   exactly once   idempotent producer, acks=all: the reference, each record once
#   keyed          a topic of 3 partitions: each client on one partition, key = client
#                  address, each client's records in the analyzer's order (ts non-decreasing)
#   pause          the broker frozen (SIGSTOP) for 20 s mid-stream: nothing lost
#   restart        the broker killed mid-stream, down 20 s, started again: nothing lost
#   down at start  no broker for the analyzer's first 35 s: it decodes everything (file
#                  sink), retries, and delivers it all once the broker is up
#   dies           the broker killed mid-stream for good: SIGTERM gives a bounded exit, every
#                  record not delivered counted as dropped_at_exit, exit status 1
#   small queue    queue.buffering.max.messages=50: records read back = records - the
#                  dropped_queue_full counter, exactly; counted, exit status 0
#   too large      a topic with max.message.bytes=1400: the broker refuses the analyzer's
#                  batches, every record counted, one line; told the limit with -X
#                  message.max.bytes, the analyzer refuses exactly the records over it
#   tls            the broker's SSL listener; with the wrong CA: one line, all counted
#   sasl           the broker's SASL PLAIN listener; with a wrong password: one line, all
#                  counted
#   missing topic  a second broker with auto-creation off: one "does not exist" line, every
#                  record counted (left at exit: exit status 1; failed once librdkafka stops
#                  waiting for the topic: 0); an existing topic on it works
#   mock           librdkafka's mock cluster only for what a real broker cannot do on demand:
#                  transient produce errors, retried by the idempotent producer, exactly once
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/kafka.sh"

A=$PANO_BUILD/pano-analyzer
MOCK=$PANO_BUILD/tests/kafka_mock
PY=/usr/bin/python3
need_cmd kafka kcat editcap capinfos java mvn "$PY"
for f in "$A" "$MOCK"; do
	[ -x "$f" ] || { fail "kafka: $f is not built"; t_done; }
done

# The second broker (auto-creation off) starts in the background now, to be ready later.
KAFKA2_DIR=$T_TMP/kafka-noauto
on_exit "KAFKA_DIR=$KAFKA2_DIR $KAFKA_SH stop"
KAFKA_DIR=$KAFKA2_DIR KAFKA_AUTO_CREATE=0 "$KAFKA_SH" start >"$T_TMP/kafka2.boot" \
	2>"$T_TMP/kafka2.err" &
KAFKA2_PID=$!

kafka_shared || { fail "kafka_broker: no broker: $(cat "$T_TMP/kafka-start.err" 2>/dev/null | tail -n 3)"; t_done; }
log "broker $KAFKA_BOOT (SSL $KAFKA_BOOT_SSL, SASL $KAFKA_BOOT_SASL), Kafka $("$KAFKA_SH" version)"

CAP=$T_TMP/clients.pcap
"$PY" "$PANO_ROOT/tests/lib/gen_dns_clients.py" "$CAP" || { fail "kafka_capture: generator failed"; t_done; }

# The reference: what the stdout sink prints. Every run below that is compared with it has one
# --uid-seed ($SEED), so that runs give the same uids; should two runs still differ, uids are
# masked in every comparison below.
SEED="--uid-seed 22"
"$A" $SEED --read "$CAP" >"$T_TMP/ref1.jsonl" 2>"$T_TMP/ref.err"
"$A" $SEED --read "$CAP" >"$T_TMP/ref2.jsonl" 2>>"$T_TMP/ref.err"
MASK=cat
if ! cmp -s "$T_TMP/ref1.jsonl" "$T_TMP/ref2.jsonl"; then
	log "stdout differs between runs; comparing with uid masked"
	MASK="sed -E s/\"uid\":\"[^\"]*\"/\"uid\":\"-\"/"
fi
$MASK "$T_TMP/ref1.jsonl" | sort >"$T_TMP/ref.sorted"
N=$(wc -l <"$T_TMP/ref1.jsonl")
check_eq kafka_reference_records "$N" 2000

# kstat FILE NAME: a value from the "sink kafka:" block of a --stats summary.
kstat() { awk -v n="$2" '/^sink /{k = ($2 == "kafka:")} k && $1 == n {v = $2} END {print v}' "$1"; }
# records_in FILE: the records handed to the Kafka sink ("sink kafka: records in N, ...").
records_in() { awk '/^sink kafka:/{sub(",", "", $5); print $5}' "$1"; }
# values FILE: the record column of a kafka_consume file, masked and sorted.
values() { cut -f3- "$1" | $MASK | sort; }
# same_as FILE WANT_SORTED: the records read back are exactly WANT_SORTED (count and content).
same_as() {
	values "$1" >"$1.sorted"
	cmp -s "$2" "$1.sorted" && return 0
	log "read back $(wc -l <"$1.sorted") records, want $(wc -l <"$2"):" \
		"$(diff "$2" "$1.sorted" | grep -c '^<') missing, $(diff "$2" "$1.sorted" | grep -c '^>') extra"
	return 1
}
# subset_of FILE WANT_SORTED: every record read back is a distinct record of WANT_SORTED.
subset_of() { values "$1" | comm -13 "$2" - | grep -q . && return 1 || return 0; }
# kafka_lines FILE: the analyzer's Kafka warnings and errors.
kafka_lines() { grep -E '(warning|error): (kafka|rd_kafka)' "$1"; }
# losses_ok FILE: delivered and every cause of loss add up to the records handed to the sink,
# with none left queued.
losses_ok() {
	local f=$1
	[ $(($(kstat "$f" delivered) + $(kstat "$f" failed) + $(kstat "$f" dropped_at_exit) + \
		$(kstat "$f" dropped_queue_full) + $(kstat "$f" produce_errors))) -eq \
		"$(records_in "$f")" ] && [ "$(kstat "$f" queued)" = 0 ]
}
# publish NAME ARGS...: the analyzer on the capture with --stats; $NAME.out/.err, RC.
publish() {
	local n=$1; shift
	"$A" $SEED --read "$CAP" --stats "$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err"
	RC=$?
}

# Live input: the capture in two parts (the second without its pcap header), streamed by a
# PCAP-over-TCP server (tests/lib/pcap_relay.py) to pano-analyzer --pcap-connect, as an agent
# streams, so that the broker can go away between them.
NPKT=$(capinfos -c -M "$CAP" | awk '/Number of packets/{print $NF}')
HALF=$((NPKT / 2))
editcap -r -F pcap "$CAP" "$T_TMP/p1.pcap" "1-$HALF" &&
	editcap -r -F pcap "$CAP" "$T_TMP/p2full.pcap" "$((HALF + 1))-$NPKT" &&
	tail -c +25 "$T_TMP/p2full.pcap" >"$T_TMP/p2.raw" ||
	{ fail "kafka_split: editcap failed"; t_done; }
# N1: the answered transactions of part one (written as soon as their reply is decoded);
# ANSWERED: those of the whole capture (the unanswered ones wait for their timeout or the end).
N1=$("$A" --read "$T_TMP/p1.pcap" 2>/dev/null | grep -c '"rcode"')
ANSWERED=$(grep -c '"rcode"' "$T_TMP/ref1.jsonl")
SIZE=$(stat -c %s "$CAP")
# live_start NAME ARGS...: a relay fed through fd 4 (live_feed) and the analyzer reading it
# with --pcap-connect and --stats; LIVE is the analyzer's pid.
live_start() {
	local n=$1; shift
	mkfifo "$T_TMP/$n.in"
	"$PY" "$PANO_ROOT/tests/lib/pcap_relay.py" "$T_TMP/$n.port" <"$T_TMP/$n.in" \
		>"$T_TMP/$n.relay" 2>&1 &
	on_exit "kill $!"
	exec 4>"$T_TMP/$n.in"
	wait_for 10 test -s "$T_TMP/$n.port" || log "the relay did not start: $(cat "$T_TMP/$n.relay")"
	RELAY=$T_TMP/$n.relay RELAY_PORT=$(cat "$T_TMP/$n.port")
	"$A" $SEED --pcap-connect "127.0.0.1:$RELAY_PORT" --stats "$@" >"$T_TMP/$n.out" \
		2>"$T_TMP/$n.err" &
	LIVE=$!
	on_exit "kill -9 $LIVE"
}
live_feed() { cat "$1" >&4; }
# live_read BYTES: the relay has sent BYTES and the analyzer has taken them all (nothing left
# in the connection's queues).
relay_sent() { [ "$(tail -n 1 "$RELAY" | awk '{print $2}')" -ge "$1" ] 2>/dev/null; }
queues_empty() {
	ss -Htn state established "( sport = :$RELAY_PORT or dport = :$RELAY_PORT )" |
		awk '$1 != 0 || $2 != 0 {bad = 1} END {exit bad}'
}
live_read() { wait_for 30 relay_sent "$1" && wait_for 30 queues_empty; }
# in_kafka_within SECONDS TOPIC N: waits at most SECONDS until N records of TOPIC can be read.
in_kafka_within() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(timeout 5 kcat -C -q -b "$KAFKA_BOOT" -t "$2" -o beginning -e 2>/dev/null |
			grep -c .)" -ge "$3" ] && return 0
		sleep 0.2
	done
	return 1
}
# live_end TOPIC [N]: once N records (default: every answered transaction) can be read back
# from TOPIC (so that the close's 5 s flush bound does not race a broker just back, or a slow
# one), the end of the stream and SIGTERM; waits for the analyzer, RC is its exit status.
live_end() {
	local n=${2:-$ANSWERED}
	in_kafka_within 60 "$1" "$n" || log "not all $n records in Kafka"
	exec 4>&-
	kill -TERM "$LIVE"
	wait "$LIVE"
	RC=$?
}

# ---- exactly once: idempotent producer, acks=all ------------------------------------------
T=$(kafka_topic once)
publish once --kafka-brokers "$KAFKA_BOOT" -T "$T" -X enable.idempotence=true -X acks=all
check_eq kafka_once_exit_status "$RC" 0
check_eq kafka_once_no_stdout "$(wc -c <"$T_TMP/once.out")" 0
check_eq kafka_once_delivered "$(kstat "$T_TMP/once.err" delivered)" "$N"
kafka_consume "$T" "$T_TMP/once.txt"
check kafka_once_records_equal_stdout same_as "$T_TMP/once.txt" "$T_TMP/ref.sorted"
check_eq kafka_once_no_warnings "$(kafka_lines "$T_TMP/once.err")" ""

# ---- a topic per log: --kafka-topic LOG=NAME; DNS and TLS records of one run, each log on its
# own topic (the ssl records are those the stdout sink prints for the TLS capture alone) -------
T=$(kafka_topic bypath)
TS=$(kafka_topic bypath-ssl)
TLSCAP=$PANO_CORPUS/zeek/Traces/tls/ecdhe.pcap
UIDLESS='s/"uid":"[^"]*"/"uid":"-"/'
"$A" $SEED --read "$TLSCAP" | sed -E "$UIDLESS" | sort >"$T_TMP/ssl.sorted"
NS=$(wc -l <"$T_TMP/ssl.sorted")
check kafka_bypath_ssl_reference [ "$NS" -ge 1 ]
publish bypath --read "$TLSCAP" --kafka-brokers "$KAFKA_BOOT" -T dns=never-used -T "ssl=$TS" \
	-T "dns=$T"
check_eq kafka_bypath_exit_status "$RC" 0
check_eq kafka_bypath_delivered "$(kstat "$T_TMP/bypath.err" delivered)" "$((N + NS))"
kafka_consume "$T" "$T_TMP/bypath.txt"
check kafka_bypath_dns_topic_equals_stdout same_as "$T_TMP/bypath.txt" "$T_TMP/ref.sorted"
kafka_consume "$TS" "$T_TMP/bypath-ssl.txt"
cut -f3- "$T_TMP/bypath-ssl.txt" | sed -E "$UIDLESS" | sort >"$T_TMP/bypath-ssl.sorted"
check kafka_bypath_ssl_topic_equals_stdout cmp -s "$T_TMP/bypath-ssl.sorted" "$T_TMP/ssl.sorted"
"$A" --read "$CAP" --kafka-brokers "$KAFKA_BOOT" -T Bad=x >/dev/null 2>"$T_TMP/bypath-bad.err"
check_eq kafka_bypath_bad_log_name_usage "$?" 2

# ---- keyed: 3 partitions, one client on one partition, in order ---------------------------
T=$(kafka_topic keyed)
if kafka_ctl topic create "$T" 3 2>"$T_TMP/topic.err"; then
	publish keyed --kafka-brokers "$KAFKA_BOOT" -T "$T"
	check_eq kafka_keyed_delivered "$(kstat "$T_TMP/keyed.err" delivered)" "$N"
	kafka_consume "$T" "$T_TMP/keyed.txt"
	check kafka_keyed_records_equal_stdout same_as "$T_TMP/keyed.txt" "$T_TMP/ref.sorted"
	# Per client: key = id_orig_h, one partition, the records in the order the analyzer
	# wrote them (uid sequence of the reference), ts never going back.
	"$PY" - "$T_TMP/ref1.jsonl" "$T_TMP/keyed.txt" >"$T_TMP/keyed.check" 2>&1 <<'PY'
import json, sys
ref, got = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    ref.setdefault(r['id_orig_h'], []).append((r['ts'], r['uid']))
parts, bad = set(), []
for line in open(sys.argv[2]):
    p, k, v = line.rstrip('\n').split('\t', 2)
    r = json.loads(v)
    if k != r['id_orig_h']:
        bad.append('key %s != id_orig_h %s' % (k, r['id_orig_h']))
    got.setdefault(k, []).append((p, r['ts'], r['uid']))
    parts.add(p)
for c, recs in got.items():
    if len({p for p, _, _ in recs}) != 1:
        bad.append('client %s on partitions %s' % (c, sorted({p for p, _, _ in recs})))
    ts = [t for _, t, _ in recs]
    if any(b < a for a, b in zip(ts, ts[1:])):
        bad.append('client %s: ts goes back' % c)
    if [u for _, _, u in recs] != [u for _, u in ref.get(c, [])]:
        bad.append('client %s: order differs from the analyzer output' % c)
print('clients %d partitions %d' % (len(got), len(parts)))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad else 0)
PY
	check kafka_keyed_client_one_partition_in_order [ $? -eq 0 ]
	check_eq kafka_keyed_clients_partitions "$(head -n1 "$T_TMP/keyed.check")" "clients 40 partitions 3"
	[ "$(wc -l <"$T_TMP/keyed.check")" -gt 1 ] && log "$(tail -n +2 "$T_TMP/keyed.check")"
else
	fail "kafka_keyed_topic: kafka.sh topic create failed: $(tail -n 3 "$T_TMP/topic.err")"
fi

# ---- pause: the broker frozen for 20 s mid-stream ------------------------------------------
T=$(kafka_topic pause)
live_start pause --kafka-brokers "$KAFKA_BOOT" -T "$T"
live_feed "$T_TMP/p1.pcap"
in_kafka_within 20 "$T" "$N1" || log "part one's $N1 records not yet in Kafka"
check kafka_pause_broker_stopped kafka_ctl pause
live_feed "$T_TMP/p2.raw"
live_read "$SIZE" || log "the analyzer has not read the whole capture"
sleep 20 # pacing only: the broker stays frozen for 20 s
check kafka_pause_analyzer_alive kill -0 "$LIVE"
check kafka_pause_broker_resumed kafka_ctl resume
live_end "$T"
check_eq kafka_pause_exit_status "$RC" 0
check_eq kafka_pause_delivered "$(kstat "$T_TMP/pause.err" delivered)" "$N"
kafka_consume "$T" "$T_TMP/pause.txt"
check kafka_pause_records_equal_stdout same_as "$T_TMP/pause.txt" "$T_TMP/ref.sorted"

# ---- restart: the broker killed mid-stream, down for 20 s, started again -----------------
T=$(kafka_topic restart)
live_start restart --kafka-brokers "$KAFKA_BOOT" -T "$T"
live_feed "$T_TMP/p1.pcap"
in_kafka_within 20 "$T" "$N1" || log "part one's $N1 records not yet in Kafka"
check kafka_restart_broker_killed kafka_ctl kill
live_feed "$T_TMP/p2.raw"
live_read "$SIZE" || log "the analyzer has not read the whole capture"
sleep 20 # pacing only: the broker stays down for 20 s
check kafka_restart_analyzer_alive kill -0 "$LIVE"
check kafka_restart_broker_started kafka_ctl start
live_end "$T"
check_eq kafka_restart_exit_status "$RC" 0
check_eq kafka_restart_delivered "$(kstat "$T_TMP/restart.err" delivered)" "$N"
kafka_consume "$T" "$T_TMP/restart.txt"
check kafka_restart_records_equal_stdout same_as "$T_TMP/restart.txt" "$T_TMP/ref.sorted"
# The outage is said, briefly: a broker error line or two, and the recovery.
n=$(kafka_lines "$T_TMP/restart.err" | wc -l)
if kafka_lines "$T_TMP/restart.err" | grep -q 'kafka: _TRANSPORT\|kafka: _ALL_BROKERS_DOWN' &&
	grep -q 'kafka: delivering again' "$T_TMP/restart.err" && [ "$n" -le 4 ]; then
	pass kafka_restart_said
else
	fail "kafka_restart_said: $n lines: $(kafka_lines "$T_TMP/restart.err" | head -n 5)"
fi

# ---- down at start: decodes, retries, delivers once the broker is up ---------------------
T=$(kafka_topic late)
check kafka_late_broker_stopped kafka_ctl stop
live_start late --kafka-brokers "$KAFKA_BOOT" -T "$T" --output "$T_TMP/late.jsonl"
t0=$SECONDS
live_feed "$CAP"
live_read "$SIZE" || log "the analyzer has not read the whole capture"
# Decoding goes on with no broker: the whole capture is taken from the stream and records
# reach the file sink.
check kafka_late_decodes_without_broker wait_for 10 test -s "$T_TMP/late.jsonl"
# Down for more than librdkafka's 30 s topic.metadata.propagation.max.ms: with it, every
# record queued meanwhile failed as an unknown topic once the broker was back and created it.
sleep $((35 - (SECONDS - t0))) 2>/dev/null # pacing only
check kafka_late_broker_started kafka_ctl start
live_end "$T"
check_eq kafka_late_exit_status "$RC" 0
check_eq kafka_late_delivered "$(kstat "$T_TMP/late.err" delivered)" "$N"
check_eq kafka_late_file_sink "$(grep -c . "$T_TMP/late.jsonl")" "$N"
kafka_consume "$T" "$T_TMP/late.txt"
check kafka_late_records_equal_stdout same_as "$T_TMP/late.txt" "$T_TMP/ref.sorted"
grep -q 'kafka: _TRANSPORT.*Connection refused' "$T_TMP/late.err" && pass kafka_late_said ||
	fail "kafka_late_said: $(kafka_lines "$T_TMP/late.err" | head -n 3)"

# ---- dies: killed mid-stream for good; SIGTERM; everything counted -----------------------
T=$(kafka_topic dies)
live_start dies --kafka-brokers "$KAFKA_BOOT" -T "$T"
live_feed "$T_TMP/p1.pcap"
in_kafka_within 20 "$T" "$N1" || log "part one's $N1 records not yet in Kafka"
check kafka_dies_broker_killed kafka_ctl kill
live_feed "$T_TMP/p2.raw"
live_read "$SIZE" || log "the analyzer has not read the whole capture"
kill -TERM "$LIVE"
# The flush bound is 5 s; 30 s only keeps a hung analyzer from hanging the test.
if wait_for 30 sh -c "! kill -0 $LIVE 2>/dev/null"; then
	pass kafka_dies_sigterm_exits
	wait "$LIVE"
	check_eq kafka_dies_exit_status "$?" 1
	out=$(records_in "$T_TMP/dies.err") d=$(kstat "$T_TMP/dies.err" delivered)
	log "records $out, delivered $d before the broker died"
	check kafka_dies_counts_add_up losses_ok "$T_TMP/dies.err"
	check kafka_dies_some_undelivered [ "$(kstat "$T_TMP/dies.err" dropped_at_exit)" -gt 0 ]
	grep -q "kafka: $((out - d)) of $out records not delivered" "$T_TMP/dies.err" &&
		pass kafka_dies_said || fail "kafka_dies_said: $(kafka_lines "$T_TMP/dies.err" | tail -n 2)"
	kafka_ctl start || fail "kafka_dies_broker_started: $KAFKA_RUN_DIR/kafka.log"
	kafka_consume "$T" "$T_TMP/dies.txt"
	check_eq kafka_dies_read_back_equals_delivered "$(grep -c . "$T_TMP/dies.txt")" "$d"
	check kafka_dies_read_back_from_stdout subset_of "$T_TMP/dies.txt" "$T_TMP/ref.sorted"
else
	fail "kafka_dies_sigterm_exits: still running 30 s after SIGTERM"
	kafka_ctl start
fi
exec 4>&-

# ---- small queue: shortfall = the drop counter, exactly ----------------------------------
T=$(kafka_topic queue)
publish queue --kafka-brokers "$KAFKA_BOOT" -T "$T" -X queue.buffering.max.messages=50
q=$(kstat "$T_TMP/queue.err" dropped_queue_full) d=$(kstat "$T_TMP/queue.err" delivered)
log "small queue: $d delivered, $q dropped"
check kafka_queue_some_dropped [ "${q:-0}" -gt 0 ]
check_eq kafka_queue_exit_status "$RC" 0
check_eq kafka_queue_delivered_plus_dropped "$((d + q))" "$N"
check_eq kafka_queue_counter "$(awk '$1 == "kafka_dropped_queue_full" {print $2}' "$T_TMP/queue.err")" "$q"
kafka_consume "$T" "$T_TMP/queue.txt"
check_eq kafka_queue_shortfall_equals_drops "$((N - $(grep -c . "$T_TMP/queue.txt")))" "$q"
check kafka_queue_read_back_from_stdout subset_of "$T_TMP/queue.txt" "$T_TMP/ref.sorted"

# ---- too large: a topic with max.message.bytes=1400 --------------------------------------
T=$(kafka_topic big)
T2=$(kafka_topic big2)
if kafka_ctl topic create "$T" 1 max.message.bytes=1400 2>"$T_TMP/topic.err" &&
	kafka_ctl topic create "$T2" 1 max.message.bytes=1400 2>>"$T_TMP/topic.err"; then
	# With the defaults, batches (up to 1 MB, compressed) are refused whole.
	publish big --kafka-brokers "$KAFKA_BOOT" -T "$T" --output "$T_TMP/big.jsonl"
	check_eq kafka_big_exit_status "$RC" 0
	check_eq kafka_big_decodes_everything "$(grep -c . "$T_TMP/big.jsonl")" "$N"
	check kafka_big_counts_add_up losses_ok "$T_TMP/big.err"
	kafka_consume "$T" "$T_TMP/big.txt"
	check_eq kafka_big_read_back_equals_delivered "$(grep -c . "$T_TMP/big.txt")" \
		"$(kstat "$T_TMP/big.err" delivered)"
	check_eq kafka_big_said_once "$(grep -c 'not delivered: Broker: Message size too large' "$T_TMP/big.err")" 1
	# The client told the limit (-X message.max.bytes, which also bounds its batches):
	# exactly the records over 1400 bytes are refused, before they leave the analyzer. Batches
	# this small go out slowly, so the records are streamed and read back before the end.
	awk 'length($0) > 1400' "$T_TMP/ref1.jsonl" | $MASK | sort >"$T_TMP/big.want-refused"
	awk 'length($0) <= 1400' "$T_TMP/ref1.jsonl" | $MASK | sort >"$T_TMP/big.want-kafka"
	log "records over 1400 bytes: $(wc -l <"$T_TMP/big.want-refused")"
	live_start big2 --kafka-brokers "$KAFKA_BOOT" -T "$T2" -X message.max.bytes=1400
	live_feed "$CAP"
	live_end "$T2" "$(grep -c '"rcode"' "$T_TMP/big.want-kafka")"
	check_eq kafka_big2_exit_status "$RC" 0
	check_eq kafka_big2_refused "$(kstat "$T_TMP/big2.err" produce_errors)" \
		"$(wc -l <"$T_TMP/big.want-refused")"
	check_eq kafka_big2_delivered "$(kstat "$T_TMP/big2.err" delivered)" \
		"$(wc -l <"$T_TMP/big.want-kafka")"
	check_eq kafka_big2_said_once "$(grep -c 'record to .* refused: Broker: Message size too large' "$T_TMP/big2.err")" 1
	kafka_consume "$T2" "$T_TMP/big2.txt"
	check kafka_big2_read_back_the_small_ones same_as "$T_TMP/big2.txt" "$T_TMP/big.want-kafka"
else
	fail "kafka_big_topic: kafka.sh topic create failed: $(tail -n 3 "$T_TMP/topic.err")"
fi

# ---- TLS: the broker's SSL listener -------------------------------------------------------
if [ -n "$KAFKA_BOOT_SSL" ]; then
	T=$(kafka_topic tls)
	publish tls --kafka-brokers "$KAFKA_BOOT_SSL" -T "$T" -X security.protocol=ssl \
		-X ssl.ca.location="$KAFKA_CA"
	check_eq kafka_tls_exit_status "$RC" 0
	check_eq kafka_tls_delivered "$(kstat "$T_TMP/tls.err" delivered)" "$N"
	kafka_consume "$T" "$T_TMP/tls.txt"
	check kafka_tls_records_equal_stdout same_as "$T_TMP/tls.txt" "$T_TMP/ref.sorted"
	# A CA that did not sign the broker's certificate: nothing delivered, all counted.
	T=$(kafka_topic tlsbad)
	publish tlsbad --kafka-brokers "$KAFKA_BOOT_SSL" -T "$T" -X security.protocol=ssl \
		-X ssl.ca.location="$KAFKA_RUN_DIR/certs/other-ca.crt" --output "$T_TMP/tlsbad.jsonl"
	check_eq kafka_tlsbad_exit_status "$RC" 1
	check_eq kafka_tlsbad_decodes_everything "$(grep -c . "$T_TMP/tlsbad.jsonl")" "$N"
	check_eq kafka_tlsbad_delivered "$(kstat "$T_TMP/tlsbad.err" delivered)" 0
	check_eq kafka_tlsbad_undelivered "$(kstat "$T_TMP/tlsbad.err" dropped_at_exit)" "$N"
	check_eq kafka_tlsbad_said_once "$(grep -c 'kafka: _SSL: .*certificate verify failed' "$T_TMP/tlsbad.err")" 1
else
	fail "kafka_tls: the broker has no SSL listener ($KAFKA_RUN_DIR/bootstrap-ssl)"
fi

# ---- SASL PLAIN: the right password, and a wrong one ---------------------------------------
if [ -n "$KAFKA_BOOT_SASL" ]; then
	T=$(kafka_topic sasl)
	publish sasl --kafka-brokers "$KAFKA_BOOT_SASL" -T "$T" -X security.protocol=sasl_plaintext \
		-X sasl.mechanisms=PLAIN -X sasl.username=pano -X sasl.password=pano-secret
	check_eq kafka_sasl_exit_status "$RC" 0
	check_eq kafka_sasl_delivered "$(kstat "$T_TMP/sasl.err" delivered)" "$N"
	kafka_consume "$T" "$T_TMP/sasl.txt"
	check kafka_sasl_records_equal_stdout same_as "$T_TMP/sasl.txt" "$T_TMP/ref.sorted"
	T=$(kafka_topic saslbad)
	publish saslbad --kafka-brokers "$KAFKA_BOOT_SASL" -T "$T" -X security.protocol=sasl_plaintext \
		-X sasl.mechanisms=PLAIN -X sasl.username=pano -X sasl.password=wrong \
		--output "$T_TMP/saslbad.jsonl"
	check_eq kafka_saslbad_exit_status "$RC" 1
	check_eq kafka_saslbad_decodes_everything "$(grep -c . "$T_TMP/saslbad.jsonl")" "$N"
	check_eq kafka_saslbad_undelivered "$(kstat "$T_TMP/saslbad.err" dropped_at_exit)" "$N"
	check_eq kafka_saslbad_said_once \
		"$(grep -c 'kafka: _AUTHENTICATION: .*Invalid username or password' "$T_TMP/saslbad.err")" 1
else
	fail "kafka_sasl: the broker has no SASL listener ($KAFKA_RUN_DIR/bootstrap-sasl)"
fi

# ---- missing topic, auto-creation off (the second broker) --------------------------------
if wait "$KAFKA2_PID" && B2=$(cat "$T_TMP/kafka2.boot") && [ -n "$B2" ]; then
	T=$(kafka_topic missing)
	publish missing --kafka-brokers "$B2" -T "$T" --output "$T_TMP/missing.jsonl"
	check_eq kafka_missing_exit_status "$RC" 1
	check_eq kafka_missing_decodes_everything "$(grep -c . "$T_TMP/missing.jsonl")" "$N"
	check_eq kafka_missing_undelivered "$(kstat "$T_TMP/missing.err" dropped_at_exit)" "$N"
	check_eq kafka_missing_said_once "$(grep -c "kafka: topic $T does not exist" "$T_TMP/missing.err")" 1
	# Past librdkafka's wait for the topic to appear, records fail at once (counted as failed).
	publish missing2 --kafka-brokers "$B2" -T "$T" -X topic.metadata.propagation.max.ms=1000
	check_eq kafka_missing2_exit_status "$RC" 0
	check_eq kafka_missing2_failed "$(kstat "$T_TMP/missing2.err" failed)" "$N"
	check_eq kafka_missing2_said_once "$(grep -c "kafka: topic $T does not exist" "$T_TMP/missing2.err")" 1
	T=$(kafka_topic exists)
	if KAFKA_DIR=$KAFKA2_DIR "$KAFKA_SH" topic create "$T" 2 2>"$T_TMP/topic.err"; then
		publish exists --kafka-brokers "$B2" -T "$T"
		check_eq kafka_noauto_existing_topic_delivered "$(kstat "$T_TMP/exists.err" delivered)" "$N"
	else
		fail "kafka_noauto_topic: $(tail -n 3 "$T_TMP/topic.err")"
	fi
else
	fail "kafka_noauto_broker: did not start: $(tail -n 3 "$T_TMP/kafka2.err")"
fi

# ---- mock: transient produce errors (the real broker cannot fail requests on demand) -----
mkfifo "$T_TMP/mock.in"
"$MOCK" -b 1 -p 3 -t retry <"$T_TMP/mock.in" >"$T_TMP/mock.out" 2>"$T_TMP/mock.err" &
MOCK_PID=$!
on_exit "kill $MOCK_PID"
exec 3>"$T_TMP/mock.in"
if wait_for 10 grep -q '^BOOTSTRAP ' "$T_TMP/mock.out"; then
	MB=$(awk '/^BOOTSTRAP /{print $2; exit}' "$T_TMP/mock.out")
	echo "fail-produce 5" >&3
	wait_for 10 grep -qx "OK fail-produce 5" "$T_TMP/mock.out" && pass kafka_mock_errors_armed ||
		fail "kafka_mock_errors_armed: $(cat "$T_TMP/mock.out")"
	publish mock --kafka-brokers "$MB" -T retry -X enable.idempotence=true
	check_eq kafka_mock_exit_status "$RC" 0
	check_eq kafka_mock_delivered "$(kstat "$T_TMP/mock.err" delivered)" "$N"
	kafka_consume retry "$T_TMP/mock.txt" "$MB"
	check kafka_mock_records_equal_stdout same_as "$T_TMP/mock.txt" "$T_TMP/ref.sorted"
else
	fail "kafka_mock_start: no BOOTSTRAP line: $(head -c 300 "$T_TMP/mock.err")"
fi
exec 3>&-
t_done
