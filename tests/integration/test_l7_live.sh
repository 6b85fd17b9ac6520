#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_l7_live.sh - TLS and HTTP/1.x through the real agent and analyzer, on live traffic:
#
#   curl, openssl s_client (client ns) --> openssl s_server TLS 1.3 / 1.2 / 1.2 + client
#   certificates (443), Python HTTP/1.1 server (80) (server ns)       [tests/lib/web.sh]
#   pano-agent on the client's bridge port (node ns), --tcp-head 443:16K --ports 80
#        --PCAP-over-TCP--> pano-analyzer --pcap-connect   -> pot.jsonl
#        --protobuf stream--> pano-analyzer --listen       -> pb.jsonl
#   tcpdump on the client's eth0 -> tshark: the second oracle
#
# One run of the clients feeds both analyzers at once (the agent fans its capture out to both
# outputs). Each client connects from a port of its own, so every record is matched to the
# client that made it. What is expected comes from the clients themselves: the TLS version,
# cipher (OpenSSL's name mapped to the IANA name with OpenSSL's own table) and ALPN that curl
# -v and s_client print, the SNI they sent, the certificates' SHA-256 (of the DER), curl's
# -w counts (http_code, size_upload, size_download); tshark's decode of the same connections
# must agree with the clients (l7_live_oracle_*), and each record's ja4 must be JA4 computed
# from tshark's decode of that ClientHello (tests/lib/l7_live_check.py). Per record type:
#   ssl: version cipher server_name next_protocol established, cert_chain_fps (TLS 1.2: the
#        server's chain; TLS 1.3: absent, the certificates are encrypted),
#        client_cert_chain_fps (TLS 1.2 with a client certificate), sni_matches_cert (TLS 1.2),
#        curve (s_client's "Server Temp Key"), ja4 (tshark's JA4; equal for runs of one client);
#        TLS 1.3 encrypts the certificates and the server's ALPN, so a record may claim neither
#   http: trans_depth (three requests on one keep-alive connection), method host uri version
#        status_code request_body_len response_body_len (version: the reply's, as Zeek logs
#        it, so an HTTP/1.0 request answered by HTTP/1.1 says 1.1; a chunked POST counts the body
#        without the chunk framing, so its request_body_len is the file's size, not curl's
#        size_upload), a 404, HTTP/1.0, a 4 MiB download on port 80 (captured whole)
# With --tcp-head (the agent's head capture), a 4 MiB download over TLS on 443 costs far fewer
# captured bytes than the wire carried (the agent's file and its head-skipped counter), and its
# ssl record is still complete. An analyzer built without tls or http says so with SKIP lines
# for that protocol; an agent without --tcp-head captures 443 whole (the head checks SKIP).
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"
. "$PANO_ROOT/tests/lib/web.sh"

need_root l7_live
need_cmd l7_live openssl curl tshark tcpdump jq
for b in "$PANO_AGENT" "$PANO_ANALYZER"; do
	[ -x "$b" ] || { fail "l7_live: $b is not built"; t_done; }
done
CHECK="$WEB_PY $PANO_ROOT/tests/lib/l7_live_check.py"
BIG=$((4 << 20))
HEAD=16384

# an_has PROTO: the analyzer was built with PROTO (--protocols names it).
an_has() { ! "$PANO_ANALYZER" --protocols "$1" --read /dev/null 2>&1 | grep -q "no protocol"; }
HAS_TLS=0 HAS_HTTP=0 HAS_HEAD=0
an_has tls && HAS_TLS=1
an_has http && HAS_HTTP=1
"$PANO_AGENT" --help 2>&1 | grep -q -- --tcp-head && HAS_HEAD=1
log "analyzer: tls=$HAS_TLS http=$HAS_HTTP; agent --tcp-head=$HAS_HEAD"

# ---- hosts, certificates, servers ----------------------------------------------------------
netns_up || { fail "l7_live: netns_up failed"; t_done; }
S13=$SRV4 S12=198.18.0.3 S12V=198.18.0.4	# one address per TLS server, all on port 443
for a in $S12 $S12V; do ip -n "$NS_SRV" addr add "$a/24" dev eth0; done
web_pki "$T_TMP/pki" "$WEB_NAME" || { fail "l7_live: web_pki: $(tail -3 "$T_TMP/pki/openssl.log")"; t_done; }
web_docroot "$T_TMP/www" "$BIG" || { fail "l7_live: web_docroot failed"; t_done; }
web_tls_server P13 "$NS_SRV" "$S13" 443 1.3 &&
	web_tls_server P12 "$NS_SRV" "$S12" 443 1.2 &&
	web_tls_server P12V "$NS_SRV" "$S12V" 443 1.2 -Verify 1 &&
	web_http_server PH "$NS_SRV" "$SRV4" 80 "$T_TMP/www" ||
	{ fail "l7_live: a server did not start"; t_done; }

