#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-analyzer.sh - what `make bench-analyzer` runs: how fast pano-analyzer turns a capture
# into DNS records, next to the usual tools on the same file:
#
#   pano-analyzer  --read CAP --output /dev/null (JSON records)
#   tcpdump        -n -r CAP, printing to /dev/null
#   tshark         -r CAP -T fields -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.a
#                  (on the first BENCH_TSHARK_PACKETS packets, default 100000, scaled: it is slow)
#   pcap_loop      a bare libpcap pcap_next_ex loop (tests/tools/pcap_loop.c): the floor
#
# The capture (at least BENCH_PACKETS, default 1,000,000 DNS packets) is real traffic: dnsperf
# in the client namespace against knot in the server namespace, recorded by tcpdump on the
# server's veth: a mix of names and types, NXDOMAIN, truncated answers. It is made once and
# cached as $PANO_BUILD/bench/dns-capture.pcap (delete it to make a new one).
# Prints packets per second, ratios and peak RSS (tests/tools/cputime.c: wait4's rusage, to the
# microsecond); then the cost of the live
# summaries on the same capture (scripts/bench-summary.sh: with and without --summary;
# BENCH_SUMMARY=0 skips it) and scripts/bench-kafka.sh (BENCH_KAFKA=0 skips it). A benchmark:
# prints, asserts nothing.
#
# BASE=path/to/an/older/pano-analyzer compares two builds in the same run: after the table
# above, each build reads the capture BENCH_ROUNDS times (default 5), the two alternating, as
# JSON records, as protobuf records and with --summary; the best run of each (by CPU time) is
# kept, and the table gives packets per CPU second and this build's rate as a share of BASE's,
# by the best runs and by the median ones.
# BENCH_TOOLS=0 skips tcpdump, tshark and pcap_loop (with BASE: only the comparison).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The build directory: PANO_BUILD, else make's BUILD (relative to the tree), else build/.
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
export PANO_BUILD=${PANO_BUILD:-$_b}
. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"
. "$ROOT/tests/lib/e2e.sh"
T_PREFIX=pa$$
WANT=${BENCH_PACKETS:-1000000}
TSHARK_N=${BENCH_TSHARK_PACKETS:-100000}
CAP=$PANO_BUILD/bench/dns-capture.pcap
LOOP=$PANO_BUILD/tests/pcap_loop
CPUTIME=$PANO_BUILD/tests/cputime

die() { echo "bench-analyzer: $*" >&2; exit 1; }
for c in tcpdump tshark bc; do command -v "$c" >/dev/null || die "$c is not installed (scripts/install-deps.sh)"; done
[ -x "$PANO_ANALYZER" ] || die "$PANO_ANALYZER is not built (make)"
make -C "$ROOT" -s BUILD="$PANO_BUILD" "$LOOP" "$CPUTIME" >/dev/null ||
	die "cannot build pcap_loop and cputime"

# capture_count FILE: packets in a pcap file (0 when it is missing or unreadable).
capture_count() { "$LOOP" "$1" 2>/dev/null | awk '{ print $2 }' || echo 0; }

