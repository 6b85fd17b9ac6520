#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_tls_live.sh - real TLS between namespaces, captured with tcpdump, read by pano-analyzer:
# openssl s_server/s_client with TLS 1.2 and 1.3, ALPN h2 and http/1.1, SNI, a client
# certificate, curl, and DNS over TLS on 853. Each record is checked against what the peers
# themselves say: the cipher s_client negotiated (OpenSSL's name mapped with
# `openssl ciphers -stdname`), the certificates' SHA-256 fingerprints from `openssl x509`, the
# ALPN s_client got; tshark decodes the same capture as a second oracle (SNI, versions, ALPN).
# tshark 4.0 has no ja4 field: tests/lib/tls_tshark.py computes JA4 from tshark's decoding of
# the hello (ciphers, extensions, signature algorithms) as FoxIO's JA4.md defines it.
. "$(dirname "$0")/../lib/lib.sh"
need_root tls_live
need_cmd tls_live openssl tcpdump jq curl timeout
A=$PANO_BUILD/pano-analyzer
[ -x "$A" ] || { skip "tls_live: $A not built"; exit 0; }
netns_up || { fail "tls_live_netns: could not build the namespaces"; t_done; }
D=$T_TMP
NAME=srv.pano.test

# certificates: the server's for $NAME, the client's
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$NAME" \
	-addext "subjectAltName=DNS:$NAME" -keyout "$D/srv.key" -out "$D/srv.pem" 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=pano-client" -keyout "$D/cli.key" -out "$D/cli.pem" 2>/dev/null ||
	{ fail "tls_live_certs: openssl req failed"; t_done; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
SRV_FP=$(fp "$D/srv.pem")
CLI_FP=$(fp "$D/cli.pem")

# capture everything the server sees
nsx "$NS_SRV" tcpdump -i eth0 -U -s 0 -w "$D/live.pcap" tcp >/dev/null 2>"$D/tcpdump.err" &
TPID=$!
on_exit "kill $TPID"
wait_for 5 grep -q listening "$D/tcpdump.err" || { fail "tls_live_tcpdump: did not start"; t_done; }

# serve PORT ARGS...: s_server in the server namespace until the test ends
serve() {
	local port=$1; shift
	nsx "$NS_SRV" openssl s_server -accept "$port" -cert "$D/srv.pem" -key "$D/srv.key" \
		-quiet "$@" >"$D/server_$port.out" 2>&1 </dev/null &
	on_exit "kill $!"
	wait_for 5 nsx "$NS_SRV" ss -Htln "sport = :$port" | grep -q . ||
		wait_for 5 sh -c "ip netns exec $NS_SRV ss -Htln 'sport = :$port' | grep -q ."
}
# client NAME PORT ARGS...: one s_client exchange; its output in $D/NAME.out
client() {
	local n=$1 port=$2; shift 2
	echo | timeout 10 ip netns exec "$NS_CLI" openssl s_client -connect "$SRV4:$port" \
		-servername "$NAME" -ign_eof "$@" >"$D/$n.out" 2>&1 </dev/null
}

P12=$(free_port) P13=$(free_port) PCC=$(free_port) PWWW=$(free_port)
serve "$P12" -tls1_2 -alpn h2,http/1.1
serve "$P13" -tls1_3 -alpn h2,http/1.1
serve "$PCC" -tls1_2 -Verify 1 -CAfile "$D/cli.pem"
serve 853 -tls1_3
serve "$PWWW" -www
client c12 "$P12" -tls1_2 -alpn h2
client c13 "$P13" -tls1_3 -alpn http/1.1
client ccc "$PCC" -tls1_2 -cert "$D/cli.pem" -key "$D/cli.key"
client cdot 853
timeout 10 ip netns exec "$NS_CLI" curl -sk --resolve "$NAME:$PWWW:$SRV4" \
	"https://$NAME:$PWWW/" -o /dev/null 2>"$D/curl.err"
sleep 1
kill "$TPID"; wait "$TPID" 2>/dev/null

if ! timeout 60 "$A" --stats -r "$D/live.pcap" >"$D/ssl.json" 2>"$D/stats"; then
	fail "tls_live_analyzer: exit status $?"; t_done
fi
rec() { jq -c --argjson p "$1" 'select(._path == "ssl" and .id_resp_p == $p)' "$D/ssl.json"; }
# std NAME: the standard (IANA) name of the cipher s_client NAME negotiated
std() {
	local c
	c=$(sed -n 's/.*Cipher is \([^ ]*\).*/\1/p' "$D/$1.out" | head -n 1)
	openssl ciphers -stdname -s ALL 2>/dev/null | awk -v c="$c" '$3 == c {print $1; exit}'
}

r=$(rec "$P12")
check_eq tls_live_12_version "$(jq -r .version <<<"$r")" TLSv12
check_eq tls_live_12_cipher "$(jq -r .cipher <<<"$r")" "$(std c12)"
check_eq tls_live_12_sni "$(jq -r .server_name <<<"$r")" "$NAME"
check_eq tls_live_12_alpn "$(jq -r .next_protocol <<<"$r")" \
	"$(sed -n 's/^ALPN protocol: //p' "$D/c12.out")"
check_eq tls_live_12_client_alpn "$(jq -c .client_alpn <<<"$r")" '["h2"]'
check_eq tls_live_12_established "$(jq -r .established <<<"$r")" true
check_eq tls_live_12_cert_fp "$(jq -c .cert_chain_fps <<<"$r")" "[\"$SRV_FP\"]"
check_eq tls_live_12_sni_match "$(jq -r .sni_matches_cert <<<"$r")" true
check_eq tls_live_12_curve "$(jq -r .curve <<<"$r")" \
	"$(sed -n 's/^Server Temp Key: \([^,]*\),.*/\1/p' "$D/c12.out" | tr 'A-Z' 'a-z' |
		sed 's/^ecdh$//; s/prime256v1/secp256r1/')"