# ---- capture: tcpdump (the oracle), agent, two analyzers -----------------------------------
bg_start TD_PID "$T_TMP/tcpdump.log" "$NS_CLI" tcpdump -n -U -s 0 -i eth0 -w "$T_TMP/wire.pcap" tcp
wait_for 10 grep -q "listening on" "$T_TMP/tcpdump.log" || { fail "l7_live: tcpdump: $(cat "$T_TMP/tcpdump.log")"; t_done; }
if [ "$HAS_HEAD" = 1 ]; then CAP=(--ports 80 --tcp-head "443:$HEAD"); else CAP=(--ports 80,443); fi
PPORT=$(free_port) LPORT=$(free_port)
[ "$PPORT" = "$LPORT" ] && LPORT=$((PPORT + 1))
ip -n "$NS_NODE" link set lo up
bg_start PB_PID "$T_TMP/analyzer-pb.log" "$NS_NODE" "$PANO_ANALYZER" --listen "127.0.0.1:$LPORT" \
	--output "$T_TMP/pb.jsonl" --stats
wait_for 10 listening "$NS_NODE" "$LPORT" || { fail "l7_live: analyzer --listen: $(cat "$T_TMP/analyzer-pb.log")"; t_done; }
agent_up "$NS_NODE" "$IF_CLI" "$PPORT" "${CAP[@]}" --connect "127.0.0.1:$LPORT" --node l7-live \
	--write "$T_TMP/agent.pcap" || { fail "l7_live: pano-agent did not start"; t_done; }
bg_start POT_PID "$T_TMP/analyzer-pot.log" "$NS_NODE" "$PANO_ANALYZER" --pcap-connect "127.0.0.1:$PPORT" \
	--node l7-live --output "$T_TMP/pot.jsonl" --stats
wait_for 10 established "$NS_NODE" "$PPORT" 1 && wait_for 10 established "$NS_NODE" "$LPORT" 1 ||
	{ fail "l7_live: the analyzers did not connect: $(tail -2 "$T_TMP"/analyzer-*.log)"; t_done; }

# ---- the clients ---------------------------------------------------------------------------
EXPECT=$T_TMP/expect.jsonl
: >"$EXPECT"
CURL_TLS=(--http1.1 --cacert "$WEB_CA")
resolve() { echo "--resolve $WEB_NAME:$2:$1"; }

