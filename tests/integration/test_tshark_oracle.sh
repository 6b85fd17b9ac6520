#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_tshark_oracle.sh - tshark as the oracle for pano-analyzer on real DNS traffic.
#
# knot serves the test zone in the server namespace; kdig and dig query it from the client
# namespace while tcpdump records the server's pod veth. One capture per kind of traffic:
# every record type over UDP v4 and v6, TCP (one query per connection and several pipelined
# on one), IP-fragmented answers (v4 and v6), truncated answers retried over TCP, NXDOMAIN,
# NODATA and REFUSED, DNSSEC answers. For each capture, `pano-analyzer --read` and
# `tshark -T json` must agree on every message: ids, qnames, qtypes, rcodes, flags, answer
# counts, the answers themselves and the rtt (tests/lib/dns_oracle.py).
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"

need_root tshark_oracle
need_cmd tshark_oracle knotd kdig dig tcpdump tshark python3
[ -x "$PANO_ANALYZER" ] || { fail "tshark_oracle: $PANO_ANALYZER is not built"; t_done; }

netns_up || { fail "tshark_oracle: netns_up failed"; t_done; }
dns_up || { fail "tshark_oracle: knot did not start"; t_done; }

FILTER='port 53 or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] = 44)'
q() { nsx "$NS_CLI" kdig +timeout=2 +retry=0 "$@" >/dev/null 2>&1; }

# capture NAME FUNCTION: runs FUNCTION (the traffic) while tcpdump writes $T_TMP/NAME.pcap.
capture() {
	local name=$1 fn=$2 tdpid
	bg_start tdpid "$T_TMP/$name.tcpdump.log" "$NS_NODE" tcpdump -i "$IF_SRV" --immediate-mode \
		-n -U -s 0 -w "$T_TMP/$name.pcap" "$FILTER"
	wait_for 10 grep -q 'listening on' "$T_TMP/$name.tcpdump.log" || return 1
	"$fn"
	sleep 0.3
	bg_stop "$tdpid" INT 10
}

traffic_udp4() {
	local qq
	for qq in "${DNS_QUERIES[@]}"; do set -- $qq; q +ignore @"$SRV4" "$1" "$2"; done
}
traffic_udp6() {
	local qq
	for qq in "${DNS_QUERIES[@]}"; do set -- $qq; q +ignore @"$SRV6" "$1" "$2"; done
	nsx "$NS_CLI" dig +tries=1 +time=2 @"$SRV6" chain.pano.test AAAA >/dev/null 2>&1
}
traffic_tcp() {
	local qq
	for qq in "${DNS_QUERIES[@]}"; do set -- $qq; q +tcp @"$SRV4" "$1" "$2"; done
	q +tcp @"$SRV6" many.pano.test A
	q +tcp @"$SRV6" big.pano.test TXT
	# several queries pipelined on one connection
	q +tcp +keepopen @"$SRV4" www.pano.test A pano.test MX txt.pano.test TXT nothere.pano.test A
	nsx "$NS_CLI" dig +tries=1 +time=2 +tcp @"$SRV4" _sip._udp.pano.test SRV >/dev/null 2>&1
}
traffic_frag() {
	q +bufsize=4096 @"$SRV4" big.pano.test TXT
	q +bufsize=4096 @"$SRV4" many.pano.test A
	q +bufsize=4096 @"$SRV6" big.pano.test TXT
	q +bufsize=4096 @"$SRV6" many.pano.test A
	q +bufsize=4096 +dnssec @"$SRV4" big.pano.test TXT
	nsx "$NS_CLI" dig +tries=1 +time=2 +bufsize=4096 @"$SRV6" many.pano.test A >/dev/null 2>&1
}
traffic_trunc() {	# a truncated (TC) answer, then kdig's retry over TCP with the same id
	q @"$SRV4" big.pano.test TXT
	q @"$SRV6" many.pano.test A
}
traffic_rcodes() {
	q @"$SRV4" nothere.pano.test A
	q @"$SRV4" deep.nothere.pano.test AAAA
	q @"$SRV6" nx-v6.pano.test TXT
	q @"$SRV4" www.pano.test MX		# NODATA
	q @"$SRV4" example.com A		# not our zone: REFUSED
	q @"$SRV4" 99.0.18.198.in-addr.arpa PTR
}
traffic_dnssec() {
	local qq
	for qq in "pano.test DNSKEY" "pano.test SOA" "www.pano.test A" "nothere.pano.test A" \
		"www.pano.test TXT" "child.pano.test DS" "ns1.pano.test AAAA"; do
		set -- $qq
		q +dnssec +bufsize=4096 @"$SRV4" "$1" "$2"
	done
}

for set in udp4 udp6 tcp frag trunc rcodes dnssec; do
	if ! capture "$set" "traffic_$set"; then
		fail "oracle_$set: capture failed: $(cat "$T_TMP/$set.tcpdump.log")"
		continue
	fi
	pcap=$T_TMP/$set.pcap
	tshark -n -r "$pcap" -T json --no-duplicate-keys -Y dns >"$T_TMP/$set.tshark.json" 2>/dev/null
	if ! "$PANO_ANALYZER" --read "$pcap" --output - >"$T_TMP/$set.jsonl" 2>"$T_TMP/$set.err"; then
		fail "oracle_$set: pano-analyzer failed: $(tail -3 "$T_TMP/$set.err")"
		continue
	fi
	if out=$(python3 "$PANO_ROOT/tests/lib/dns_oracle.py" "$T_TMP/$set.tshark.json" "$T_TMP/$set.jsonl" 2>&1); then
		pass "oracle_$set (${out%%;*})"
	else
		fail "oracle_$set: $(echo "$out" | tr '\n' ' ')"
	fi
done
t_done
