# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# web.sh - real TLS and HTTP servers and clients for the tests and the demo, in the tests'
# network namespaces. Source it after lib.sh (and e2e.sh, for bg_start):
#   . "$PANO_ROOT/tests/lib/lib.sh"; . "$PANO_ROOT/tests/lib/e2e.sh"; . "$PANO_ROOT/tests/lib/web.sh"
#
#   web_pki DIR [NAME...]     a throwaway CA, a server certificate for the NAMEs (subjectAltName
#                             DNS entries; default web.pano.test) and a client certificate, in
#                             DIR. Sets WEB_CA WEB_CA_KEY WEB_SRV_CRT WEB_SRV_KEY WEB_CLI_CRT
#                             WEB_CLI_KEY and their SHA-256 fingerprints (of the DER, lower-case
#                             hex, as Zeek's cert_chain_fps) WEB_CA_FP WEB_SRV_FP WEB_CLI_FP.
#   web_docroot DIR [BIG]     files to serve: index.html, a.txt b.txt c.txt (small), big.bin
#                             (BIG bytes of random data, default 4 MiB).
#   web_tls_server VAR NS ADDR PORT VERSION [S_SERVER_ARGS...]
#                             openssl s_server on ADDR:PORT in NS for TLS VERSION (1.2 or 1.3),
#                             ALPN h2,http/1.1, the server certificate with the CA after it in
#                             the chain, serving files from WEB_DOCROOT (-WWW) unless the args
#                             say otherwise (-www: a status page; -Verify 1: a client
#                             certificate is required). Pid in VAR; stopped on exit.
#   web_tls_cmd ADDR PORT VERSION [ARGS...]   the same command line in the array WEB_CMD (to
#                             start it another way, e.g. in a pod's cgroup); VERSION any: both
#   web_http_server VAR NS ADDR PORT DOCROOT
#                             an HTTP/1.1 server (keep-alive; GET and HEAD serve DOCROOT, POST
#                             and PUT read the body, Content-Length or chunked, and answer
#                             "received N bytes") with Debian's Python; pid in VAR.
#   web_http_cmd ADDR PORT DOCROOT            its command line in WEB_CMD
#   web_curl NS OUT ARGS...   curl in NS with -v (the TLS version, cipher and ALPN it reports go
#                             to OUT.err) and -w: one line per transfer in OUT,
#                             "local_port http_code size_upload size_download url".
#   web_s_client NS OUT ARGS...   openssl s_client in NS; sends "GET /index.html HTTP/1.0" and
#                             reads until the server closes; everything it prints (session:
#                             protocol version, cipher, ALPN) in OUT.
#   web_tls_field FILE NAME   from a web_curl .err or web_s_client output: version (TLSv1.2),
#                             cipher (OpenSSL's name), alpn ("" when none was agreed)
#   web_iana_cipher NAME      OpenSSL's cipher name -> the IANA (RFC) name, from OpenSSL's own
#                             table (`openssl ciphers -stdname`), e.g. ECDHE-RSA-AES128-GCM-SHA256
#                             -> TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (TLS 1.3 names are equal)
#   web_fp PEM                the SHA-256 fingerprint of a PEM certificate's DER
#
# Every server logs to $T_TMP/web-*.log. Nothing here is a stand-in: the servers are openssl's
# and Python's, the clients curl and openssl, on real sockets.

WEB_NAME=web.pano.test
WEB_PY=/usr/bin/python3

web_fp() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }

# web_pki DIR [NAME...]
web_pki() {
	local d=$1 san="" n; shift
	[ $# -gt 0 ] || set -- "$WEB_NAME"
	for n in "$@"; do san+="${san:+,}DNS:$n"; done
	mkdir -p "$d" || return 1
	WEB_CA=$d/ca.crt WEB_CA_KEY=$d/ca.key
	WEB_SRV_CRT=$d/server.crt WEB_SRV_KEY=$d/server.key
	WEB_CLI_CRT=$d/client.crt WEB_CLI_KEY=$d/client.key
	# An EC CA, an RSA server (so TLS 1.2 picks ECDHE-RSA suites), an EC client.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$WEB_CA_KEY" -out "$WEB_CA" -subj "/CN=PANO test CA $$" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>"$d/openssl.log" || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$WEB_SRV_KEY" -out "$d/server.csr" \
		-subj "/CN=$1" 2>>"$d/openssl.log" || return 1
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" \
		>"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$WEB_CA" -CAkey "$WEB_CA_KEY" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$WEB_SRV_CRT" 2>>"$d/openssl.log" || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WEB_CLI_KEY" \
		-out "$d/client.csr" -subj "/CN=pano-test-client" 2>>"$d/openssl.log" || return 1
	printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$d/client.ext"
	openssl x509 -req -in "$d/client.csr" -CA "$WEB_CA" -CAkey "$WEB_CA_KEY" -CAcreateserial \
		-days 2 -extfile "$d/client.ext" -out "$WEB_CLI_CRT" 2>>"$d/openssl.log" || return 1
	WEB_CA_FP=$(web_fp "$WEB_CA") WEB_SRV_FP=$(web_fp "$WEB_SRV_CRT") WEB_CLI_FP=$(web_fp "$WEB_CLI_CRT")
}

# web_docroot DIR [BIG]
web_docroot() {
	local d=$1 f
	WEB_DOCROOT=$d
	mkdir -p "$d" || return 1
	printf '<html><body>PANO test page</body></html>\n' >"$d/index.html"
	for f in a b c; do head -c $((300 + ${#f} * 1000)) /dev/urandom | base64 >"$d/$f.txt"; done
	head -c "${2:-4194304}" /dev/urandom >"$d/big.bin"
}

# web_listening NS ADDR PORT: something listens on ADDR:PORT in NS.
web_listening() { ip netns exec "$1" ss -Htln "src $2 and sport = :$3" | grep -q .; }

# web_tls_cmd ADDR PORT VERSION [ARGS...]: web_tls_server's command line in the array WEB_CMD
# (for a caller that starts it its own way, e.g. in a pod's cgroup); VERSION any: 1.2 or 1.3.
web_tls_cmd() {
	local addr=$1 port=$2 ver=$3 serve=-WWW a; shift 3
	for a in "$@"; do case $a in -www | -WWW | -HTTP) serve= ;; esac; done
	case $ver in 1.2) ver=-tls1_2 ;; 1.3) ver=-tls1_3 ;; any) ver= ;; *) log "web_tls_cmd: version $ver"; return 1 ;; esac
	# s_server -WWW serves files relative to its working directory (env -C: the pid stays
	# s_server's).
	WEB_CMD=(env -C "${WEB_DOCROOT:-/}" openssl s_server -accept "$addr:$port" $ver
		-cert "$WEB_SRV_CRT" -key "$WEB_SRV_KEY" -cert_chain "$WEB_CA" -CAfile "$WEB_CA"
		-alpn h2,http/1.1 $serve "$@")
}

