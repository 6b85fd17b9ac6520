#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_analyzer_files.sh - pano-analyzer on capture files built to test one thing each
# (tests/lib/gen_captures.py) and on the tcpdump corpus, with tshark as the oracle where it
# reads the same thing:
#  - exit status: 0 for a good file, 3 for a file truncated or corrupt part way (the records
#    before the damage written, one warning line, the damage counted), 1 for a file that is no
#    capture at all or is missing (1 also wins over 3);
#  - classic pcap seconds at and after 2^31 (both magics), as tshark reads them;
#  - a pcapng file whose interfaces differ in link type (Ethernet, raw IP, Linux cooked) in two
#    sections of both byte orders, from a file and from standard input: every query and reply
#    tshark sees, with each interface's name and each packet's direction;
#  - DNS sizes from the message's own length when the capture cut it (reply_cut), as tshark's
#    udp.length; one count per fault; the extended RCODE of EDNS (BADVERS, BADCOOKIE) as
#    tshark's dns.resp.ext_rcode << 4 | dns.flags.rcode;
#  - NetBIOS name service on the default ports: paired, no weirds;
#  - checksums left to the NIC counted as l4_csum_offload, a wrong one as l4_csum_bad;
#  - a record with incl_len > orig_len counted (frame_len_short).
. "$(dirname "$0")/../lib/lib.sh"

A=$PANO_BUILD/pano-analyzer
G="/usr/bin/python3 $PANO_ROOT/tests/lib/gen_captures.py"
need_cmd analyzer_files jq tshark
[ -x "$A" ] || { fail "analyzer_files: $A not built"; t_done; }
TD=$PANO_CORPUS/tcpdump/tests

# stat NAME FILE: a counter's value from a --stats summary (0 when not listed).
stat() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$2"; }
# weirds FILE: the number of counters listed under "decode errors (weird)".
weirds() { awk '/^decode errors/{w = 1; next} /^[a-z]/{w = 0} w' "$1" | wc -l; }
gen() { $G "$1" "$T_TMP/$1.cap" ${2:-} || fail "gen_captures $1"; }
for k in pairs ts2038 ts2038-ns pcapng-multi nbns offload short lenshort snaplen corrupt-pcap; do
	gen $k
done
# run NAME ARGS...: runs the analyzer with --stats; output in NAME.json, NAME.err, status RC.
run() { local n=$1; shift; "$A" --stats "$@" >"$T_TMP/$n.json" 2>"$T_TMP/$n.err"; RC=$?; }

# ---- exit status and damage -----------------------------------------------------------------
CAP=$T_TMP/pairs.cap
run good --read "$CAP"
check_eq exit_good "$RC" 0
N=$(wc -l <"$T_TMP/good.json")
size=$(wc -c <"$CAP")
head -c $((size - 30)) "$CAP" >"$T_TMP/cut.pcap"
run cut --read "$T_TMP/cut.pcap"
check_eq exit_truncated_pcap "$RC" 3
check_eq truncated_pcap_counted "$(stat capture_file_truncated "$T_TMP/cut.err")" 1
check_eq truncated_pcap_one_warning "$(grep -c 'cut.pcap: truncated after 5999 frames' "$T_TMP/cut.err")" 1
# the last pair lost its reply: its query is logged unanswered, every other record as before
check_eq truncated_pcap_records "$(wc -l <"$T_TMP/cut.json")" "$N"
check_eq truncated_pcap_unanswered "$(jq -s 'map(select(.rcode == null)) | length' "$T_TMP/cut.json")" 1
editcap -F pcapng "$CAP" "$T_TMP/pairs.pcapng" 2>/dev/null || fail "editcap pcapng"
size=$(wc -c <"$T_TMP/pairs.pcapng")
head -c $((size / 2)) "$T_TMP/pairs.pcapng" >"$T_TMP/cut.pcapng"
run cutng --read - <"$T_TMP/cut.pcapng"
check_eq exit_truncated_pcapng_stdin "$RC" 3
check_eq truncated_pcapng_counted "$(stat capture_file_truncated "$T_TMP/cutng.err")" 1
check truncated_pcapng_records_kept [ "$(wc -l <"$T_TMP/cutng.json")" -gt $((N / 3)) ]
run corrupt --read "$T_TMP/corrupt-pcap.cap"
check_eq exit_corrupt_pcap "$RC" 3
check_eq corrupt_pcap_counted "$(stat capture_file_corrupt "$T_TMP/corrupt.err")" 1
check_eq corrupt_pcap_records "$(wc -l <"$T_TMP/corrupt.json")" 2
printf 'not a capture file at all\n' >"$T_TMP/text.txt"
run text --read "$T_TMP/text.txt"
check_eq exit_not_a_capture "$RC" 1
run missing --read "$T_TMP/nonexistent.pcap"
check_eq exit_missing "$RC" 1
run both --read "$T_TMP/cut.pcap" "$T_TMP/nonexistent.pcap"
check_eq exit_failure_beats_damage "$RC" 1
run many --read "$T_TMP/cut.pcap" "$CAP"
check_eq exit_damaged_then_good "$RC" 3
"$A" --help | grep -q '3 an input file was damaged' && pass help_documents_exit_3 ||
	fail "help_documents_exit_3: --help does not say it"

