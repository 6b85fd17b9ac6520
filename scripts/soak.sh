#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# soak.sh: memory under a long steady load. `make soak` (not part of `make test`).
#
# The namespace test hosts of tests/lib/lib.sh with knot (tests/lib/dns.sh) in the server host;
# in the node namespace pano-agent captures the client's bridge port and streams to
# pano-analyzer (--connect -> --listen, --summary, records to /dev/null). For SOAK_SECONDS
# (default 1800) the client host sends:
#   - dnsperf at SOAK_QPS (default 2000) queries a second, over a list of SOAK_NAMES (default
#     200000) distinct random names under pano.test (NXDOMAIN) with one in ten a name that
#     exists;
#   - SOAK_HALFOPEN (default 300) DNS-over-TCP connections that send half a query and stall,
#     renewed as knot times them out (scripts/soak-halfopen.py);
#   - a dig +bufsize=4096 for big.pano.test TXT (3.5 kB: IP fragments) every 0.2 s.
# Every SOAK_INTERVAL (default 10) seconds it samples the RSS of both programs (VmRSS) and their
# open state (the analyzer's /metrics gauges: TCP connections and buffers, IP fragments held,
# open DNS transactions, UDP conversations, sender table; the agent's captured and dropped
# frames) into build/soak/soak.csv, and at the end plots it with gnuplot to build/soak/soak.png.
#
# Environment: SOAK_SECONDS, SOAK_QPS, SOAK_NAMES, SOAK_HALFOPEN, SOAK_INTERVAL, SOAK_DIR (default
# build/soak), BUILD or PANO_BUILD; SOAK_PLOT_ONLY=1 only plots SOAK_DIR's soak.csv again. The binaries are copied into SOAK_DIR first, so the tree may
# be rebuilt while a soak runs.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
export PANO_BUILD=${PANO_BUILD:-$_b}
. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"

SECONDS_RUN=${SOAK_SECONDS:-1800}
QPS=${SOAK_QPS:-2000}
NAMES=${SOAK_NAMES:-200000}
HALFOPEN=${SOAK_HALFOPEN:-300}
INTERVAL=${SOAK_INTERVAL:-10}
OUT=${SOAK_DIR:-$PANO_BUILD/soak}
need_root soak
need_cmd soak dnsperf dig gnuplot curl /usr/bin/python3
CSV=$OUT/soak.csv PNG=$OUT/soak.png
# soak_plot: $CSV to $PNG (gnuplot)
soak_plot() {
	gnuplot <<EOF
set terminal pngcairo size 900,640 font ",10"
set output "$PNG"
set datafile separator ","
set key autotitle columnhead top left
set multiplot layout 2,1 title "pano soak: ${QPS} qps dnsperf (random names), ${HALFOPEN} half-open TCP, fragments"
set xlabel "minutes"
set ylabel "RSS (MiB)"
set yrange [0:*]
plot "$CSV" using (\$1/60):(\$2/1024) with lines lw 2 title "pano-agent", \
     "" using (\$1/60):(\$3/1024) with lines lw 2 title "pano-analyzer"
set ylabel "open state (count + 1, log scale)"
set logscale y
set yrange [1:*]
plot "$CSV" using (\$1/60):(\$4+1) with lines title "tcp connections", \
     "" using (\$1/60):(\$8+1) with lines title "dns open transactions", \
     "" using (\$1/60):(\$9+1) with lines title "dns udp conversations", \
     "" using (\$1/60):(\$6+1) with lines title "ip fragment datagrams", \
     "" using (\$1/60):(\$10+1) with lines title "sender table"
unset multiplot
EOF
}
if [ -n "${SOAK_PLOT_ONLY:-}" ]; then	# plot an earlier run's samples again
	soak_plot
	exit
fi
if [ "$(cat "$PANO_BUILD/flavour" 2>/dev/null)" = san ]; then
	echo "soak: $PANO_BUILD holds a SAN=1 build (make, then again)" >&2
	exit 1
fi
mkdir -p "$OUT/bin"
cp "$PANO_BUILD/pano-agent" "$PANO_BUILD/pano-analyzer" "$OUT/bin/" || exit 1

DNS_WORKERS=2
netns_up || { echo "soak: could not build the test hosts" >&2; exit 1; }
ip -n "$NS_NODE" link set lo up
dns_up || { echo "soak: knot did not start" >&2; exit 1; }

# dnsperf's input: random names (NXDOMAIN), one in ten an existing name.
awk -v n="$NAMES" -v z="$DNS_ZONE" 'BEGIN { srand(21)
	for (i = 0; i < n; i++)
		if (i % 10 == 9) print (i % 20 == 9 ? "www." z " A" : "mail." z " A")
		else printf "r%08x-%d.%s %s\n", int(rand() * 4294967295), i, z, (i % 3 ? "A" : "AAAA") }' \
	>"$T_TMP/names.txt"

