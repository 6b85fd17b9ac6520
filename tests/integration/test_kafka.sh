#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_kafka.sh - pano-analyzer publishing to Kafka: librdkafka's mock cluster (tests/tools/
# kafka_mock) on a loopback TCP port, kcat reading the records back.
#  1. The records in Kafka are exactly the records the stdout sink gives for the same capture
#     (as a multiset of JSON lines), each keyed by its client, one client on one partition.
#  2. The broker goes down mid-run: the analyzer survives, notices, and everything produced
#     during the outage arrives once the broker is back.
#  3. SIGTERM while the broker is down: the analyzer exits after its flush bound and counts
#     every record it had produced (none could be delivered) as dropped_at_exit.
. "$(dirname "$0")/../lib/lib.sh"

A=$PANO_BUILD/pano-analyzer
MOCK=$PANO_BUILD/tests/kafka_mock
CAP=$PANO_CORPUS/zeek/Traces/wikipedia.pcap
need_cmd kafka kcat editcap
for f in "$A" "$MOCK"; do
	[ -x "$f" ] || { skip "kafka: $f not built"; exit 0; }
done
[ -r "$CAP" ] || { skip "kafka: $CAP missing"; exit 0; }

# mock_start: the mock cluster (1 broker, 4 partitions per topic), commands through fd 3.
mock_start() {
	mkfifo "$T_TMP/mock.in"
	"$MOCK" -b 1 -p 4 -t pano-dns -t outage -t sigterm <"$T_TMP/mock.in" \
		>"$T_TMP/mock.out" 2>"$T_TMP/mock.err" &
	MOCK_PID=$!
	on_exit "kill $MOCK_PID"
	exec 3>"$T_TMP/mock.in"
	wait_for 10 grep -q '^BOOTSTRAP ' "$T_TMP/mock.out" || return 1
	BOOT=$(awk '/^BOOTSTRAP /{print $2; exit}' "$T_TMP/mock.out")
}
# mock_cmd CMD...: sends a command and waits for its OK.
mock_cmd() {
	echo "$*" >&3
	wait_for 10 grep -qx "OK $*" "$T_TMP/mock.out"
}
# consume TOPIC OUT: every message of TOPIC as "partition<TAB>key<TAB>value" lines.
consume() {
	timeout 60 kcat -C -q -b "$BOOT" -t "$1" -o beginning -e -f '%p\t%k\t%s\n' >"$2"
}
# kafka_stat FILE NAME: a value from the "sink kafka:" block of a --stats summary.
kafka_stat() {
	awk -v n="$2" '/^sink /{k = ($2 == "kafka:")} k && $1 == n {v = $2} END {print v}' "$1"
}
# values FILE: the record column of a consume() file, sorted.
values() { cut -f3- "$1" | sort; }
# keys_ok FILE: each record's key is its id_orig_h, and each key stays on one partition.
keys_ok() {
	awk -F'\t' '{
		if (match($3, /"id_orig_h":"[^"]*"/)) h = substr($3, RSTART + 13, RLENGTH - 14);
		else h = "";
		if ($2 != h) { print "key " $2 " != id_orig_h " h > "/dev/stderr"; bad = 1 }
		if (($2 in p) && p[$2] != $1) { print "key " $2 " on two partitions" > "/dev/stderr"; bad = 1 }
		p[$2] = $1
	} END { exit bad }' "$1"
}

mock_start || { fail "kafka_mock_start: no BOOTSTRAP line"; t_done; }

# The reference: what the stdout sink prints. If two runs differ (a per-run uid), uids are
# masked in every comparison below.
"$A" --read "$CAP" >"$T_TMP/ref1.jsonl" 2>"$T_TMP/ref.err"
"$A" --read "$CAP" >"$T_TMP/ref2.jsonl" 2>>"$T_TMP/ref.err"
MASK=cat
if ! cmp -s "$T_TMP/ref1.jsonl" "$T_TMP/ref2.jsonl"; then
	log "stdout differs between runs; comparing with uid masked"
	MASK="sed -E s/\"uid\":\"[^\"]*\"/\"uid\":\"-\"/"
fi
sort "$T_TMP/ref1.jsonl" | $MASK | sort >"$T_TMP/ref.sorted"
N=$(wc -l <"$T_TMP/ref1.jsonl")
if [ "$N" -eq 0 ]; then
	fail "kafka_reference: the stdout sink gave no records for $CAP"
	t_done
fi
log "reference: $N records"

# ---- 1. same records as stdout, keyed, one partition per client --------------------------
"$A" --read "$CAP" --kafka-brokers "$BOOT" --stats >"$T_TMP/k1.out" 2>"$T_TMP/k1.err"
check_eq kafka_exit_status "$?" 0
check_eq kafka_no_stdout_when_kafka_only "$(wc -c <"$T_TMP/k1.out")" 0
check_eq kafka_stats_delivered "$(kafka_stat "$T_TMP/k1.err" delivered)" "$N"
check_eq kafka_stats_failed "$(kafka_stat "$T_TMP/k1.err" failed)" 0
consume pano-dns "$T_TMP/c1.txt"
values "$T_TMP/c1.txt" | $MASK | sort >"$T_TMP/c1.sorted"
if cmp -s "$T_TMP/ref.sorted" "$T_TMP/c1.sorted"; then
	pass kafka_records_equal_stdout
