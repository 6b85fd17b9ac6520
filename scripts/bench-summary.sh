#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-summary.sh - what the live summaries cost the analyzer: packets per second reading the
# same capture with and without --summary (best of REPEAT runs each). The capture is built in a
# temporary directory from the pktvisor corpus captures (UDP and TCP, IPv4 and IPv6), shifted
# in time copy by copy so that the windows rotate as in a long capture. Target: < 25% cost.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
AN=$BUILD/pano-analyzer
PV=${PANO_CORPUS:-../shared/corpus}/pktvisor
COPIES=${COPIES:-60}
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d /tmp/pano-bench-summary.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for c in $(seq 0 $((COPIES - 1))); do
	for f in dns_ipv4_udp dns_ipv4_tcp dns_ipv6_udp dns_ipv6_tcp; do
		editcap -t $((c * 20)) "$PV/$f.pcap" "$TMP/c$c-$f.pcap"
	done
done
mergecap -w "$TMP/all.pcap" "$TMP"/c*.pcap
rm -f "$TMP"/c*.pcap
pkts=$(capinfos -c -M "$TMP/all.pcap" | awk '/Number of packets/ {print $NF}')
run() {	# run ARGS...: best wall time in seconds over REPEAT runs
	local best= t
	for _ in $(seq "$REPEAT"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$AN" --read "$TMP/all.pcap" --ports 53000 -o /dev/null "$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	echo "$best"
}
base=$(run)
summ=$(run --summary)
awk -v p="$pkts" -v a="$base" -v b="$summ" 'BEGIN {
	pa = a > 0 ? p / a : 0; pb = b > 0 ? p / b : 0
	printf "summary bench: %d packets\n", p
	printf "  without --summary: %.2f s, %.0f packets/s\n", a, pa
	printf "  with    --summary: %.2f s, %.0f packets/s\n", b, pb
	printf "  cost: %.1f%% of throughput (target < 25%%)\n", (pa > 0 ? 100 * (1 - pb / pa) : 0)
}'