check_eq tls_live_12_ja4_shape "$(jq -r '.ja4 | test("^t12d[0-9]{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$")' <<<"$r")" true

r=$(rec "$P13")
check_eq tls_live_13_version "$(jq -r .version <<<"$r")" TLSv13
check_eq tls_live_13_cipher "$(jq -r .cipher <<<"$r")" "$(std c13)"
check_eq tls_live_13_established "$(jq -r .established <<<"$r")" true
# TLS 1.3 encrypts the server's ALPN choice and certificates: Zeek logs neither
check_eq tls_live_13_no_alpn_no_certs "$(jq -c '[.next_protocol, .cert_chain_fps]' <<<"$r")" '[null,null]'
check_eq tls_live_13_client_alpn "$(jq -c .client_alpn <<<"$r")" '["http/1.1"]'
check_eq tls_live_13_history "$(jq -r '.ssl_history | test("^Cs")' <<<"$r")" true

r=$(rec "$PCC")
check_eq tls_live_clientcert_fp "$(jq -c .client_cert_chain_fps <<<"$r")" "[\"$CLI_FP\"]"
check_eq tls_live_clientcert_history "$(jq -r '.ssl_history | test("^Csx[k]?rnX[k]?G")' <<<"$r")" true
check_eq tls_live_clientcert_established "$(jq -r .established <<<"$r")" true

r=$(rec 853)
check_eq tls_live_dot "$(jq -c '[.dot, .doh, .version]' <<<"$r")" '[true,false,"TLSv13"]'
r=$(rec "$PWWW")
check_eq tls_live_curl "$(jq -c '[.server_name, .established, .dot]' <<<"$r")" "[\"$NAME\",true,false]"
check_eq tls_live_records "$(jq -s 'length' "$D/ssl.json")" 5

if command -v tshark >/dev/null 2>&1; then
	tshark -r "$D/live.pcap" -Y 'tcp && tls.handshake.type == 1' -T fields -E separator=/t \
		-e ip.src -e ipv6.src -e tcp.srcport -e tls.handshake.extensions_server_name \
		-e tls.handshake.extensions.supported_version -e tls.handshake.extensions_alpn_str \
		-e tls.handshake.version -e tls.handshake.ciphersuite -e tls.handshake.extension.type \
			-e tls.handshake.sig_hash_alg >"$D/tshark.tsv" 2>/dev/null
	if why=$(/usr/bin/python3 "$PANO_ROOT/tests/lib/tls_tshark.py" "$D/tshark.tsv" "$D/ssl.json"); then
		pass "tls_live_tshark: $why"
	else
		fail "tls_live_tshark: $why"
	fi
fi
t_done
