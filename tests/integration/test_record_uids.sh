#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_record_uids.sh - the records' connection uids (Zeek's uid column), which downstream
# consumers join records by:
#   - two runs on the same captures (DNS over UDP and TCP, TLS, HTTP) give the same records
#     but no uid in common: each run has a random uid key, as a restarted live analyzer
#     publishing to the same topics must not give an old uid to a new connection;
#   - two runs with the same --uid-seed give the same bytes (JSON and protobuf); another seed
#     gives other uids;
#   - within a run, a UDP 5-tuple seen again after its conversation ended (60 s idle) is a new
#     conversation with a new uid, while one conversation keeps one uid;
#   - over a capture of many conversations (and every log of the captures above) a uid names
#     one connection: records share a uid exactly when they share a connection.
. "$(dirname "$0")/../lib/lib.sh"
A=$PANO_BUILD/pano-analyzer
PY=/usr/bin/python3
[ -x "$A" ] || { fail "record_uids: $A not built"; t_done; }
need_cmd record_uids jq "$PY"
Z=$PANO_CORPUS/zeek/Traces
CAPS=("$Z/wikipedia.pcap" "$Z/tls/ecdhe.pcap" "$PANO_CORPUS/pktvisor/dns_ipv4_tcp.pcap")
PORTS=(--ports 53,137,5353,5355,53000) # the defaults, and pktvisor's DNS over TCP
for f in "${CAPS[@]}"; do
	[ -r "$f" ] || { skip "record_uids: corpus capture $f missing"; t_done; }
done
"$PY" "$PANO_ROOT/tests/lib/gen_captures.py" reuse "$T_TMP/reuse.pcap" &&
	"$PY" "$PANO_ROOT/tests/lib/gen_dns_clients.py" "$T_TMP/clients.pcap" ||
	{ fail "record_uids_captures: generator failed"; t_done; }

# run NAME ARGS...: the analyzer on the corpus captures into $T_TMP/NAME.json.
run() {
	local n=$1; shift
	"$A" "$@" "${PORTS[@]}" --read "${CAPS[@]}" >"$T_TMP/$n.json" 2>"$T_TMP/$n.err" ||
		{ fail "record_uids_$n: exit status $?: $(tail -n 2 "$T_TMP/$n.err")"; t_done; }
}
# uids FILE: the uids of FILE's records, one a line, sorted and unique.
uids() { jq -r .uid "$1" | sort -u; }
# masked FILE: the records without their uids.
masked() { jq -c 'del(.uid)' "$1"; }

# ---- 1. a random key per run ----------------------------------------------------------------
run r1
run r2
paths=$(jq -r ._path "$T_TMP/r1.json" | sort | uniq -c | awk '{ printf "%s%s %s", s, $2, $1; s = ", " }')
protos=$(jq -r 'select(._path == "dns") | .proto' "$T_TMP/r1.json" | sort -u | tr '\n' ' ')
check_eq record_uids_corpus_logs "$(jq -r ._path "$T_TMP/r1.json" | sort -u | tr '\n' ' ')/$protos" \
	"dns http ssl /tcp udp "
if [ "$(masked "$T_TMP/r1.json")" = "$(masked "$T_TMP/r2.json")" ]; then
	pass "record_uids_runs_same_records: $paths"
else
	fail "record_uids_runs_same_records: two runs differ in more than uids"
