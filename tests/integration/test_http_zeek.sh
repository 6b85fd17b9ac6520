#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_http_zeek.sh - pano-analyzer's http records against Zeek's http.log baselines: every
# $PANO_CORPUS/zeek/Baseline/scripts.base.protocols.http.* whose zeek-run.txt reads a trace
# under Traces/http, field by field where PANO has the field (tests/lib/zeekcmp_http.py: ts and
# uid masked, uids grouped alike; the file-analysis columns and password left out), one
# PASS/FAIL per baseline; then tshark as a second oracle on the same traces (the methods, hosts
# and status codes of the requests and responses it decodes).
#
# Deliberate differences (the arguments in DIFF below):
#  - response_body_len / request_body_len: PANO counts the body bytes the message carries
#    (after chunked transfer coding, before any content coding); Zeek counts what its decoders
#    make of them (gunzip/inflate of Content-Encoding, MIME multipart parts re-joined with CRLF).
#    So x-gzip and missing-zlib-header (compressed responses) and http-no-crlf (multipart
#    request bodies) differ in those lengths only.
#  - http-09, no-version: after an HTTP/0.9 reply (raw until close) Zeek writes a second,
#    empty record (trans_depth 2: no method, no status) for the reply's end at the close;
#    there is no second transaction on the wire and PANO writes none.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd http_zeek jq timeout
. "$(dirname "$0")/../lib/http.sh"
A=$PANO_BUILD/pano-analyzer
Z=$PANO_CORPUS/zeek
ANALYZE_ARGS="--protocols http"
CMP=$PANO_ROOT/tests/lib/zeekcmp_http.py
[ -x "$A" ] || { skip "http_zeek: $A not built"; exit 0; }
[ -d "$Z" ] || { skip "http_zeek: no corpus at $Z"; exit 0; }

declare -A DIFF=(
	[x-gzip]="--ignore response_body_len"
	[missing-zlib-header]="--ignore response_body_len"
	[http-no-crlf]="--ignore request_body_len"
	[http-09]="--drop-zeek method=-,status_code=-"
	[no-version]="--drop-zeek method=-,status_code=-"
)

n_base=0
for d in "$Z"/Baseline/scripts.base.protocols.http.*; do
	name=${d##*.http.}
	trace=$(grep -o 'TRACES/http/[^ ]*\.pcap' "$d/zeek-run.txt" 2>/dev/null | head -1)
	[ -n "$trace" ] && [ -f "$d/http.log" ] || continue
	trace=$Z/Traces/${trace#TRACES/}
	n=zeek_http_$name
	n_base=$((n_base + 1))
	if ! why=$(analyze "$n" --read "$trace"); then
		fail "$n: $why"
		continue
	fi
	# shellcheck disable=SC2086
	if why=$(/usr/bin/python3 "$CMP" "$d/http.log" "$T_TMP/$n.json" ${DIFF[$name]:-} 2>&1); then
		pass "$n: $(grep -c '"_path":"http"' "$T_TMP/$n.json") record(s) agree${DIFF[$name]:+ (${DIFF[$name]})}"
	else
		fail "$n: differs from Zeek: $(echo "$why" | head -c 1500)"
	fi
done
[ "$n_base" -ge 25 ] && pass "zeek_http_baselines: $n_base compared" ||
	fail "zeek_http_baselines: only $n_base baselines with an http trace found"

# ---- tshark: every request method and host, and every status code, it decodes -----------
# Traces where tshark and Zeek (whom PANO follows) read the bytes differently, not compared:
#  http_09, no-version, methods: HTTP/0.9 requests (tshark decodes none) and request lines
#    Zeek rejects; query-method*: tshark does not know the QUERY method;
#  http-11-request-then-cruft: after a line that is not a request, Zeek (and PANO) stop reading
#    the connection, tshark decodes the server's 400;
#  concurrent-range-requests: the capture ends in a response body, tshark shows two of the
#    three 206 responses (Zeek three).
declare -A TSHARK_SKIP=([http_09]=1 [no-version]=1 [methods]=1 [query-method]=1
	[query-method-non-standard-port]=1 [http-11-request-then-cruft]=1
	[concurrent-range-requests]=1)
if command -v tshark >/dev/null 2>&1; then
	for f in "$Z"/Traces/http/*.pcap; do
		b=$(basename "$f" .pcap)
		[ -n "${TSHARK_SKIP[$b]:-}" ] && continue
		n=tshark_http_$b
		if ! why=$(analyze "$n" --read "$f"); then fail "$n: $why"; continue; fi
		# the traces' other HTTP ports, for tshark too
		if why=$(http_tshark_cmp "$f" "$T_TMP/$n.json" -d tcp.port==4711,http \
			-d tcp.port==8240,http); then
			pass "$n: $why"
		else
			fail "$n: $why"
		fi
	done
else
	skip "tshark_http: tshark is not installed"
fi
t_done
