#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_top.sh - pano-top's TLS and HTTP views under tmux (80x24), against summaries served the
# way pano-analyzer --metrics serves them. The DNS view is checked by test_summary.sh on a real
# capture.
#
# The summaries come from one function, l7_summaries: today the TLS and HTTP records of
# build/tests/l7_records (struct ssl_rec / http_rec through the out stage into the summaries),
# since no parser produces them yet; once they do, it becomes pano-analyzer --read CAPTURE
# --metrics ADDR --linger on a TLS and HTTP capture. The expected numbers are read from the
# served JSON itself, so the check is that the screen shows what the summaries hold.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd top tmux jq curl
TOP=$PANO_BUILD/pano-top
FEED=$PANO_BUILD/tests/l7_records
for b in "$TOP" "$FEED"; do [ -x "$b" ] || { fail "top: $b is not built"; t_done; }; done

# l7_summaries ADDR: summaries with TLS and HTTP records served on ADDR (pid in SRC_PID).
l7_summaries() {
	"$FEED" serve "$1" >"$T_TMP/feed.log" 2>&1 &
	SRC_PID=$!
	on_exit "kill $SRC_PID; wait $SRC_PID"
}

MP=$(free_port)
l7_summaries "127.0.0.1:$MP"
wait_for 10 curl -sf "http://127.0.0.1:$MP/api/v1/metrics/merged" ||
	{ fail "top_source: nothing served on 127.0.0.1:$MP: $(tail -n 2 "$T_TMP/feed.log")"; t_done; }
curl -sf "http://127.0.0.1:$MP/api/v1/metrics/merged" >"$T_TMP/merged.json"
jqv() { jq -r "$1" "$T_TMP/merged.json"; }

TS=${T_PREFIX}top
on_exit "tmux kill-session -t $TS"
tmux new-session -d -s "$TS" -x 80 -y 24 "$TOP --view tls 127.0.0.1:$MP"
screen() { tmux capture-pane -p -t "$TS"; }
# shows NAME REGEX: the screen matches REGEX within 10 s, else FAIL with the screen.
shows() {
	if wait_for 10 sh -c "tmux capture-pane -p -t $TS | grep -Eq -- '$2'"; then
		pass "$1"
	else
		fail "$1: no /$2/ on the screen: $(screen | tr -s ' ' | head -c 900)"
	fi
}
# top1 PATH: a regex for the first row of a top table: its name (dots escaped), its count
top1() { echo "$(jqv "$1[0].name" | sed 's/\./\\./g') +$(jqv "$1[0].estimate")"; }

# TLS view (--view tls): the first rows of the top tables and the counts line
shows top_tls_connections "^TLS +$(jqv .tls.connections) +established $(jqv .tls.established)  not $(jqv .tls.not_established)"
shows top_tls_top_sni "$(top1 .tls.top_sni)"
shows top_tls_top_ja4 "$(top1 .tls.top_ja4)"
shows top_tls_versions "$(top1 .tls.top_version)"
shows top_tls_alpn "$(top1 .tls.top_alpn)"
shows top_tls_encrypted_dns "DoT $(jqv .dns.encrypted.dot)  DoH $(jqv .dns.encrypted.doh)"
shows top_tls_doh_client_pod "$(jqv '.dns.encrypted.top_doh_client[0] | "\(.name) \(.pod) +\(.estimate)"' | sed 's/\./\\./g')"

# HTTP view (key 3)
tmux send-keys -t "$TS" 3
shows top_http_requests "^HTTP +$(jqv .http.requests) +responses $(jqv .http.responses)"
shows top_http_status_classes "2xx $(jqv '.http.status["2xx"]')  3xx $(jqv '.http.status["3xx"]')  4xx $(jqv '.http.status["4xx"]')  5xx $(jqv '.http.status["5xx"]')"
shows top_http_top_host "$(top1 .http.top_host)"
shows top_http_status_codes "$(top1 .http.top_status)"
shows top_http_methods "$(top1 .http.top_method)"
shows top_http_latency "time ms p50 $(printf '%.2f' "$(jqv '.http.time_us.p50 / 1000')") +p90 $(printf '%.2f' "$(jqv '.http.time_us.p90 / 1000')")"
shows top_http_5xx_hosts "Hosts with 5xx"

# Tab goes on to DNS (the view after HTTP), t back to TLS
tmux send-keys -t "$TS" Tab
shows top_tab_dns_view "Top names +Top clients"
tmux send-keys -t "$TS" t
shows top_key_t_tls_view "Top SNI +SNI not established"

tmux send-keys -t "$TS" q
if wait_for 5 sh -c "! tmux has-session -t $TS 2>/dev/null"; then
	pass top_quits_on_q
else
	fail "top_quits_on_q: still running"
fi
check_eq top_bad_view_exit "$("$TOP" --view nope 127.0.0.1:1 >/dev/null 2>&1; echo $?)" 2
t_done