# tls_case NAME PORT VERSION SNI CLIENT_CERT(0/1) JA4_GROUP OUT: the expectation of one TLS
# connection from what its client printed into OUT (curl -v or s_client).
tls_case() {
	local name=$1 port=$2 ver=$3 sni=$4 ccert=$5 group=$6 out=$7 v c a curve fps=null cfps=null sni_m=null
	v=$(web_tls_field "$out" version) c=$(web_tls_field "$out" cipher) a=$(web_tls_field "$out" alpn)
	if [ "$v" != "TLSv$ver" ] || [ -z "$c" ]; then
		fail "l7_live_client_$name: the client reports '$v' '$c', want TLSv$ver: $(tail -3 "$out" | tr '\n' ' ')"
		return
	fi
	c=$(web_iana_cipher "$c")
	curve=$(sed -n 's/^Server Temp Key: \([A-Za-z0-9]*\),.*/\1/p' "$out" | tr 'A-Z' 'a-z' | head -1)
	if [ "$ver" = 1.2 ]; then
		# s_server sends its certificate and the CA (-cert_chain); curl's OpenSSL builds the
		# client's chain from its trust store, so the CA follows the client certificate too.
		fps="[\"$WEB_SRV_FP\",\"$WEB_CA_FP\"]" cfps='[]'
		[ "$ccert" = 1 ] && cfps="[\"$WEB_CLI_FP\",\"$WEB_CA_FP\"]"
		[ "$sni" = "$WEB_NAME" ] && sni_m=true || sni_m=false
	else
		# TLS 1.3 encrypts the certificates and the server's ALPN (EncryptedExtensions): a
		# record must claim none of them (Zeek leaves them empty too).
		fps='[]' cfps='[]' a=
	fi
	jq -nc --arg case "$name" --argjson port "$port" --arg version "TLSv${ver/./}" --arg cipher "$c" \
		--arg sni "$sni" --arg alpn "$a" --argjson fps "$fps" --argjson cfps "$cfps" \
		--argjson sni_m "$sni_m" --arg curve "$curve" --arg group "$group" \
		'{kind: "ssl", case: $case, port: $port, version: $version, cipher: $cipher,
		  server_name: $sni, next_protocol: (if $alpn == "" then [] else $alpn end),
		  established: true, cert_chain_fps: $fps, client_cert_chain_fps: $cfps,
		  sni_matches_cert: $sni_m, curve: (if $curve == "" then null else $curve end),
		  ja4_group: (if $group == "" then null else $group end)}' >>"$EXPECT"
	pass "l7_live_client_$name ($v $c${a:+ $a})"
}
# curl_tls NAME PORT VERSION ADDR SNI CLIENT_CERT JA4_GROUP PATH [CURL_ARGS...]
curl_tls() {
	local name=$1 port=$2 ver=$3 addr=$4 sni=$5 cc=$6 group=$7 path=$8; shift 8
	# shellcheck disable=SC2046
	web_curl "$NS_CLI" "$T_TMP/$name" "${CURL_TLS[@]}" --local-port "$port" $(resolve "$addr" 443) \
		"$@" "https://$sni$path"
	read -r _ code _ down _ <"$T_TMP/$name" 2>/dev/null
	if [ "${code:-}" != 200 ]; then
		fail "l7_live_client_$name: curl got '${code:-}': $(tail -2 "$T_TMP/$name.err" | tr '\n' ' ')"
		return
	fi
	tls_case "$name" "$port" "$ver" "$sni" "$cc" "$group" "$T_TMP/$name.err"
}
# sclient NAME PORT VERSION ADDR SNI JA4_GROUP [S_CLIENT_ARGS...]
sclient() {
	local name=$1 port=$2 ver=$3 addr=$4 sni=$5 group=$6; shift 6
	web_s_client "$NS_CLI" "$T_TMP/$name" -connect "$addr:443" -bind "$CLI4:$port" \
		-servername "$sni" -CAfile "$WEB_CA" "$@"
	grep -q '^HTTP/1.0 200' "$T_TMP/$name" ||
		{ fail "l7_live_client_$name: no answer from s_server: $(grep -i error "$T_TMP/$name" | head -2)"; return; }
	tls_case "$name" "$port" "$ver" "$sni" 0 "$group" "$T_TMP/$name"
}

curl_tls tls13_curl 41001 1.3 "$S13" "$WEB_NAME" 0 curl /index.html
curl_tls tls13_curl_again 41002 1.3 "$S13" "$WEB_NAME" 0 curl /index.html
sclient tls13_sclient_h2 41003 1.3 "$S13" "$WEB_NAME" sclient_h2 -alpn h2
curl_tls tls12_curl 41004 1.2 "$S12" "$WEB_NAME" 0 curl /a.txt
sclient tls12_sclient_h2 41005 1.2 "$S12" "$WEB_NAME" sclient_h2 -alpn h2
sclient tls12_sclient_h2_again 41006 1.2 "$S12" "$WEB_NAME" sclient_h2 -alpn h2
sclient tls12_sclient_other_name 41007 1.2 "$S12" other.pano.test "" -alpn http/1.1
sclient tls12_sclient_no_alpn 41008 1.2 "$S12" "$WEB_NAME" "" -cipher ECDHE-RSA-AES128-GCM-SHA256
sclient tls13_sclient_chacha 41011 1.3 "$S13" "$WEB_NAME" "" -ciphersuites TLS_CHACHA20_POLY1305_SHA256 \
	-alpn http/1.1,h2
curl_tls tls12_curl_client_cert 41009 1.2 "$S12V" "$WEB_NAME" 1 "" /b.txt \
	--cert "$WEB_CLI_CRT" --key "$WEB_CLI_KEY"
curl_tls tls12_curl_bulk 41010 1.2 "$S12" "$WEB_NAME" 0 "" /big.bin
read -r _ _ _ BULK_DOWN _ <"$T_TMP/tls12_curl_bulk" 2>/dev/null

