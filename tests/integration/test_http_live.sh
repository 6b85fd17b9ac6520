#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_http_live.sh - http.log from real HTTP traffic: Python's http.server (HTTP/1.1,
# keep-alive; tests/lib/http_server.py) in a server namespace, curl in a client namespace,
# tcpdump capturing the server's interface. The analyzer's records (--read of the capture)
# must say what curl did (its -w report: status, bytes down, connections) and what we sent
# (bodies, headers), and tshark, reading the same capture, must see the same requests and
# responses. Clients: keep-alive with three requests on one connection, a POST with a body, a
# chunked upload, HTTP/1.0, HEAD, and a request on a port that is not an HTTP port (bound by
# its first bytes) with a user agent, referrer, proxy header and Basic auth (the password must
# appear nowhere).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/http.sh"
need_root http_live
need_cmd http_live curl tcpdump jq tshark
A=$PANO_BUILD/pano-analyzer
[ -x "$A" ] || { skip "http_live: $A not built"; exit 0; }
netns_up || { fail "http_live: netns_up"; t_done; }

W=$T_TMP/www
mkdir -p "$W"
head -c 100 /dev/urandom >"$W/a.txt"
head -c 5000 /dev/urandom >"$W/b.bin"
head -c 1000 /dev/urandom >"$T_TMP/body1000"
head -c 3000 /dev/urandom >"$T_TMP/body3000"
P2=$((20000 + RANDOM % 20000)) # any port: the namespace is the test's own
for port in 80 $P2; do
	# ip netns exec execs the program: $! is its pid
	ip netns exec "$NS_SRV" /usr/bin/python3 "$PANO_ROOT/tests/lib/http_server.py" $SRV4 \
		$port "$W" >"$T_TMP/srv$port.log" 2>&1 &
	on_exit "kill $!"
done
ip netns exec "$NS_SRV" tcpdump -Z root --immediate-mode -i eth0 -U -w "$T_TMP/http.pcap" tcp \
	>"$T_TMP/tcpdump.log" 2>&1 &
TD=$!
on_exit "kill $TD"
wait_for 5 grep -q "listening on" "$T_TMP/tcpdump.log" || fail "http_live: tcpdump did not start"
for port in 80 $P2; do
	wait_for 5 nsx "$NS_CLI" curl -s -o /dev/null http://$SRV4:$port/a.txt ||
		fail "http_live: server on port $port did not answer"
done

# curl NAME ARGS...: one curl run from the client host; its -w report (one line per transfer:
# code, bytes down, bytes up, new connections) in $T_TMP/NAME.w
C() {
	local n=$1; shift
	nsx "$NS_CLI" curl -s -o /dev/null -w '%{http_code} %{size_download} %{size_upload} %{num_connects}\n' \
		"$@" >"$T_TMP/$n.w"
}
U=http://$SRV4
C keepalive $U/a.txt -o /dev/null $U/b.bin -o /dev/null $U/missing
C post --data-binary @"$T_TMP/body1000" $U/post
C chunked -H 'Transfer-Encoding: chunked' --data-binary @"$T_TMP/body3000" $U/chunked
C http10 -0 $U/a.txt
C head -I $U/b.bin
C other -A pano-test/1 -e http://ref.test/ -H 'X-Forwarded-For: 198.18.0.99' \
	-u alice:s3cret-pw $U:$P2/b.bin
sleep 0.5
kill -TERM $TD # (a background job ignores SIGINT)
wait $TD 2>/dev/null

"$A" --read "$T_TMP/http.pcap" --protocols http >"$T_TMP/r.json" 2>"$T_TMP/r.err" ||
	fail "http_live_analyzer: exit $?"
R=$T_TMP/r.json
# the readiness probes were GETs of /a.txt on connections of their own: leave those out
sel() { jq -c "select(._path == \"http\") | $1" "$R"; }
# rec URI [PORT]: the records of requests for URI (port 80 unless given), in order
rec() { jq -c "select(.uri == \"$1\" and .id_resp_p == ${2:-80})" "$R"; }