# web_tls_server VAR NS ADDR PORT VERSION [ARGS...]
web_tls_server() {
	local _v=$1 ns=$2 addr=$3 port=$4; shift 4
	web_tls_cmd "$addr" "$port" "$@" || return 1
	bg_start "$_v" "$T_TMP/web-tls-$addr-$port.log" "$ns" "${WEB_CMD[@]}"
	wait_for 10 web_listening "$ns" "$addr" "$port" || {
		log "web_tls_server: s_server on $addr:$port did not start: $(tail -3 "$T_TMP/web-tls-$addr-$port.log")"
		return 1
	}
}

# web_http_cmd ADDR PORT DOCROOT: web_http_server's command line in WEB_CMD.
web_http_cmd() { WEB_CMD=("$WEB_PY" -u "$PANO_ROOT/tests/lib/web_http.py" "$1" "$2" "$3"); }

# web_http_server VAR NS ADDR PORT DOCROOT
web_http_server() {
	local _v=$1 ns=$2 addr=$3 port=$4 root=$5
	web_http_cmd "$addr" "$port" "$root"
	bg_start "$_v" "$T_TMP/web-http-$addr-$port.log" "$ns" "${WEB_CMD[@]}"
	wait_for 10 web_listening "$ns" "$addr" "$port" || {
		log "web_http_server: $addr:$port did not start: $(tail -3 "$T_TMP/web-http-$addr-$port.log")"
		return 1
	}
}

# web_curl NS OUT ARGS...
web_curl() {
	local ns=$1 out=$2 a args=(); shift 2
	for a in "$@"; do	# every URL's body to /dev/null (-o applies to one URL)
		case $a in http://* | https://*) args+=(-o /dev/null "$a") ;; *) args+=("$a") ;; esac
	done
	ip netns exec "$ns" curl -sS -v --max-time 30 \
		-w '%{local_port} %{http_code} %{size_upload} %{size_download} %{url_effective}\n' \
		"${args[@]}" >"$out" 2>"$out.err"
}

# web_s_client NS OUT ARGS...
web_s_client() {
	local ns=$1 out=$2; shift 2
	printf 'GET /index.html HTTP/1.0\r\n\r\n' |
		ip netns exec "$ns" timeout 30 openssl s_client -ign_eof "$@" >"$out" 2>&1
}

# web_tls_field FILE version|cipher|alpn
web_tls_field() {
	case $2 in
	version)	# curl: "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
		sed -n -e 's/.*SSL connection using \(TLSv[0-9.]*\) .*/\1/p' \
			-e 's/^ *Protocol *: \(TLSv[0-9.]*\).*/\1/p' "$1" | head -1 ;;
	cipher)	# s_client: "New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384"
		sed -n -e 's/.*SSL connection using TLSv[0-9.]* \/ \([^ ]*\).*/\1/p' \
			-e 's/^New, [^,]*, Cipher is \([^ ]*\).*/\1/p' "$1" | head -1 ;;
	alpn)	# curl: "ALPN: server accepted h2" (7.88) or "ALPN, server accepted to use h2"
		sed -n -e 's/.*ALPN[:,] server accepted\( to use\)\{0,1\} \([^ ]*\).*/\2/p' \
			-e 's/^ALPN protocol: \([^ ]*\).*/\1/p' "$1" | tr -d '\r' | head -1 ;;
	esac
}

# web_iana_cipher NAME
web_iana_cipher() {
	openssl ciphers -stdname ALL:COMPLEMENTOFALL 2>/dev/null |
		awk -v n="$1" '$3 == n || $1 == n { print $1; exit }'
}
