#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_zeek_corpus.sh - the DNS records of pano-analyzer against peers' expected output:
#  1. every Zeek trace of $PANO_CORPUS/EXPECTED.md against Zeek's dns.log baseline, all fields
#     but ts and uid (tests/lib/zeekcmp.py), one PASS/FAIL per trace;
#  2. the pktvisor captures: counts of EXPECTED.md computed from our records with jq;
#  3. tshark as an oracle on the Zeek and pktvisor captures: same queries and replies;
#  4. the tcpdump captures (many malformed): no crash or hang, valid JSON, weird counters.
# Zeek has no DNS timeout (unmatched messages wait for the connection's end), so the Zeek
# comparisons run with a DNS timeout longer than any trace. PANO never drops frames for bad
# checksums (TC egress offload), i.e. it always behaves like `zeek -C`; the baselines made
# with -C (sshfp, loc, notify, rrsig, ...) compare directly; see dns-txt-multiple below for one
# made without it.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd zeek_corpus jq python3 timeout
A=$PANO_BUILD/pano-analyzer
Z=$PANO_CORPUS/zeek
ANALYZE_ARGS="--protocols dns" # the DNS records only (the traces carry HTTP too)
CMP=$PANO_ROOT/tests/lib/zeekcmp.py
[ -x "$A" ] || { skip "zeek_corpus: $A not built"; exit 0; }
[ -d "$Z" ] || { skip "zeek_corpus: no corpus at $Z"; exit 0; }

# zeek TRACE BASELINE_DIR [--ignore FIELDS]
zeek() {
	local trace=$1 base=$2 n; shift 2
	n=zeek_$(basename "$trace" .pcap)
	local why
	if ! why=$(analyze "$n" --read "$Z/Traces/$trace" --ports 53,137,5353,5355 \
		--dns-timeout 86400); then
		fail "$n: $why"; return
	fi
	if why=$(python3 "$CMP" "$Z/Baseline/$base/dns.log" "$T_TMP/$n.json" "$@" 2>&1); then
		pass "$n"
	else
		fail "$n: differs from Zeek: $(echo "$why" | head -c 1500)"
	fi
}

S=scripts.base.protocols.dns
zeek dns53.pcap $S.flip
zeek dns-two-responses.pcap $S.duplicate-reponses
# Zeek made this baseline without -C and dropped the query, whose IP and UDP checksums are
# wrong, so its record is a lone reply (no rtt, qclass, qtype, RD). PANO keeps frames with bad
# checksums by design and pairs the query, so those fields are set in ours: Zeek is "wrong"
# here only in the sense that it was told to discard the query. Exception for those fields.
zeek dns-txt-multiple.pcap $S.multiple-txt-strings --ignore rtt,qclass,qclass_name,qtype,qtype_name,RD
zeek dns-zero-RRs.pcap $S.zero-responses
zeek dns/mdns-no-assoc.pcap $S.mdns-no-assoc
zeek dns/dns_notify2.pcap $S.notify
zeek dns/dynamic-update.pcap $S.dynamic-update
zeek dns/sshfp-trunc.pcap $S.sshfp
zeek dns/loc-29-trunc.pcap $S.loc
zeek dnssec/rrsig.pcap $S.rrsig
zeek dns/tkey.pcap $S.tkey
zeek ipv6-fragmented-dns.pcap core.ipv6-frag
# wikipedia includes NetBIOS name service on port 137, which Zeek's DNS analyzer also reads.
zeek wikipedia.pcap opt.basic

# EDNS client subnet: Zeek's baseline prints each ECS option it saw; the set of
# address/prefix values must be the set our records carry.
n=zeek_dns-edns-ecs
if why=$(analyze $n --read "$Z/Traces/dns-edns-ecs.pcap"); then
	want=$(sed -n 's/.*source_prefix_len=\([0-9]*\),.*address=\([^]]*\)\]/\2\/\1/p' \
		"$Z/Baseline/$S.dns-edns-ecs/output" | sort -u | tr '\n' ' ')
	got=$(jq -r 'select(.edns_ecs) | .edns_ecs' "$T_TMP/$n.json" | sort -u | tr '\n' ' ')
	check_eq "$n" "$got" "$want"
else
	fail "$n: $why"
fi

# Bad UDP checksums (Zeek's core.udp-corrupt drops them without -C): we decode, count, log.
n=zeek_dns-corrupt
if why=$(analyze $n --read "$Z/Traces/dns/dns-corrupt.pcap"); then
	recs=$(wc -l <"$T_TMP/$n.json")
	[ "$recs" -ge 1 ] && pass "$n: $recs record(s) despite bad checksums" ||
		fail "$n: no record from the frames with bad checksums"
else
	fail "$n: $why"
fi