# http_case NAME DEPTH METHOD URI REQ_BODY_LEN|- : the expectation of one HTTP transaction
# from web_curl's -w line number DEPTH; REQ_BODY_LEN - is curl's size_upload. version is the
# one of the answer's status line (curl -v's DEPTH-th "< HTTP/x"), as Zeek logs it: Zeek sets
# the field at the request and again at the reply.
http_case() {
	local name=$1 depth=$2 method=$3 uri=$4 req=$5 port code up down ver
	read -r port code up down _ < <(sed -n "${depth}p" "$T_TMP/$name")
	ver=$(sed -n 's|^< HTTP/\([0-9.]*\) .*|\1|p' "$T_TMP/$name.err" | sed -n "${depth}p")
	if [ -z "${code:-}" ] || [ "$code" = 000 ]; then
		fail "l7_live_client_$name: curl failed: $(tail -2 "$T_TMP/$name.err" | tr '\n' ' ')"
		return
	fi
	[ "$req" = - ] && req=$up
	jq -nc --arg case "${name}_$depth" --argjson port "$port" --argjson depth "$depth" \
		--arg method "$method" --arg host "$WEB_NAME" --arg uri "$uri" --arg version "$ver" \
		--argjson code "$code" --argjson req "$req" --argjson down "$down" \
		'{kind: "http", case: $case, port: $port, trans_depth: $depth, method: $method,
		  host: $host, uri: $uri, version: $version, status_code: $code,
		  request_body_len: $req, response_body_len: $down}' >>"$EXPECT"
	pass "l7_live_client_${name}_$depth ($method $uri $code HTTP/$ver, $up up, $down down)"
}
U=http://$WEB_NAME
head -c 12345 /dev/urandom >"$T_TMP/post.bin"
# shellcheck disable=SC2046
{
	web_curl "$NS_CLI" "$T_TMP/http_keepalive" --local-port 42001 $(resolve "$SRV4" 80) \
		"$U/a.txt" "$U/b.txt" "$U/c.txt"
	web_curl "$NS_CLI" "$T_TMP/http_post" --local-port 42002 $(resolve "$SRV4" 80) \
		--data-binary "@$T_TMP/post.bin" "$U/upload?x=1"
	web_curl "$NS_CLI" "$T_TMP/http_chunked" --local-port 42003 $(resolve "$SRV4" 80) \
		-H 'Transfer-Encoding: chunked' --data-binary "@$T_TMP/post.bin" "$U/upload"
	web_curl "$NS_CLI" "$T_TMP/http_10" --local-port 42004 $(resolve "$SRV4" 80) --http1.0 "$U/index.html"
	web_curl "$NS_CLI" "$T_TMP/http_bulk" --local-port 42005 $(resolve "$SRV4" 80) "$U/big.bin"
	web_curl "$NS_CLI" "$T_TMP/http_404" --local-port 42006 $(resolve "$SRV4" 80) "$U/missing"
}
http_case http_keepalive 1 GET /a.txt -
http_case http_keepalive 2 GET /b.txt -
http_case http_keepalive 3 GET /c.txt -
http_case http_post 1 POST "/upload?x=1" -
http_case http_chunked 1 POST /upload "$(stat -c %s "$T_TMP/post.bin")"
http_case http_10 1 GET /index.html -
http_case http_bulk 1 GET /big.bin -
http_case http_404 1 GET /missing -

# ---- stop: the last segments reach the analyzers, which flush at SIGTERM --------------------
sleep 1
bg_stop "$TD_PID" INT 5
bg_stop "$POT_PID" TERM 15
check_eq l7_live_analyzer_pot_exit_status "$BG_RC" 0
bg_stop "$AGENT_PID" INT 10
check_eq l7_live_agent_exit_status "$BG_RC" 0
bg_stop "$PB_PID" TERM 15
check_eq l7_live_analyzer_pb_exit_status "$BG_RC" 0

# ---- the oracle: tshark's decode of tcpdump's capture agrees with the clients ---------------
tshark -n -r "$T_TMP/wire.pcap" -d tcp.port==443,tls -Y tls.handshake -T fields -E separator=/t \
	-E occurrence=a -E aggregator=, $($CHECK fields) >"$T_TMP/wire.tsv" 2>"$T_TMP/tshark.err"
# run_checks CMD...: the checker's PASS/FAIL lines count as this test's.
run_checks() {
	local out
	out=$("$@" 2>&1)
	echo "$out"
	grep -q '^FAIL' <<<"$out" && T_FAILED=1
	grep -q '^PASS' <<<"$out" || fail "l7_live_checker: no result from '$*': $out"
}
run_checks $CHECK oracle "$EXPECT" "$T_TMP/wire.tsv"