# keep-alive: one connection, three transactions, what curl reported
read -r c1 d1 _ n1 < <(sed -n 1p "$T_TMP/keepalive.w")
read -r c2 d2 _ n2 < <(sed -n 2p "$T_TMP/keepalive.w")
read -r c3 d3 _ n3 < <(sed -n 3p "$T_TMP/keepalive.w")
ka=$(jq -s -c '[.[] | select(.uri == "/b.bin" or .uri == "/missing" or
	(.uri == "/a.txt" and .trans_depth == 1)) | select(.id_resp_p == 80)] |
	group_by(.uid) | map(select(length == 3))[0] // [] |
	map([.trans_depth, .uri, .status_code, .response_body_len, .method, .host, .version])' "$R")
check_eq http_live_keepalive "$ka" \
	"[[1,\"/a.txt\",$c1,$d1,\"GET\",\"$SRV4\",\"1.1\"],[2,\"/b.bin\",$c2,$d2,\"GET\",\"$SRV4\",\"1.1\"],[3,\"/missing\",$c3,$d3,\"GET\",\"$SRV4\",\"1.1\"]]"
check_eq http_live_keepalive_one_connection "$n1 $n2 $n3" "1 0 0"

# POST with a body, and a chunked upload: the body bytes counted, the server's answer too
read -r c d u _ <"$T_TMP/post.w"
check_eq http_live_post "$(rec /post | jq -c '[.method, .request_body_len, .status_code, .response_body_len]')" \
	"[\"POST\",1000,$c,$d]"
check_eq http_live_post_upload "$u" 1000
read -r c d _ _ <"$T_TMP/chunked.w"
check_eq http_live_chunked_upload "$(rec /chunked | jq -c '[.method, .request_body_len, .status_code, .response_body_len]')" \
	"[\"POST\",3000,$c,$d]"
check_eq http_live_chunked_was_chunked \
	"$(tshark -r "$T_TMP/http.pcap" -Y 'http.transfer_encoding == "chunked" && http.request' -T fields -e http.request.uri 2>/dev/null)" \
	/chunked

# HTTP/1.0 (its own connection: the one record on it) and HEAD (no body, despite the length)
read -r c d _ _ <"$T_TMP/http10.w"
h10=$(jq -s -c --arg u /a.txt 'group_by(.uid) | map(select(length == 1 and .[0].uri == $u and
	.[0].id_resp_p == 80)) | length' "$R")
[ "$h10" -ge 2 ] && pass "http_live_http10: $h10 single-request /a.txt connections (probe and -0)" ||
	fail "http_live_http10: $h10 single-request connections for /a.txt, want 2 (the probe, curl -0)"
check_eq http_live_http10_request "$(tshark -r "$T_TMP/http.pcap" -Y 'http.request.version == "HTTP/1.0"' -T fields -e http.request.uri 2>/dev/null)" /a.txt
read -r c d _ _ <"$T_TMP/head.w"
check_eq http_live_head "$(jq -c 'select(.method == "HEAD") | [.uri, .status_code, .response_body_len]' "$R")" \
	"[\"/b.bin\",$c,0]"

# another port: bound by its first bytes; the client's headers; the password nowhere
read -r c d _ _ <"$T_TMP/other.w"
check_eq http_live_other_port "$(rec /b.bin $P2 | jq -c '[.status_code, .response_body_len, .user_agent, .referrer, .username, .proxied]')" \
	"[$c,$d,\"pano-test/1\",\"http://ref.test/\",\"alice\",[\"X-FORWARDED-FOR -> 198.18.0.99\"]]"
grep -q s3cret "$R" && fail "http_live_no_password: the password is in a record" ||
	pass "http_live_no_password"

# every record: Zeek's fields in Zeek's order, latency when answered
order=$(sel 'keys_unsorted | map(select(IN("ts","uid","id_orig_h","id_orig_p","id_resp_h",
	"id_resp_p","trans_depth","method","host","uri","version","status_code","latency")))' | sort -u)
check_eq http_live_field_order "$order" \
	'["ts","uid","id_orig_h","id_orig_p","id_resp_h","id_resp_p","trans_depth","method","host","uri","version","status_code","latency"]'
check_eq http_live_latency "$(sel 'select(.status_code and (.latency | not))' | wc -l)" 0

# tshark on the same capture
if why=$(http_tshark_cmp "$T_TMP/http.pcap" "$R" -d tcp.port==$P2,http); then
	pass "http_live_tshark: $why"
else
	fail "http_live_tshark: $why"
fi
t_done
