#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_demo.sh - `make demo` works: scripts/demo.sh runs for a few seconds on its own
# (DEMO_SECONDS), streams DNS records and, when the analyzer decodes them (--protocols), the
# web pods' TLS connections (TLS 1.2 and 1.3, with SNI and JA4) and HTTP requests (GET and
# POST), prints its summary, exits 0 and leaves nothing behind: no namespace, no process, no
# work directory. (It skips install-deps and make: `make test` has built everything already.)
. "$(dirname "$0")/../lib/lib.sh"

need_root demo
need_cmd demo knotd kdig dnsperf jq curl openssl
for b in "$PANO_BUILD/pano-agent" "$PANO_BUILD/pano-analyzer"; do
	[ -x "$b" ] || { fail "demo: $b is not built"; t_done; }
done

out=$T_TMP/demo.out
DEMO_SECONDS=${DEMO_TEST_SECONDS:-10} DEMO_BUILD=0 DEMO_QPS=20 \
	"$PANO_ROOT/scripts/demo.sh" >"$out" 2>"$T_TMP/demo.err" &
demo=$!
on_exit "kill -INT $demo; sleep 2; kill -KILL $demo"
wait "$demo"
rc=$?
check_eq demo_exit_status "$rc" 0

grep '^{' "$out" >"$T_TMP/lines.jsonl"
jq -c 'select(.log == "dns")' "$T_TMP/lines.jsonl" >"$T_TMP/dns.jsonl" 2>/dev/null
records=$(grep -c . "$T_TMP/dns.jsonl")
if [ "$records" -gt 0 ] && jq -e 'has("query") and has("qtype")' "$T_TMP/dns.jsonl" >/dev/null; then
	pass "demo_records_streamed ($records DNS lines)"
else
	fail "demo_records_streamed: $records DNS record lines; stderr: $(tail -3 "$T_TMP/demo.err" | tr '\n' ' ')"
fi
n=$(sed -n 's/^DNS transactions logged: \([0-9]*\).*/\1/p' "$out")
if [ -n "$n" ] && [ "$n" -eq "$records" ]; then
	pass "demo_summary ($n transactions)"
else
	fail "demo_summary: summary says '${n}', $records lines were shown"
fi
# an_has PROTO: the analyzer was built with PROTO.
an_has() { ! "$PANO_BUILD/pano-analyzer" --protocols "$1" --read /dev/null 2>&1 | grep -q "no protocol"; }
# demo_lines NAME JQ_FILTER WHAT: PASS when some printed line matches JQ_FILTER.
demo_lines() {
	local n
	n=$(jq -c "select($2)" "$T_TMP/lines.jsonl" 2>/dev/null | wc -l)
	if [ "$n" -gt 0 ]; then pass "$1 ($n lines: $3)"; else
		fail "$1: no line with $3; log kinds: $(jq -r .log "$T_TMP/lines.jsonl" | sort | uniq -c | tr '\n' ' ')"
	fi
}
if an_has tls; then
	sni=.sni==\"web.default.svc.cluster.local\"
	demo_lines demo_ssl_tls13 ".log == \"ssl\" and $sni and .version == \"TLSv13\" and (.ja4 | length) > 0" \
		"ssl, TLSv13, SNI, JA4"
	demo_lines demo_ssl_tls12 ".log == \"ssl\" and $sni and .version == \"TLSv12\" and (.alpn | type) == \"string\"" \
		"ssl, TLSv12, SNI, ALPN"
	n=$(sed -n 's/^TLS connections logged: \([0-9]*\).*/\1/p' "$out")
	check_eq demo_ssl_summary "$n" "$(jq -c 'select(.log == "ssl")' "$T_TMP/lines.jsonl" | wc -l)"
else
	skip "demo_ssl: the analyzer has no tls protocol"
fi
if an_has http; then
	demo_lines demo_http_get '.log == "http" and .method == "GET" and .uri == "/index.html" and .status == 200' \
		"http GET /index.html 200"
	demo_lines demo_http_post '.log == "http" and .method == "POST" and .req_bytes > 0' "http POST with a body"
	n=$(sed -n 's/^HTTP requests logged: \([0-9]*\).*/\1/p' "$out")
	check_eq demo_http_summary "$n" "$(jq -c 'select(.log == "http")' "$T_TMP/lines.jsonl" | wc -l)"
else
	skip "demo_http: the analyzer has no http protocol"
fi
grep -q 'pano-analyzer statistics' "$out" && pass demo_analyzer_stats ||
	fail "demo_analyzer_stats: no analyzer statistics in the summary"

check_nothing_left demo "$T_TMP/demo.err" "pd$demo"
t_done