# ---- the records -----------------------------------------------------------------------------
want=()
[ "$HAS_TLS" = 1 ] && want+=(ssl) || skip "l7_live_ssl: the analyzer has no tls protocol (--protocols)"
[ "$HAS_HTTP" = 1 ] && want+=(http) || skip "l7_live_http: the analyzer has no http protocol (--protocols)"
if [ ${#want[@]} -gt 0 ]; then
	kinds=$(printf '"%s",' "${want[@]}")
	for label in pot pb; do
		jq -c "select(.kind | IN(${kinds%,}))" "$EXPECT" >"$T_TMP/expect-$label.jsonl"
		jq -c "select(._path | IN(${kinds%,}))" "$T_TMP/$label.jsonl" >"$T_TMP/rec-$label.jsonl" 2>/dev/null
		run_checks $CHECK records "$label" "$T_TMP/expect-$label.jsonl" "$T_TMP/wire.tsv" \
			"$T_TMP/rec-$label.jsonl"
	done
fi

# A body counted short is often frames cut by the agent's snaplen: the kernel hands a veth's
# TCP sends over as GSO frames of up to 64 KiB.
cut=$(awk '$1 == "frames_cut" { print $2 }' "$T_TMP/analyzer-pot.log")
[ "${cut:-0}" != 0 ] && log "the analyzers saw $cut frames cut short (GSO frames longer than the agent's snaplen)"

# ---- the head capture ------------------------------------------------------------------------
# frame_bytes PCAP FILTER: the frame bytes tshark counts in PCAP for FILTER.
frame_bytes() { tshark -n -r "$1" -Y "$2" -T fields -e frame.len 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
wire443=$(frame_bytes "$T_TMP/wire.pcap" "tcp.port == 443")
cap443=$(frame_bytes "$T_TMP/agent.pcap" "tcp.port == 443")
log "port 443: $wire443 frame bytes on the wire, $cap443 captured by the agent; bulk download ${BULK_DOWN:-?}"
if [ "$HAS_HEAD" != 1 ]; then
	skip "l7_live_head: pano-agent has no --tcp-head"
elif [ -z "${BULK_DOWN:-}" ] || [ "$BULK_DOWN" -lt "$BIG" ]; then
	fail "l7_live_head_bytes: the bulk download did not happen (${BULK_DOWN:-none}; $wire443 bytes on 443)"
else
	# Every TLS connection may cost its two heads (and its SYN/FIN/ACKs); the bulk transfer alone
	# is 4 MiB.
	n443=$(grep -c '"kind":"ssl"' "$EXPECT")
	if [ "$cap443" -gt 0 ] && [ "$cap443" -lt $((BIG / 8)) ]; then
		pass "l7_live_head_bytes ($cap443 of $wire443 bytes on 443 captured, $n443 connections)"
	else
		fail "l7_live_head_bytes: $cap443 of $wire443 bytes on 443 captured, want under $((BIG / 8))"
	fi
	skipped=$(sed -n 's/.*head skipped [0-9]* (\([0-9]*\) bytes).*/\1/p' "$T_TMP/agent.log" | tail -1)
	if [ -n "$skipped" ] && [ "$skipped" -ge "$((BULK_DOWN - HEAD))" ]; then
		pass "l7_live_head_skipped_counted ($skipped bytes left out, bulk $BULK_DOWN)"
	else
		fail "l7_live_head_skipped_counted: the agent says '${skipped}' bytes skipped, bulk ${BULK_DOWN}: $(grep stats "$T_TMP/agent.log" | tail -1)"
	fi
	if [ "$HAS_TLS" = 1 ]; then
		for label in pot pb; do
			# -s: jq -e judges by its last output, and the record need not be the last line
			if jq -s -e --arg s "$WEB_SRV_FP" 'map(select(._path == "ssl" and .id_orig_p == 41010) |
				select(.established == true and .cert_chain_fps[0] == $s and (.ja4 | length) > 0)) |
				length == 1' "$T_TMP/$label.jsonl" >/dev/null 2>&1; then
				pass "l7_live_head_${label}_bulk_record_complete"
			else
				fail "l7_live_head_${label}_bulk_record_complete: want cert_chain_fps[0] $WEB_SRV_FP: $(jq -c 'select(.id_orig_p == 41010)' "$T_TMP/$label.jsonl" 2>/dev/null | head -c 1500)"
			fi
		done
	fi
fi
t_done