# ---- pktvisor ------------------------------------------------------------------------------
P=$PANO_CORPUS/pktvisor
# pv NAME FILE PORTS JQ-EXPR WANT
pv() {
	local n=pktvisor_$1 why got
	if ! why=$(analyze "$n" --read "$P/$2" --ports "$3"); then fail "$n: $why"; return; fi
	got=$(jq -s -c "$4" "$T_TMP/$n.json")
	check_eq "$n" "$got" "$5"
}
# [records, with query, with reply, tcp, ipv6]
COUNTS='[length, (map(select(.query_size))|length), (map(select(.reply_size))|length),
	 (map(select(.proto=="tcp"))|length), (map(select(.id_orig_h|contains(":")))|length),
	 (map(select(.query|test("(^|[.])test[.]com$")))|length)]'
pv ipv4_udp dns_ipv4_udp.pcap 53000 "$COUNTS" '[70,70,70,0,0,70]'
pv ipv4_tcp dns_ipv4_tcp.pcap 53000 "$COUNTS" '[210,210,210,210,0,210]'
pv ipv6_udp dns_ipv6_udp.pcap 53000 "$COUNTS" '[70,70,70,0,70,70]'
pv ipv6_tcp dns_ipv6_tcp.pcap 53000 "$COUNTS" '[180,180,180,180,180,180]'
# 6 DNSSEC replies (pktvisor counts those with answers: the root DS reply is NODATA).
pv dnssec dnssec.pcap 53 \
	'map(select(.reply_size and .answers))|map(.qtype_name)|group_by(.)|map([.[0],length])' \
	'[["A",1],["DNSKEY",3],["DS",2]]'
pv ecs ecs.pcap 53 'map(select(.query_size and .edns_ecs))|length' 5

# ---- tshark as an oracle: the same queries (id, name, type) and replies (id, rcode) --------
if command -v tshark >/dev/null 2>&1; then
	for f in "$Z"/Traces/*.pcap "$Z"/Traces/*/*.pcap "$P"/*.pcap; do
		n=tshark_$(basename "$f" .pcap)
		ports=53,137,5353,5355
		case $f in */pktvisor/dns_ipv*) ports=53000 ;; esac
		if ! why=$(analyze "$n" --read "$f" --ports $ports --dns-timeout 86400); then
			fail "$n: $why"; continue
		fi
		tshark -r "$f" -d udp.port==53000,dns -d tcp.port==53000,dns -Y dns -T fields \
			-E separator=/t -e dns.id -e dns.flags.response -e dns.flags.opcode \
			-e dns.qry.name -e dns.qry.type -e dns.flags.rcode >"$T_TMP/$n.tsv" 2>/dev/null
		if why=$(python3 "$PANO_ROOT/tests/lib/tsharkcmp.py" "$T_TMP/$n.tsv" "$T_TMP/$n.json"); then
			pass "$n: $(wc -l <"$T_TMP/$n.tsv") messages agree"
		else
			fail "$n: $(echo "$why" | head -c 800)"
		fi
	done
else
	skip "tshark_oracle: tshark is not installed"
fi

# ---- tcpdump: malformed and odd captures ----------------------------------------------------
TD=$PANO_CORPUS/tcpdump/tests
weirds() {	# sum of the "decode errors (weird)" of a --stats output, bad checksums aside
	awk '/^decode errors/{w=1;next} /^[a-z]/{w=0}
	     w && NF==2 && $1 != "l4_csum_bad" {s+=$2} END{print s+0}' "$1"
}
for f in "$TD"/*.pcap; do
	b=$(basename "$f" .pcap)
	n=tcpdump_$b
	ports=53
	case $b in *8053*) ports=8053 ;; esac
	if ! why=$(analyze "$n" --read "$f" --ports $ports); then fail "$n: $why"; continue; fi
	w=$(weirds "$T_TMP/$n.stats")
	case $b in
	dns-badlabel | dns_fwdptr | dns-zlip-1)
		# known malformed: must be counted as weird
		[ "$w" -gt 0 ] && pass "$n: $w weird(s) counted" ||
			fail "$n: malformed capture but no weird counted" ;;
	dns_udp_2)
		# the reply was cut by the capture's snaplen: not malformed; counted once as a cut
		# frame, and the record says so
		cut=$(awk '$1 == "frames_cut" {print $2}' "$T_TMP/$n.stats")
		[ "$w" -eq 0 ] && [ "${cut:-0}" -eq 1 ] && [ "$(jq -r .reply_cut "$T_TMP/$n.json")" = true ] &&
			pass "$n: the snaplen cut counted once (frames_cut), no weird, reply_cut" ||
			fail "$n: $w weird(s), frames_cut ${cut:-0}, reply_cut $(jq -r .reply_cut "$T_TMP/$n.json")" ;;
	*)
		pass "$n: $(wc -l <"$T_TMP/$n.json") records, valid JSON, $w weird(s)" ;;
	esac
done
t_done