fi
common=$(comm -12 <(uids "$T_TMP/r1.json") <(uids "$T_TMP/r2.json") | wc -l)
check_eq "record_uids_runs_share_no_uid ($(uids "$T_TMP/r1.json" | wc -l) uids a run)" "$common" 0
# Every log's uids change (DNS over UDP and TCP, TLS, HTTP), not only some.
for log in dns/udp dns/tcp ssl/tcp http/tcp; do
	sel="select(\"\\(._path)/\\(.proto // \"tcp\")\" == \"$log\") | .uid"
	n=$(jq -r "$sel" "$T_TMP/r1.json" | sort -u | wc -l)
	same=$(comm -12 <(jq -r "$sel" "$T_TMP/r1.json" | sort -u) \
		<(jq -r "$sel" "$T_TMP/r2.json" | sort -u) | wc -l)
	name=record_uids_random_${log/\//_}
	if [ "$n" -gt 0 ] && [ "$same" -eq 0 ]; then
		pass "$name: $n uids, none the same in the second run"
	else
		fail "$name: $n uids, $same the same in both runs"
	fi
done

# ---- 2. --uid-seed: reproducible ------------------------------------------------------------
run s1 --uid-seed 12345
run s2 --uid-seed 12345
run s3 --uid-seed 12346
run x1 --uid-seed 0xffffffffffffffff
check "record_uids_seed_same_output" cmp -s "$T_TMP/s1.json" "$T_TMP/s2.json"
check_eq record_uids_seed_same_records "$(masked "$T_TMP/s1.json" | md5sum)" "$(masked "$T_TMP/r1.json" | md5sum)"
check_eq record_uids_other_seed_other_uids \
	"$(comm -12 <(uids "$T_TMP/s1.json") <(uids "$T_TMP/s3.json") | wc -l)" 0
check_eq record_uids_seed_max "$(masked "$T_TMP/x1.json" | md5sum)" "$(masked "$T_TMP/r1.json" | md5sum)"
run p1 --uid-seed 12345 --format protobuf
run p2 --uid-seed 12345 --format protobuf
if [ -s "$T_TMP/p1.json" ] && cmp -s "$T_TMP/p1.json" "$T_TMP/p2.json"; then
	pass "record_uids_seed_same_protobuf: $(stat -c %s "$T_TMP/p1.json") bytes"
else
	fail "record_uids_seed_same_protobuf: the two protobuf outputs differ (or are empty)"
fi
for bad in -1 +1 12x 0x "" 18446744073709551616; do
	"$A" --uid-seed "$bad" --read /dev/null >/dev/null 2>"$T_TMP/bad.err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q 'bad --uid-seed' "$T_TMP/bad.err"; then
		pass "record_uids_seed_refused_'$bad'"
	else
		fail "record_uids_seed_refused_'$bad': exit $rc: $(head -c 200 "$T_TMP/bad.err")"
	fi
done
"$A" --help | grep -q -- '--uid-seed N' && pass record_uids_seed_in_help ||
	fail "record_uids_seed_in_help: --help does not name --uid-seed"

# ---- 3. a 5-tuple reused after its conversation ended: a new uid ------------------------------
"$A" --read "$T_TMP/reuse.pcap" >"$T_TMP/reuse.json" 2>"$T_TMP/reuse.err"
got=$(jq -r '"\(.id_orig_p) \(.query) \(.uid)"' "$T_TMP/reuse.json" | awk '
	{ n[$3] = n[$3] ? n[$3] : ++k; printf "%s%s:%s", s, $2, n[$3]; s = " " }')
# r0 and r1 one conversation; r2 (100 s, after 90 s idle) and r4 (200 s) new ones on the same
# tuple; r3 another tuple.
check_eq record_uids_reused_tuple_new_uid "$got" \
	"r0.pano.test:1 r1.pano.test:1 r2.pano.test:2 r3.pano.test:3 r4.pano.test:4"

# ---- 4. one uid, one connection, over many conversations ----------------------------------
"$A" --uid-seed 7 "${PORTS[@]}" --read "$T_TMP/clients.pcap" "${CAPS[@]}" >"$T_TMP/many.json" 2>"$T_TMP/many.err"
if out=$("$PY" - "$T_TMP/many.json" <<'PY'
import json, sys
by_uid, by_conn = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    conn = (r.get("proto", "tcp"), r["id_orig_h"], r["id_orig_p"], r["id_resp_h"], r["id_resp_p"])
    by_uid.setdefault(r["uid"], set()).add(conn)
    by_conn.setdefault(conn, set()).add(r["uid"])
bad = [f"uid {u}: {len(c)} connections" for u, c in by_uid.items() if len(c) != 1]
bad += [f"connection {c}: {len(u)} uids" for c, u in by_conn.items() if len(u) != 1]
print(f"{len(by_uid)} uids, {len(by_conn)} connections")
for b in bad[:5]:
    print(b)
sys.exit(1 if bad or len(by_uid) < 40 else 0)
PY
); then
	pass "record_uids_one_per_connection: $out"
else
	fail "record_uids_one_per_connection: $out"
fi
t_done
