#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_l7_hostile.sh - the TLS and HTTP modules under many connections that never finish their
# first message: 100,000 half-open TLS connections (one segment each: a ClientHello whose
# record claims 1,500 bytes, 300 of them sent) and 100,000 half-open HTTP connections (a request
# line of 300 bytes with no end) in one capture (tests/lib/gen_tcp_halfopen.py). The analyzer
# runs with a 16 MiB TCP memory cap, less than the 60 MB the peers leave partial: it exits 0,
# its buffers give way (evictions counted), its peak RSS stays bounded, and every connection is
# counted once as incomplete (tls_hello_incomplete, http_partial_at_close). Then the same with
# --tcp-max-conns 20000: connections beyond the cap are evicted and counted.
. "$(dirname "$0")/../lib/lib.sh"

A=$PANO_BUILD/pano-analyzer
PY=/usr/bin/python3
N=100000
RSS_BOUND_KB=$((160 * 1024))
[ -x "$A" ] || { fail "l7_hostile: $A is not built"; t_done; }
need_cmd l7_hostile "$PY" /usr/bin/time

for k in tls http; do
	$PY "$PANO_ROOT/tests/lib/gen_tcp_halfopen.py" "$T_TMP/$k.pcap" $N 300 1500 $k >/dev/null ||
		fail "l7_hostile_generate_$k"
done

# run NAME ARGS...: the analyzer over both captures; its --stats in NAME.stats, peak RSS in NAME.rss.
run() {
	local n=$1; shift
	/usr/bin/time -f %M -o "$T_TMP/$n.rss" "$A" --stats -o "$T_TMP/$n.json" "$@" \
		-r "$T_TMP/tls.pcap" -r "$T_TMP/http.pcap" 2>"$T_TMP/$n.stats"
}
# stat N NAME: a counter of run N's --stats (0 when absent).
stat() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$T_TMP/$1.stats"; }

run cap --tcp-max-buffer 16M
check_eq l7_hostile_cap_exit $? 0
check_eq l7_hostile_cap_tls_incomplete "$(stat cap tls_hello_incomplete)" $N
check_eq l7_hostile_cap_http_partial "$(stat cap http_partial_at_close)" $N
ev=$(stat cap tcp_buf_evicted)
check "l7_hostile_cap_evictions_counted ($ev)" test "$ev" -gt 0
rss=$(tail -n 1 "$T_TMP/cap.rss")
# The bound is the plain build's: an AddressSanitizer build (SAN=1) keeps freed memory in its
# quarantine, so its RSS says nothing about ours; that run checks the rest.
[ "$(cat "$PANO_BUILD/flavour" 2>/dev/null)" = san ] ||
	check "l7_hostile_cap_rss_bounded (${rss} kB, bound $RSS_BOUND_KB kB)" test "${rss:-0}" -lt $RSS_BOUND_KB
check_eq l7_hostile_cap_no_records "$(grep -c . "$T_TMP/cap.json")" 0

run conns --tcp-max-conns 20000
check_eq l7_hostile_conns_exit $? 0
ev=$(stat conns tcp_conn_evicted)
check_eq l7_hostile_conns_evicted "$ev" $((2 * N - 20000))
check_eq l7_hostile_conns_tls_incomplete "$(stat conns tls_hello_incomplete)" $N
check_eq l7_hostile_conns_http_partial "$(stat conns http_partial_at_close)" $N
t_done