# make_capture: dnsperf through the namespaces, recorded by tcpdump, until WANT packets.
make_capture() {
	local secs n
	[ "$(id -u)" -eq 0 ] || die "making the capture needs root (namespaces)"
	for c in knotd dnsperf; do command -v "$c" >/dev/null || die "$c is not installed"; done
	echo "bench-analyzer: recording a capture of >= $WANT DNS packets (once; cached in $CAP)" >&2
	netns_up || die "netns_up failed"
	DNS_WORKERS=2 dns_up || die "knot did not start"
	dns_querylist "$T_TMP/queries.txt"
	mkdir -p "$(dirname "$CAP")"
	bg_start TD_PID "$T_TMP/tcpdump.log" "$NS_NODE" tcpdump -i "$IF_SRV" -n -s 0 -B 262144 \
		-w "$T_TMP/capture.pcap" port 53
	wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log" || die "tcpdump did not start"
	# About 30,000 queries (60,000 packets) a second: fast, yet tcpdump keeps every one.
	secs=$(((WANT / 60000) + 2))
	nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -l "$secs" -Q 30000 -c 8 -q 500 \
		>"$T_TMP/dnsperf.txt" 2>&1
	sleep 1
	bg_stop "$TD_PID" INT 20
	n=$(capture_count "$T_TMP/capture.pcap")
	[ "${n:-0}" -ge "$WANT" ] ||
		die "the capture holds $n packets, fewer than $WANT ($(grep -h -E 'dropped|Queries sent' "$T_TMP/tcpdump.log" "$T_TMP/dnsperf.txt" | tr '\n' ' '))"
	mv "$T_TMP/capture.pcap" "$CAP"
	# the namespaces and knot are not needed any more
	ip netns del "$NS_NODE"; ip netns del "$NS_CLI"; ip netns del "$NS_SRV"
}

N=$(capture_count "$CAP")
[ "${N:-0}" -ge "$WANT" ] || { make_capture; N=$(capture_count "$CAP"); }
cat "$CAP" >/dev/null	# into the page cache: every tool reads from memory
SLICE=$T_TMP/slice.pcap
editcap -r "$CAP" "$SLICE" "1-$TSHARK_N" 2>/dev/null || die "editcap failed"
NS=$(capture_count "$SLICE")

# timed NAME PACKETS CMD...: runs CMD under cputime; output to /dev/null. Sets T_WALL,
# T_CPU, T_RSS (MB), T_PPS (per wall-clock second) and T_CPPS (per CPU second: steadier when
# other work shares the machine).
declare -A B_PKTS B_WALL B_CPU B_RSS B_PPS B_CPPS
timed() {
	local name=$1 pkts=$2 wall user sys rss; shift 2
	"$CPUTIME" -o "$T_TMP/time.$name" "$@" >/dev/null 2>"$T_TMP/err.$name" ||
		echo "bench-analyzer: $name failed: $(tail -2 "$T_TMP/err.$name")" >&2
	read -r wall user sys rss <"$T_TMP/time.$name"
	B_PKTS[$name]=$pkts B_WALL[$name]=$wall
	B_CPU[$name]=$(echo "$user + $sys" | bc)
	B_RSS[$name]=$(echo "scale=1; $rss / 1024" | bc)
	B_PPS[$name]=$(echo "scale=0; $pkts / ($wall + 0.000001)" | bc)
	B_CPPS[$name]=$(echo "scale=0; $pkts / (${B_CPU[$name]} + 0.000001)" | bc)
}

# median V...: the middle value (the mean of the two middle ones for an even count).
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		printf "%.6f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# compare_base: this build against $BASE, alternating, best and median of BENCH_ROUNDS runs per
# mode.
compare_base() {
	local rounds=${BENCH_ROUNDS:-5} mode r b args best cpu
	local -A BEST ALL
	[ -x "$BASE" ] || die "BASE=$BASE is not an executable"
	echo "bench-analyzer: this build against BASE=$BASE, best of $rounds alternating runs" >&2
	for mode in json protobuf summary; do
		case $mode in
		json) args=(--output /dev/null) ;;
		protobuf) args=(--format protobuf --output /dev/null) ;;
		summary) args=(--output /dev/null --summary) ;;
		esac
		for r in $(seq "$rounds"); do
			for b in base this; do
				if [ $b = base ]; then
					timed "cmp_$b" "$N" "$BASE" --read "$CAP" "${args[@]}"
				else
					timed "cmp_$b" "$N" "$PANO_ANALYZER" --read "$CAP" "${args[@]}"
				fi
				cpu=${B_CPU[cmp_$b]}
				ALL[$mode.$b]="${ALL[$mode.$b]:-} $cpu"
				best=${BEST[$mode.$b]:-}
				if [ -z "$best" ] || [ "$(echo "$cpu < $best" | bc)" = 1 ]; then
					BEST[$mode.$b]=$cpu
				fi
			done
		done
	done
	echo
	echo "bench-analyzer: this build ($PANO_ANALYZER) against BASE ($BASE), $N packets,"
	echo "best CPU seconds (user + sys) of $rounds alternating runs each, and the ratio of the medians"
	printf '%-9s %10s %10s %14s %14s %8s %10s\n' mode base_cpu_s this_cpu_s base_pkts/cpu_s \
		this_pkts/cpu_s this/base median_t/b
	for mode in json protobuf summary; do
		local bc=${BEST[$mode.base]} tc=${BEST[$mode.this]}
		# shellcheck disable=SC2086 # the lists split into their values
		local bm=$(median ${ALL[$mode.base]}) tm=$(median ${ALL[$mode.this]})
		printf '%-9s %10s %10s %14s %14s %8s %10s\n' "$mode" "$bc" "$tc" \
			"$(echo "scale=0; $N / $bc" | bc)" "$(echo "scale=0; $N / $tc" | bc)" \
			"$(echo "scale=3; $bc / $tc" | bc)" "$(echo "scale=3; $bm / $tm" | bc)"
	done
	echo "(this/base above 1: this build is faster. Load average now: $(cut -d' ' -f1-3 /proc/loadavg).)"
}

