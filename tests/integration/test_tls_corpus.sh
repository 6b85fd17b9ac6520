#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_tls_corpus.sh - the ssl records of pano-analyzer against peers' expected output:
#  1. FoxIO's JA4 captures ($PANO_CORPUS/ja4): every TCP ClientHello's ja4 and SNI equal to
#     X.expected (tests/lib/ja4cmp.py); QUIC hellos are skipped (PANO reads TLS over TCP only);
#  2. Zeek's ssl baselines (scripts.base.protocols.ssl.* whose trace is under Traces/tls): every
#     ssl.log field PANO writes, ts and uid aside (tests/lib/sslcmp.py), one PASS/FAIL each;
#  3. tshark as a second oracle on all those captures: SNI, offered versions, ALPN.
# Deliberate differences, with the reason:
#  - https-connect.pcap, socks-https-example.pcap: the TLS runs inside an HTTP CONNECT or SOCKS
#    tunnel, so the connection's first payload is not a ClientHello and TLS never claims it;
#  - dtls, dtls-stun-dpd: DTLS runs over UDP, which the TLS module does not read.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd tls_corpus jq timeout
A=$PANO_BUILD/pano-analyzer
PY=/usr/bin/python3
J=$PANO_CORPUS/ja4
Z=$PANO_CORPUS/zeek
[ -x "$A" ] || { skip "tls_corpus: $A not built"; exit 0; }
[ -d "$J" ] && [ -d "$Z" ] || { skip "tls_corpus: no corpus at $PANO_CORPUS"; exit 0; }

tunnel_reason="TLS inside an HTTP CONNECT / SOCKS tunnel: the first payload is not TLS"
# ---- 1. JA4 ----------------------------------------------------------------------------------
for e in "$J"/*.expected; do
	cap=${e%.expected}
	n=ja4_$(basename "$cap" | tr . _)
	grep -q 'ja4:' "$e" || continue
	if ! why=$(analyze "$n" --read "$cap"); then fail "$n: $why"; continue; fi
	opt=()
	case $cap in *https-connect* | *socks-https*) opt=(--missing-ok "$tunnel_reason") ;; esac
	if why=$($PY "$PANO_ROOT/tests/lib/ja4cmp.py" "$e" "$T_TMP/$n.json" "${opt[@]}"); then
		pass "$n: $(echo "$why" | tail -n 1)"
	else
		fail "$n: $(echo "$why" | head -c 1500)"
	fi
done

# ---- 2. Zeek's ssl.log -----------------------------------------------------------------------
for d in "$Z"/Baseline/scripts.base.protocols.ssl.*; do
	trace=$(grep -o 'TRACES/tls/[^ ]*' "$d/zeek-run.txt" | head -n 1)
	[ -n "$trace" ] || continue
	n=zeek_ssl_${d##*.ssl.}
	if ! why=$(analyze "$n" --read "$Z/Traces/${trace#TRACES/}"); then fail "$n: $why"; continue; fi
	case $n in *dtls*)
		# A deliberate difference: DTLS runs over UDP and the TLS module reads TLS over TCP
		# only. What is checked: the capture is read whole and yields no ssl record.
		if grep -q '"_path":"ssl"' "$T_TMP/$n.json"; then
			fail "$n: an ssl record from a DTLS capture"
		else
			pass "$n: DTLS (UDP) not read, deliberately: no ssl record, capture read whole"
		fi
		continue ;;
	esac
	if why=$($PY "$PANO_ROOT/tests/lib/sslcmp.py" "$d/ssl.log" "$T_TMP/$n.json"); then
		pass "$n: $(grep -vc '^#' "$d/ssl.log") record(s) equal to Zeek's"
	else
		fail "$n: differs from Zeek: $(echo "$why" | head -c 1500)"
	fi
done

# ---- 3. tshark -------------------------------------------------------------------------------
if command -v tshark >/dev/null 2>&1; then
	for f in "$J"/*.pcap "$J"/*.pcapng "$Z"/Traces/tls/*.pcap; do
		n=tshark_tls_$(basename "$f" | tr . _)
		tshark -r "$f" -Y 'tcp && tls.handshake.type == 1' -T fields -E separator=/t \
			-e ip.src -e ipv6.src -e tcp.srcport -e tls.handshake.extensions_server_name \
			-e tls.handshake.extensions.supported_version -e tls.handshake.extensions_alpn_str \
			-e tls.handshake.version -e tls.handshake.ciphersuite -e tls.handshake.extension.type \
			-e tls.handshake.sig_hash_alg >"$T_TMP/$n.tsv" 2>/dev/null
		[ -s "$T_TMP/$n.tsv" ] || continue # no TLS over TCP in it (QUIC, DTLS)
		if ! why=$(analyze "$n" --read "$f"); then fail "$n: $why"; continue; fi
		opt=()
		case $f in *https-connect* | *socks-https*) opt=(--missing-ok) ;; esac
		if why=$($PY "$PANO_ROOT/tests/lib/tls_tshark.py" "$T_TMP/$n.tsv" "$T_TMP/$n.json" "${opt[@]}"); then
			pass "$n: $(echo "$why" | tail -n 1)"
		else
			fail "$n: $(echo "$why" | head -c 1000)"
		fi
	done
else
	skip "tshark_tls: tshark is not installed"
fi
t_done