else
	fail "kafka_records_equal_stdout: $(wc -l <"$T_TMP/c1.sorted") records in Kafka," \
		"$N on stdout; diff: $(diff "$T_TMP/ref.sorted" "$T_TMP/c1.sorted" | head -4)"
fi
check kafka_key_is_client_one_partition keys_ok "$T_TMP/c1.txt"

# ---- 2. broker down mid-run, back up: everything arrives --------------------------------
# The capture goes in through a pipe in two parts (the second without its pcap header), the
# broker going down in between.
NPKT=$(capinfos -c -M "$CAP" | awk '/Number of packets/{print $NF}')
HALF=$((NPKT / 2))
editcap -F pcap -r "$CAP" "$T_TMP/p1.pcap" "1-$HALF" &&
	editcap -F pcap -r "$CAP" "$T_TMP/p2full.pcap" "$((HALF + 1))-$NPKT" &&
	tail -c +25 "$T_TMP/p2full.pcap" >"$T_TMP/p2.raw" ||
	{ fail "kafka_outage_setup: editcap failed"; t_done; }
mkfifo "$T_TMP/in2"
"$A" --read - --kafka-brokers "$BOOT" --kafka-topic outage --stats <"$T_TMP/in2" \
	>/dev/null 2>"$T_TMP/k2.err" &
A2=$!
on_exit "kill $A2"
exec 4>"$T_TMP/in2"
cat "$T_TMP/p1.pcap" >&4
# Wait until part one's records reach Kafka (if part one makes any), then stop the broker.
N1=$("$A" --read "$T_TMP/p1.pcap" --dns-timeout 1000000 2>/dev/null | grep -c . || true)
[ "$N1" -gt 0 ] && wait_for 10 sh -c "kcat -C -q -b $BOOT -t outage -o beginning -e | grep -q ."
check kafka_outage_broker_down mock_cmd down 1
cat "$T_TMP/p2.raw" >&4
sleep 2	# pacing only: let the analyzer queue part two while the broker is down
check kafka_outage_analyzer_alive kill -0 $A2
check kafka_outage_broker_up mock_cmd up 1
exec 4>&-
wait $A2
check_eq kafka_outage_exit_status "$?" 0
if grep -q 'kafka: _TRANSPORT\|kafka: _ALL_BROKERS_DOWN' "$T_TMP/k2.err"; then
	pass kafka_outage_noticed
else
	fail "kafka_outage_noticed: no broker error logged: $(head -c 300 "$T_TMP/k2.err")"
fi
check_eq kafka_outage_delivered "$(kafka_stat "$T_TMP/k2.err" delivered)" "$N"
check_eq kafka_outage_dropped_at_exit "$(kafka_stat "$T_TMP/k2.err" dropped_at_exit)" 0
consume outage "$T_TMP/c2.txt"
values "$T_TMP/c2.txt" | $MASK | sort >"$T_TMP/c2.sorted"
if cmp -s "$T_TMP/ref.sorted" "$T_TMP/c2.sorted"; then
	pass kafka_outage_records_equal_stdout
else
	fail "kafka_outage_records_equal_stdout: $(wc -l <"$T_TMP/c2.sorted") records in" \
		"Kafka, $N on stdout"
fi

# ---- 3. SIGTERM with the broker down: bounded exit, undelivered records counted ---------
check kafka_sigterm_broker_down mock_cmd down 1
mkfifo "$T_TMP/in3"
"$A" --read - --kafka-brokers "$BOOT" --kafka-topic sigterm --stats <"$T_TMP/in3" \
	>/dev/null 2>"$T_TMP/k3.err" &
A3=$!
on_exit "kill -9 $A3"
exec 5>"$T_TMP/in3"
cat "$CAP" >&5	# the whole capture, but no end of input: only SIGTERM ends this run
# Wait until it has read the capture (read(2) bytes in /proc/PID/io), then a moment to decode.
SIZE=$(stat -c %s "$CAP")
wait_for 30 sh -c "[ \$(awk '/^rchar/{print \$2}' /proc/$A3/io) -ge $SIZE ]"
sleep 0.5	# pacing only
kill -TERM $A3
# The flush bound is 5 s; 30 s only keeps a hung analyzer from hanging the test.
if wait_for 30 sh -c "! kill -0 $A3 2>/dev/null"; then
	pass kafka_sigterm_exits
	wait $A3
	rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] && pass kafka_sigterm_exit_status ||
		fail "kafka_sigterm_exit_status: $rc"
	out=$(awk '/^sink kafka:/{sub(",", "", $5); print $5}' "$T_TMP/k3.err")
	log "records out before SIGTERM: $out of $N"
	check kafka_sigterm_records_out [ "${out:-0}" -gt 0 ]
	check_eq kafka_sigterm_delivered "$(kafka_stat "$T_TMP/k3.err" delivered)" 0
	check_eq kafka_sigterm_dropped_at_exit "$(kafka_stat "$T_TMP/k3.err" dropped_at_exit)" \
		"$out"
	grep -q "kafka: $out records undelivered at exit" "$T_TMP/k3.err" &&
		pass kafka_sigterm_logged || fail "kafka_sigterm_logged: no 'undelivered' warning"
else
	fail "kafka_sigterm_exits: still running 30 s after SIGTERM"
fi
exec 5>&-
mock_cmd up 1
t_done