echo "bench-analyzer: $N packets in $CAP ($(du -m "$CAP" | cut -f1) MB); tshark on the first $NS" >&2
if [ -n "${BASE:-}" ] && [ "${BENCH_TOOLS:-1}" = 0 ]; then
	compare_base
	exit 0
fi
timed analyzer "$N" "$PANO_ANALYZER" --read "$CAP" --output /dev/null --stats
timed tcpdump "$N" tcpdump -n -r "$CAP"
timed tshark "$NS" tshark -n -r "$SLICE" -T fields -e dns.qry.name -e dns.qry.type \
	-e dns.flags.rcode -e dns.a
timed pcap_loop "$N" "$LOOP" "$CAP"

records=$(awk '$1 == "dns_records" { print $2 }' "$T_TMP/err.analyzer")
echo
echo "bench-analyzer: $N DNS packets (dnsperf through knot, captured by tcpdump); $(nproc) CPUs"
printf '%-15s %10s %8s %8s %12s %12s %9s %9s %9s\n' tool packets wall_s cpu_s packets/s pkts/cpu_s x_wall x_cpu peak_MB
for t in analyzer tcpdump tshark pcap_loop; do
	printf '%-15s %10s %8s %8s %12s %12s %9s %9s %9s\n' "$([ $t = analyzer ] && echo pano-analyzer || echo $t)" \
		"${B_PKTS[$t]}" "${B_WALL[$t]}" "${B_CPU[$t]}" "${B_PPS[$t]}" "${B_CPPS[$t]}" \
		"$(echo "scale=2; ${B_PPS[analyzer]} / ${B_PPS[$t]}" | bc)" \
		"$(echo "scale=2; ${B_CPPS[analyzer]} / ${B_CPPS[$t]}" | bc)" "${B_RSS[$t]}"
done
echo "(x_wall, x_cpu: pano-analyzer's rate over the tool's, per wall-clock and per CPU second; for"
echo " pcap_loop, below 1, the fraction of the bare read loop's speed the analyzer reaches."
echo " pano-analyzer wrote ${records:-?} JSON records. Load average now: $(cut -d' ' -f1-3 /proc/loadavg).)"

if [ -n "${BASE:-}" ]; then
	echo
	compare_base
fi

if [ "${BENCH_SUMMARY:-1}" != 0 ]; then
	echo
	"$ROOT/scripts/bench-summary.sh" "$CAP"
fi

if [ -x "$ROOT/scripts/bench-kafka.sh" ] && [ "${BENCH_KAFKA:-1}" != 0 ]; then
	echo
	BUILD=$PANO_BUILD "$ROOT/scripts/bench-kafka.sh"
fi
