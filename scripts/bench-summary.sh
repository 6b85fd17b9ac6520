#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-summary.sh [CAPTURE] - what the live summaries cost the analyzer (issue #5: < 25% of its
# throughput): the same capture read with and without --summary, REPEAT runs each, alternating,
# best run of each kept. Reports wall seconds and packets/s, CPU seconds (user + sys) and
# packets per CPU second, and the cost as the share of throughput lost, by wall clock and by CPU.
# On a shared machine the CPU figures are the ones to compare.
#
# CAPTURE: default $PANO_BUILD/bench/dns-capture.pcap (the dnsperf capture that
# bench-analyzer.sh records) when it exists; else one is built in a temporary directory from the
# pktvisor corpus captures (UDP and TCP, IPv4 and IPv6), COPIES copies shifted 20 s apart so that
# the windows rotate as in a long capture.
# Environment: BUILD / PANO_BUILD (build directory), REPEAT (default 5), PORTS (default
# 53,53000), PANO_CORPUS, COPIES (default 60).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
PANO_BUILD=${PANO_BUILD:-$_b}
AN=$PANO_BUILD/pano-analyzer
REPEAT=${REPEAT:-5}
PORTS=${PORTS:-53,53000}
COPIES=${COPIES:-60}
PV=${PANO_CORPUS:-$ROOT/../shared/corpus}/pktvisor

die() {
	echo "bench-summary: $*" >&2
	exit 1
}
[ -x "$AN" ] || die "$AN not built (make BUILD=$PANO_BUILD)"
TMP=$(mktemp -d /tmp/pano-bench-summary.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

CAP=${1:-}
if [ -z "$CAP" ] && [ -f "$PANO_BUILD/bench/dns-capture.pcap" ]; then
	CAP=$PANO_BUILD/bench/dns-capture.pcap
fi
if [ -z "$CAP" ]; then
	command -v editcap >/dev/null && command -v mergecap >/dev/null ||
		die "no capture given and no editcap/mergecap to build one"
	for c in $(seq 0 $((COPIES - 1))); do
		for f in dns_ipv4_udp dns_ipv4_tcp dns_ipv6_udp dns_ipv6_tcp; do
			editcap -t $((c * 20)) "$PV/$f.pcap" "$TMP/c$c-$f.pcap"
		done
	done
	mergecap -w "$TMP/all.pcap" "$TMP"/c*.pcap
	rm -f "$TMP"/c*.pcap
	CAP=$TMP/all.pcap
fi
[ -r "$CAP" ] || die "cannot read $CAP"

# Packets in the capture: the analyzer's own count of frames read (--stats), else capinfos.
pkts=$("$AN" --read "$CAP" --ports "$PORTS" -o /dev/null --stats 2>&1 >/dev/null |
	awk '$1 == "frames" {n = $2} END {print n + 0}')
if [ "${pkts:-0}" -eq 0 ] && command -v capinfos >/dev/null; then
	pkts=$(capinfos -c -M "$CAP" | awk '/Number of packets/ {print $NF}')
fi
[ "${pkts:-0}" -gt 0 ] || die "cannot count the packets of $CAP"

# one ARGS...: prints "wall cpu" seconds of one run (bash's time: real, user + sys).
one() {
	local t
	t=$( { TIMEFORMAT='%R %U %S'; time "$AN" --read "$CAP" --ports "$PORTS" -o /dev/null "$@" \
		>/dev/null 2>"$TMP/err"; } 2>&1) || die "pano-analyzer $*: $(cat "$TMP/err")"
	awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<<"$t"
}

bw= bc= sw= sc=
for _ in $(seq "$REPEAT"); do
	read -r w c < <(one)
	bw=$(awk -v a="$w" -v b="$bw" 'BEGIN {print (b == "" || a < b) ? a : b}')
	bc=$(awk -v a="$c" -v b="$bc" 'BEGIN {print (b == "" || a < b) ? a : b}')
	read -r w c < <(one --summary)
	sw=$(awk -v a="$w" -v b="$sw" 'BEGIN {print (b == "" || a < b) ? a : b}')
	sc=$(awk -v a="$c" -v b="$sc" 'BEGIN {print (b == "" || a < b) ? a : b}')
done

awk -v p="$pkts" -v cap="$CAP" -v r="$REPEAT" -v bw="$bw" -v bc="$bc" -v sw="$sw" -v sc="$sc" 'BEGIN {
	printf "summary bench: %s, %d packets, best of %d runs each\n", cap, p, r
	printf "  %-17s %8s %14s %8s %14s\n", "", "wall s", "packets/s", "CPU s", "packets/CPU-s"
	printf "  %-17s %8.3f %14.0f %8.3f %14.0f\n", "without --summary", bw, p / bw, bc, p / bc
	printf "  %-17s %8.3f %14.0f %8.3f %14.0f\n", "with --summary", sw, p / sw, sc, p / sc
	cw = 100 * (1 - bw / sw); cc = 100 * (1 - bc / sc)
	printf "  cost: %.1f%% of throughput by wall clock, %.1f%% per CPU second (target < 25%%: %s)\n",
		cw, cc, cc < 25 ? "met" : "not met"
}'