# ---- timestamps past 2^31 ---------------------------------------------------------------------
for k in ts2038 ts2038-ns; do
	run $k --read "$T_TMP/$k.cap"
	# the first frame of each pair is the query: the record's ts
	want=$(tshark -r "$T_TMP/$k.cap" -T fields -e frame.time_epoch 2>/dev/null | awk 'NR % 2 == 1' |
		cut -c1-17 | tr '\n' ' ')
	got=$(jq -r '.ts' "$T_TMP/$k.json" | awk '{printf "%.6f\n", $1}' | tr '\n' ' ')
	check_eq "${k}_ts_as_tshark" "$got" "$want"
	check_eq "${k}_ts_exact" "$(jq -c -s 'map(.ts)' "$T_TMP/$k.json")" \
		'[2147483647.5,2147483648.25,4294967295.75]'
done

# ---- pcapng with several link types ------------------------------------------------------------
NG=$T_TMP/pcapng-multi.cap
run ng --read "$NG"
check_eq pcapng_multi_exit "$RC" 0
tshark -r "$NG" -Y dns -T fields -E separator=/t -e dns.id -e dns.flags.response \
	-e dns.flags.opcode -e dns.qry.name -e dns.qry.type -e dns.flags.rcode >"$T_TMP/ng.tsv" 2>/dev/null
check_eq pcapng_multi_tshark_messages "$(wc -l <"$T_TMP/ng.tsv")" 9
if why=$(python3 "$PANO_ROOT/tests/lib/tsharkcmp.py" "$T_TMP/ng.tsv" "$T_TMP/ng.json" 2>&1); then
	pass "pcapng_multi_as_tshark"
else
	fail "pcapng_multi_as_tshark: $why"
fi
check_eq pcapng_multi_fields "$(jq -c -s 'sort_by(.query) | map([.query, .interface, .direction])' "$T_TMP/ng.json")" \
	'[["br.pano.test","br0","in"],["eth.pano.test","eth0","out"],["sll.pano.test","any",null],["spb.pano.test","eth0",null],["tun.pano.test","tun0","in"]]'
run ngstdin --read - <"$NG"
check_eq pcapng_stdin_same "$(jq -c 'del(.uid)' "$T_TMP/ngstdin.json" | sort | md5sum)" \
	"$(jq -c 'del(.uid)' "$T_TMP/ng.json" | sort | md5sum)"
check_eq pcapng_no_weirds "$(weirds "$T_TMP/ng.err")" 0

# ---- DNS sizes of cut messages -------------------------------------------------------------------
for f in "$T_TMP/snaplen.cap" "$TD/dns_udp_2.pcap"; do
	[ -r "$f" ] || { skip "cut_size: $f missing"; continue; }
	n=cut_$(basename "$f" | tr . _)
	run "$n" --read "$f"
	want=$(tshark -r "$f" -Y 'dns.flags.response == 1' -T fields -e udp.length 2>/dev/null | head -1)
	check_eq "${n}_reply_size_as_tshark" "$(jq -r '.reply_size' "$T_TMP/$n.json")" $((want - 8))
	check_eq "${n}_reply_cut" "$(jq -r '.reply_cut' "$T_TMP/$n.json")" true
	check_eq "${n}_query_not_cut" "$(jq -r '.query_cut' "$T_TMP/$n.json")" null
	check_eq "${n}_no_weirds" "$(weirds "$T_TMP/$n.err")" 0
	check_eq "${n}_frames_cut" "$(stat frames_cut "$T_TMP/$n.err")" 1
