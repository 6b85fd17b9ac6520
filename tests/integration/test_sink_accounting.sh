#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_sink_accounting.sh - every sink accounts for every record, under failure:
#     records in = out + dropped (by reason) + pending
# with the same numbers in the --stats summary (on SIGUSR1 and at exit) and on /metrics.
# A generated capture of 3000 query/reply pairs (3000 records) goes to:
#  1. -o /dev/full: nothing written, 3000 dropped (write_error), exit status 1;
#  2. standard output on /dev/full: the same for the stdout sink;
#  3. -o FILE under a 20000-byte file size limit (SIGXFSZ ignored, so write(2) takes what fits
#     and then fails): out is exactly the number of whole lines in the file;
#  4. standard output to a pipe whose reader is gone (EPIPE): everything dropped;
#  5. Kafka (librdkafka's mock cluster, tests/tools/kafka_mock) with the broker down the whole
#     run: all 3000 dropped at exit, the summary's "dropped" included;
#  6. Kafka refusing Produce requests for good (fail-produce, MESSAGE_TOO_LARGE, not retried):
#     out is exactly what kcat reads back from the topic, the rest delivery_failed;
#  7. Kafka with the broker down and --metrics --linger: /metrics and the SIGUSR1 summary give
#     the same account (3000 pending), and the exit summary (3000 dropped at exit) adds up.
. "$(dirname "$0")/../lib/lib.sh"

A=$PANO_BUILD/pano-analyzer
MOCK=$PANO_BUILD/tests/kafka_mock
need_cmd sink_accounting curl
[ -x "$A" ] || { fail "sink_accounting: $A is not built"; t_done; }
N=3000
CAP=$T_TMP/pairs.pcap
/usr/bin/python3 "$PANO_ROOT/tests/lib/gen_captures.py" pairs "$CAP" $N ||
	{ fail "sink_accounting: gen_captures.py failed"; t_done; }

# acct FILE SINK: "in out dropped pending" from the last "sink SINK:" line of a summary.
acct() {
	sed -n "s/^sink $2: records in \([0-9]*\), out \([0-9]*\), dropped \([0-9]*\).*, pending \([0-9]*\)\$/\1 \2 \3 \4/p" \
		"$1" | tail -1
}
# reason FILE SINK NAME: the count of one drop reason on that line (0 when not shown).
reason() {
	grep "^sink $2:" "$1" | tail -1 | grep -o "[( ]$3 [0-9]*" | awk '{print $2} END {if (!NR) print 0}'
}
# adds_up NAME "in out dropped pending" FILE SINK: in = out + dropped + pending, and the
# reasons on the line add up to dropped.
adds_up() {
	local n=$1 in out dropped pending sum
	read -r in out dropped pending <<<"$2"
	sum=$(grep "^sink $4:" "$3" | tail -1 | grep -o '([^)]*)' | tr -d '(),' |
		awk '{for (i = 2; i <= NF; i += 2) s += $i} END {print s + 0}')
	if [ -n "$in" ] && [ "$in" -eq $((out + dropped + pending)) ] && [ "$sum" -eq "$dropped" ]; then
		pass "$n ($in = $out + $dropped + $pending)"
	else
		fail "$n: '$2' (in out dropped pending), reasons sum to $sum: $(grep "^sink $4:" "$3")"
	fi
}

# ---- 1. -o /dev/full ----------------------------------------------------------------------
"$A" --read "$CAP" -o /dev/full --stats 2>"$T_TMP/full.err"
check_eq devfull_exit_status "$?" 1
check_eq devfull_account "$(acct "$T_TMP/full.err" file)" "$N 0 $N 0"
adds_up devfull_adds_up "$(acct "$T_TMP/full.err" file)" "$T_TMP/full.err" file
check_eq devfull_reason "$(reason "$T_TMP/full.err" file write_error)" $N
check_eq devfull_counter "$(awk '$1 == "sink_file_dropped" {print $2}' "$T_TMP/full.err")" $N

