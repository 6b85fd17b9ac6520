#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_analyzer_inputs.sh - pano-analyzer's inputs on real captures: every tcpdump and Zeek
# capture in the corpus is read without crash or hang, every frame is decoded (count checked
# against tshark), output lines are valid JSON, BSD loopback and PPP link types are handled,
# `--read -` reads standard input, and --pcap-connect against a PCAP-over-TCP server (python3 on
# 127.0.0.1) gives the same records as --read, survives a server restart with another byte order
# and a broken record header, and counts the reconnections.
. "$(dirname "$0")/../lib/lib.sh"

A=$PANO_BUILD/pano-analyzer
need_cmd analyzer_inputs jq tshark python3 timeout
[ -x "$A" ] || { fail "analyzer_inputs: $A not built"; t_done; }
[ -d "$PANO_CORPUS" ] || { skip "analyzer_inputs: no corpus at $PANO_CORPUS"; exit 0; }

# stat NAME FILE: a counter's value from a --stats summary (0 when not listed).
stat() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$2"; }

# 1. Every capture: no crash, no hang, all frames decoded, valid JSON, known link types.
mapfile -t caps < <(ls "$PANO_CORPUS"/tcpdump/tests/*.pcap; find "$PANO_CORPUS"/zeek/Traces -name '*.pcap' | sort)
[ ${#caps[@]} -gt 20 ] || fail "corpus_present: only ${#caps[@]} captures"
bad_json=0 bad_rc=0 bad_frames=0 unsupported=0 n=0
for f in "${caps[@]}"; do
	name=${f#"$PANO_CORPUS"/}
	out=$T_TMP/out.json err=$T_TMP/err.txt
	timeout 60 "$A" --stats --read "$f" >"$out" 2>"$err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "read $name: exit status $rc: $(grep -v '^ ' "$err" | head -3)"
		bad_rc=$((bad_rc + 1))
		continue
	fi
	if [ -s "$out" ] && ! jq -e . "$out" >/dev/null 2>&1; then
		fail "json $name: output is not valid JSON lines"
		bad_json=$((bad_json + 1))
	fi
	# tshark counts the frames it could read (a capture cut mid-record ends early for both).
	want=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
	got=$(stat frames "$err")
	if [ "$got" != "$want" ]; then
		fail "frames $name: decoded $got frames, tshark reads $want"
		bad_frames=$((bad_frames + 1))
	fi
	u=$(stat linktype_unsupported "$err")
	[ "$u" -eq 0 ] || { fail "linktype $name: $u frames of an unsupported link type"; unsupported=$((unsupported + 1)); }
	n=$((n + 1))
done
[ $bad_rc -eq 0 ] && pass "corpus_no_crash: $n captures read, exit 0"
[ $bad_json -eq 0 ] && pass "corpus_valid_json: $n captures"
[ $bad_frames -eq 0 ] && pass "corpus_frame_counts: $n captures match tshark"
[ $unsupported -eq 0 ] && pass "corpus_link_types: none unsupported"

# 2. Link types: BSD loopback (NULL) and PPP decode down to IP and UDP.
"$A" --stats --read "$PANO_CORPUS"/tcpdump/tests/dns-badcookie.pcap >/dev/null 2>"$T_TMP/null.txt"
frames=$(stat frames "$T_TMP/null.txt")
trunc=$(( $(stat l2_truncated "$T_TMP/null.txt") + $(stat l2_bad_header "$T_TMP/null.txt") + $(stat l2_not_ip "$T_TMP/null.txt") ))
# Loopback captures carry unfilled checksums (offload: the field holds the pseudo header's sum
# alone): every one is counted as offload, none as a bad checksum, none dropped.
csum=$(stat l4_csum_offload "$T_TMP/null.txt")
bad=$(stat l4_csum_bad "$T_TMP/null.txt")
if [ "$frames" -gt 0 ] && [ "$trunc" -eq 0 ] && [ "$csum" -eq "$frames" ] && [ "$bad" -eq 0 ]; then
	pass "linktype_null: $frames frames reached UDP ($csum unfilled checksums counted as offload)"
else
	fail "linktype_null: frames=$frames l2 problems=$trunc l4_csum_offload=$csum l4_csum_bad=$bad"
fi
"$A" --stats --read "$PANO_CORPUS"/tcpdump/tests/ppp_ip_udp_dns.pcap >/dev/null 2>"$T_TMP/ppp.txt"
rc=$?
# The one PPP frame is malformed (protocol 0x7e08): it must be counted, not crash or decode.
if [ $rc -eq 0 ] && [ "$(stat frames "$T_TMP/ppp.txt")" -eq 1 ] &&
	[ "$(stat linktype_unsupported "$T_TMP/ppp.txt")" -eq 0 ] && [ "$(stat l2_not_ip "$T_TMP/ppp.txt")" -eq 1 ]; then
	pass "linktype_ppp: the bad PPP frame is counted as not IP"
else
	fail "linktype_ppp: rc=$rc $(tr '\n' ' ' <"$T_TMP/ppp.txt")"
fi

# 3. Standard input gives what the file gives (uids too, with one --uid-seed).
ref=$PANO_CORPUS/zeek/Traces/dns-edns-ecs.pcap
"$A" --uid-seed 3 --read "$ref" >"$T_TMP/file.json" 2>/dev/null
"$A" --uid-seed 3 --read - <"$ref" >"$T_TMP/stdin.json" 2>/dev/null
if cmp -s "$T_TMP/file.json" "$T_TMP/stdin.json"; then
	pass "read_stdin: $(wc -l <"$T_TMP/file.json") records, same as the file"
else
	fail "read_stdin: output differs from --read FILE"
fi
# Several files in order = their concatenation.
ref2=$PANO_CORPUS/zeek/Traces/dns53.pcap
"$A" --read "$ref2" >"$T_TMP/file2.json" 2>/dev/null
"$A" --read "$ref" "$ref2" >"$T_TMP/both.json" 2>/dev/null
if [ "$(jq -c 'del(.uid)' "$T_TMP/both.json" | sort)" = "$(cat "$T_TMP/file.json" "$T_TMP/file2.json" | jq -c 'del(.uid)' | sort)" ]; then
	pass "read_several_files: records of both captures"
else
	fail "read_several_files: records differ from the two single runs"
fi

# 4. PCAP-over-TCP. The server serves one stream per connection, in order, then exits:
#    the capture itself; a big-endian nanosecond header followed by a record header whose
#    caplen is 1 MiB (broken stream); a header-only stream. A marker file counts accepts.
cat >"$T_TMP/pot_serve.py" <<'PY'
import socket, sys, time
port, marker, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(1)
for i, f in enumerate(files):
    c, _ = s.accept()
    c.sendall(open(f, "rb").read())
    time.sleep(0.2)
    c.close()
    open(marker, "a").write("%d\n" % i)
s.close()
PY
python3 - "$T_TMP" <<'PY'
import struct, sys
d = sys.argv[1]
hdr = struct.pack(">IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)
open(d + "/broken.pcap", "wb").write(hdr + struct.pack(">IIII", 1, 2, 1 << 20, 1 << 20) + b"x" * 100)
open(d + "/empty.pcap", "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
PY
port=$(free_port)
marker=$T_TMP/accepted
python3 "$T_TMP/pot_serve.py" "$port" "$marker" "$ref" "$T_TMP/broken.pcap" "$T_TMP/empty.pcap" &
srv=$!
on_exit "kill $srv"
listening() { ss -Htln "sport = :$port" | grep -q .; }
accepted() { [ "$(wc -l <"$marker" 2>/dev/null)" = "$1" ]; }
wait_for 5 listening || fail "pot_server: python3 server did not listen on $port"
mport=$(free_port)
"$A" --stats --metrics 127.0.0.1:"$mport" --pcap-connect 127.0.0.1:"$port" >"$T_TMP/pot.json" 2>"$T_TMP/pot.txt" &
ana=$!
on_exit "kill $ana"
if wait_for 30 accepted 3; then
	# The server closed the last stream; give the analyzer a moment to read it.
	sleep 0.5
	# Live state: /metrics is valid Prometheus text and shows the reconnections; SIGUSR1
	# prints a summary without stopping the analyzer.
	if command -v curl >/dev/null && command -v promtool >/dev/null; then
		curl -sf "http://127.0.0.1:$mport/metrics" >"$T_TMP/metrics.txt"
		check "pot_metrics_valid" promtool check metrics <"$T_TMP/metrics.txt"
		check_eq "pot_metrics_reconnects" \
			"$(awk '$1 ~ /^pano_analyzer_pot_reconnects_total/ { print $2 }' "$T_TMP/metrics.txt")" 2
	else
		skip "pot_metrics: curl or promtool missing"
	fi
	kill -USR1 $ana
	summary() { grep -q 'pano-analyzer statistics' "$T_TMP/pot.txt"; }
	if wait_for 10 summary && kill -0 $ana; then
		pass "pot_sigusr1_summary"
	else
		fail "pot_sigusr1_summary: no summary on SIGUSR1, or the analyzer stopped"
	fi
	kill -TERM $ana
	wait $ana
	rc=$?
	check_eq "pot_exit_status" "$rc" 0
	if [ "$(jq -c 'del(.uid)' "$T_TMP/pot.json")" = "$(jq -c 'del(.uid)' "$T_TMP/file.json")" ]; then
		pass "pot_same_records: $(wc -l <"$T_TMP/pot.json") records, as --read"
	else
		fail "pot_same_records: $(wc -l <"$T_TMP/pot.json") records over TCP vs $(wc -l <"$T_TMP/file.json") from the file"
	fi
	want=$(tshark -r "$ref" -T fields -e frame.number 2>/dev/null | wc -l)
	check_eq "pot_frames" "$(stat frames "$T_TMP/pot.txt")" "$want"
	check_eq "pot_reconnects" "$(stat pot_reconnects "$T_TMP/pot.txt")" 2
	check_eq "pot_summaries" "$(grep -c 'pano-analyzer statistics' "$T_TMP/pot.txt")" 2
	check_eq "pot_bad_record_header" "$(stat pot_bad_record_header "$T_TMP/pot.txt")" 1
	lost=$(stat pot_bytes_lost "$T_TMP/pot.txt")
	[ "$lost" -ge 100 ] && pass "pot_bytes_lost: $lost" || fail "pot_bytes_lost: $lost, want >= 100"
else
	fail "pot_connect: the server saw $(wc -l <"$marker" 2>/dev/null) of 3 connections"
	cat "$T_TMP/pot.txt" >&2
fi

# 5. A bad address is a usage-level error, not a hang.
timeout 10 "$A" --pcap-connect nonsense >/dev/null 2>&1
check_eq "pot_bad_address_exit" "$?" 2
t_done