done

# ---- one count per fault ----------------------------------------------------------------------------
run short --read "$T_TMP/short.cap"
check_eq short_too_short_once "$(stat dns_too_short "$T_TMP/short.err")" 1
check_eq short_header_cut_once "$(stat dns_header_cut "$T_TMP/short.err")" 1
check_eq short_not_truncated "$(stat dns_truncated "$T_TMP/short.err")" 0
check_eq short_weirds "$(weirds "$T_TMP/short.err")" 1

# ---- the extended RCODE ----------------------------------------------------------------------------
for f in "$TD/dns-badvers.pcap" "$TD/dns-badcookie.pcap"; do
	[ -r "$f" ] || { skip "edns_rcode: $f missing"; continue; }
	n=edns_$(basename "$f" .pcap | tr - _)
	run "$n" --read "$f"
	want=$(tshark -r "$f" -Y 'dns.flags.response == 1' -T fields -e dns.id -e dns.flags.rcode \
		-e dns.resp.ext_rcode 2>/dev/null |
		while read -r id rc ext; do printf '%d:%d:%d ' "$id" "$rc" $((ext * 16 + rc)); done)
	got=$(jq -r -s 'sort_by(.ts) | map("\(.trans_id):\(.rcode):\(.edns_rcode)") | join(" ")' "$T_TMP/$n.json")
	check_eq "${n}_as_tshark" "$got " "$want"
done
check_eq edns_badvers_name "$(jq -r -s 'map(.edns_rcode_name) | join(",")' "$T_TMP/edns_dns_badvers.json")" "BADVERS,NOERROR"
check_eq edns_badcookie_name "$(jq -r -s 'map(.edns_rcode_name) | join(",")' "$T_TMP/edns_dns_badcookie.json")" "BADCOOKIE,NOERROR"
check_eq edns_badcookie_zeek_rcode "$(jq -r -s '.[0].rcode_name' "$T_TMP/edns_dns_badcookie.json")" "YXRRSET"

# ---- NetBIOS name service ---------------------------------------------------------------------------
run nbns --read "$T_TMP/nbns.cap"
check_eq nbns_records "$(jq -c -s 'map([.query, .qtype_name, .rcode, .opcode_name, .id_resp_p])' "$T_TMP/nbns.json")" \
	'[["WORKSTATION1","NIMLOC",0,"netbios-query",137],["*","NBSTAT",0,"netbios-query",137]]'
check_eq nbns_no_weirds "$(weirds "$T_TMP/nbns.err")" 0
check_eq nbns_tshark_sees_nbns "$(tshark -r "$T_TMP/nbns.cap" -Y nbns 2>/dev/null | grep -c .)" 4

# ---- checksum offload ----------------------------------------------------------------------------------
run offload --read "$T_TMP/offload.cap"
check_eq offload_counted "$(stat l4_csum_offload "$T_TMP/offload.err")" 2
check_eq offload_bad_counted "$(stat l4_csum_bad "$T_TMP/offload.err")" 1
# tshark (checksum validation on) calls both wrong; of the two, ours counts the one whose
# field holds the pseudo header's sum as offload
check_eq offload_tshark_bad "$(tshark -r "$T_TMP/offload.cap" -o udp.check_checksum:TRUE \
	-Y 'udp.checksum.status == 0' -T fields -e dns.qry.name 2>/dev/null | tr '\n' ' ')" \
	"partial.pano.test bad.pano.test "

# ---- incl_len > orig_len ------------------------------------------------------------------------------------
run lenshort --read "$T_TMP/lenshort.cap"
check_eq lenshort_counted "$(stat frame_len_short "$T_TMP/lenshort.err")" 1
check_eq lenshort_record "$(jq -r .query "$T_TMP/lenshort.json")" ls.pano.test
t_done