PORT=$((20000 + RANDOM % 30000)) # the node namespace is new: nothing listens there
AM=$((PORT + 1)) GM=$((PORT + 2))
ns_start an "$OUT/bin/pano-analyzer" --listen "127.0.0.1:$PORT" --summary -o /dev/null \
	--metrics "127.0.0.1:$AM" --stats
wait_for 10 nsx "$NS_NODE" curl -sf "127.0.0.1:$AM/metrics" || { echo "soak: no analyzer" >&2; exit 1; }
ns_start ag "$OUT/bin/pano-agent" -i "$IF_CLI" --connect "127.0.0.1:$PORT" --metrics "127.0.0.1:$GM"
wait_for 10 nsx "$NS_NODE" curl -sf "127.0.0.1:$GM/metrics" || { echo "soak: no agent" >&2; exit 1; }
AN=$(cat "$T_TMP/an.pid") AG=$(cat "$T_TMP/ag.pid")

# the load, each part stopped at the end or on exit
nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/names.txt" -Q "$QPS" -c 20 -l "$SECONDS_RUN" -t 2 \
	>"$OUT/dnsperf.txt" 2>&1 &
PERF=$!
on_exit "kill $PERF"
nsx "$NS_CLI" /usr/bin/python3 "$ROOT/scripts/soak-halfopen.py" "$SRV4" 53 "$HALFOPEN" \
	"$SECONDS_RUN" >"$OUT/halfopen.txt" 2>&1 &
HALF=$!
on_exit "kill $HALF"
(
	end=$((SECONDS + SECONDS_RUN)) n=0
	while [ $SECONDS -lt $end ]; do
		nsx "$NS_CLI" dig +bufsize=4096 +timeout=1 +tries=1 @"$SRV4" big.$DNS_ZONE TXT \
			>/dev/null 2>&1 && n=$((n + 1))
		sleep 0.2
	done
	echo "$n" >"$OUT/fragments.txt"
) &
FRAG=$!
on_exit "kill $FRAG"

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# metric FILE NAME: the sum of the samples of NAME (any labels) in a /metrics text
metric() { awk -v n="$2" '{ k = $1; sub(/\{.*/, "", k) } k == n { s += $NF }
	END { printf "%d", s }' "$1"; }
COLS="tcp_connections tcp_buffer_bytes ip_frag_held_datagrams ip_frag_held_bytes
dns_open_transactions dns_udp_conversations senders frames_total dns_records_total"
GCOLS="agent_bpf_packets_captured_total agent_bpf_ring_full_drops_total proto_out_queue_full_total"
{
	printf 'seconds,agent_rss_kb,analyzer_rss_kb'
	for c in $COLS; do printf ',analyzer_%s' "$c"; done
	for c in $GCOLS; do printf ',agent_%s' "${c#agent_}"; done
	echo
} >"$CSV"
log "soak: ${SECONDS_RUN}s at ${QPS} qps, ${HALFOPEN} half-open TCP, fragments; samples in $CSV"
t0=$SECONDS
while :; do
	t=$((SECONDS - t0))
	nsx "$NS_NODE" curl -s -m 5 "127.0.0.1:$AM/metrics" >"$T_TMP/am.txt"
	nsx "$NS_NODE" curl -s -m 5 "127.0.0.1:$GM/metrics" >"$T_TMP/gm.txt"
	{
		printf '%d,%s,%s' "$t" "$(rss "$AG")" "$(rss "$AN")"
		for c in $COLS; do printf ',%s' "$(metric "$T_TMP/am.txt" "pano_analyzer_$c")"; done
		for c in $GCOLS; do printf ',%s' "$(metric "$T_TMP/gm.txt" "pano_$c")"; done
		echo
	} >>"$CSV"
	[ "$t" -ge "$SECONDS_RUN" ] && break
	kill -0 "$AN" 2>/dev/null && kill -0 "$AG" 2>/dev/null || { echo "soak: a program died" >&2; break; }
	sleep $((INTERVAL - (SECONDS - t0 - t) > 0 ? INTERVAL - (SECONDS - t0 - t) : 1))
done
wait "$PERF" "$HALF" "$FRAG" 2>/dev/null
# the agent first, so that it can hand the analyzer what it still holds
kill -TERM "$AG" 2>/dev/null
wait_for 10 sh -c "! kill -0 $AG 2>/dev/null"
kill -TERM "$AN" 2>/dev/null
wait_for 10 sh -c "! kill -0 $AN 2>/dev/null"
cp "$T_TMP/an.err" "$OUT/analyzer-stats.txt"
cp "$T_TMP/ag.err" "$OUT/agent.txt"

soak_plot
log "soak: $(wc -l <"$CSV") samples; plot $PNG"
awk -F, 'NR == 2 || NR == 8 { print "# t=" $1 "s agent " $2 " kB, analyzer " $3 " kB" } END { print "# t=" $1 "s agent " $2 " kB, analyzer " $3 " kB" }' "$CSV" >&2
grep -E "Queries (sent|completed|lost)" "$OUT/dnsperf.txt" >&2