# ---- 2. the stdout sink on /dev/full --------------------------------------------------------
"$A" --read "$CAP" --stats >/dev/full 2>"$T_TMP/stdout.err"
check_eq stdout_full_exit_status "$?" 1
check_eq stdout_full_account "$(acct "$T_TMP/stdout.err" file)" "$N 0 $N 0"

# ---- 3. a file that fills up part way -------------------------------------------------------
LIMIT_KB=20
(trap '' XFSZ; ulimit -f $LIMIT_KB; exec "$A" --read "$CAP" -o "$T_TMP/part.json" --stats) \
	2>"$T_TMP/part.err"
check_eq partial_exit_status "$?" 1
lines=$(grep -c '}$' "$T_TMP/part.json")
size=$(stat -c %s "$T_TMP/part.json")
log "file size $size bytes (limit $((LIMIT_KB * 1024))), $lines whole lines"
check_eq partial_file_at_limit "$size" $((LIMIT_KB * 1024))
read -r p_in p_out p_dropped p_pending <<<"$(acct "$T_TMP/part.err" file)"
check_eq partial_out_is_whole_lines "$p_out" "$lines"
check_eq partial_in "$p_in" $N
check_eq partial_dropped "$p_dropped" $((N - lines))
adds_up partial_adds_up "$(acct "$T_TMP/part.err" file)" "$T_TMP/part.err" file
check partial_some_written [ "$lines" -gt 0 ]

# ---- 4. stdout to a pipe whose reader is gone -------------------------------------------------
# The input comes through a FIFO held open, so the reader of the output can go away before the
# analyzer writes anything (under 4096 frames and 256 KiB it writes once, at the end).
SMALL=$T_TMP/small.pcap
/usr/bin/python3 "$PANO_ROOT/tests/lib/gen_captures.py" pairs "$SMALL" 500
mkfifo "$T_TMP/in.fifo" "$T_TMP/out.fifo"
exec 7<>"$T_TMP/out.fifo"	# a reader, so that the analyzer's open does not block
"$A" --read - --stats <"$T_TMP/in.fifo" >"$T_TMP/out.fifo" 2>"$T_TMP/pipe.err" 7<&- &
APID=$!
on_exit "kill $APID"
exec 8>"$T_TMP/in.fifo"
if wait_for 10 sh -c "[ \"\$(readlink /proc/$APID/fd/1)\" = '$T_TMP/out.fifo' ]"; then
	exec 7<&-		# the only reader goes away
	cat "$SMALL" >&8	# 1000 frames
	exec 8>&-
	wait $APID
	check_eq epipe_exit_status "$?" 1
	read -r e_in e_out e_dropped e_pending <<<"$(acct "$T_TMP/pipe.err" file)"
	check_eq epipe_account "$e_in $e_out $e_dropped $e_pending" "500 0 500 0"
	adds_up epipe_adds_up "$(acct "$T_TMP/pipe.err" file)" "$T_TMP/pipe.err" file
	grep -q 'Broken pipe' "$T_TMP/pipe.err" && pass epipe_reported ||
		fail "epipe_reported: $(head -3 "$T_TMP/pipe.err")"
else
	fail "epipe_setup: the analyzer did not open its output"
	exec 7<&- 8>&-
fi

# ---- Kafka ------------------------------------------------------------------------------------
if [ ! -x "$MOCK" ] || ! command -v kcat >/dev/null 2>&1; then
	skip "sink_accounting_kafka: needs $MOCK and kcat"
	t_done
fi
mkfifo "$T_TMP/mock.in"
"$MOCK" -b 1 -p 4 -t down -t refused -t linger <"$T_TMP/mock.in" >"$T_TMP/mock.out" \
	2>"$T_TMP/mock.err" &
MOCK_PID=$!
on_exit "kill $MOCK_PID"
exec 3>"$T_TMP/mock.in"
wait_for 10 grep -q '^BOOTSTRAP ' "$T_TMP/mock.out" || { fail "kafka_mock: no BOOTSTRAP"; t_done; }
BOOT=$(awk '/^BOOTSTRAP /{print $2; exit}' "$T_TMP/mock.out")
mock_cmd() { echo "$*" >&3; wait_for 10 grep -qx "OK $*" "$T_TMP/mock.out"; }

# ---- 5. broker unreachable for the whole run ----------------------------------------------------
check kafka_down_broker_down mock_cmd down 1
"$A" --read "$CAP" --kafka-brokers "$BOOT" --kafka-topic down --stats 2>"$T_TMP/k1.err"
rc=$?
check_eq kafka_down_account "$(acct "$T_TMP/k1.err" kafka)" "$N 0 $N 0"
check_eq kafka_down_reason_at_exit "$(reason "$T_TMP/k1.err" kafka at_exit)" $N
adds_up kafka_down_adds_up "$(acct "$T_TMP/k1.err" kafka)" "$T_TMP/k1.err" kafka
check_eq kafka_down_exit_status "$rc" 1
check kafka_down_broker_up mock_cmd up 1

# ---- 6. Produce requests refused for good ------------------------------------------------------
# MESSAGE_TOO_LARGE (10) is not retried: the records of the first 5 Produce requests fail.
echo "fail-produce 5 10" >&3
check kafka_refused_inject wait_for 10 grep -q '^OK fail-produce 5' "$T_TMP/mock.out"
"$A" --read "$CAP" --kafka-brokers "$BOOT" --kafka-topic refused --stats \
	-X linger.ms=0 -X batch.num.messages=100 2>"$T_TMP/k2.err"
read -r r_in r_out r_dropped r_pending <<<"$(acct "$T_TMP/k2.err" kafka)"
adds_up kafka_refused_adds_up "$(acct "$T_TMP/k2.err" kafka)" "$T_TMP/k2.err" kafka
check_eq kafka_refused_in "$r_in" $N
check_eq kafka_refused_failed "$(reason "$T_TMP/k2.err" kafka delivery_failed)" "$r_dropped"
check kafka_refused_some_failed [ "${r_dropped:-0}" -gt 0 ]
got=$(timeout 60 kcat -C -q -b "$BOOT" -t refused -o beginning -e | grep -c .)
check_eq kafka_refused_out_is_in_broker "$got" "$r_out"
mock_cmd clear-errors

# ---- 7. /metrics, SIGUSR1 and the exit summary agree -------------------------------------------
check kafka_linger_broker_down mock_cmd down 1
MPORT=$(free_port)
"$A" --read "$CAP" --kafka-brokers "$BOOT" --kafka-topic linger --stats \
	--metrics 127.0.0.1:$MPORT --linger 2>"$T_TMP/k3.err" &
LPID=$!
on_exit "kill -9 $LPID"
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 ~ "^"m"[{]" && $1 ~ /sink="kafka"/ {s += $2} END {print s + 0}'; }
if wait_for 20 sh -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q 'pano_analyzer_sink_records_in_total{sink=\"kafka\"} $N'"; then
	sleep 0.5	# pacing only: let a poll round pass
	m="$(metric pano_analyzer_sink_records_in_total) $(metric pano_analyzer_sink_records_out_total)"
	m="$m $(metric pano_analyzer_sink_records_dropped_total) $(metric pano_analyzer_sink_records_pending)"
	kill -USR1 $LPID
	wait_for 10 grep -q '^sink kafka:' "$T_TMP/k3.err"
	check_eq kafka_metrics_account "$m" "$N 0 0 $N"
	check_eq kafka_sigusr1_same_as_metrics "$(acct "$T_TMP/k3.err" kafka)" "$m"
	curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T_TMP/metrics.txt"
	if command -v promtool >/dev/null 2>&1; then
		check kafka_metrics_promtool promtool check metrics <"$T_TMP/metrics.txt"
	fi
	kill -TERM $LPID
	wait $LPID
	check_eq kafka_exit_account "$(acct "$T_TMP/k3.err" kafka)" "$N 0 $N 0"
	adds_up kafka_exit_adds_up "$(acct "$T_TMP/k3.err" kafka)" "$T_TMP/k3.err" kafka
else
	fail "kafka_metrics: /metrics never showed $N records in: $(tail -3 "$T_TMP/k3.err")"
fi
mock_cmd up 1
t_done
