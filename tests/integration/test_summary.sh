#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_summary.sh - the analyzer's summaries against the pktvisor captures' expected numbers
# (../shared/corpus/EXPECTED.md) and tshark as an oracle, the /metrics exposition through
# promtool and a real Prometheus (PromQL over its HTTP API), and pano-top under tmux.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd summary jq tshark
AN=$PANO_BUILD/pano-analyzer
PV=$PANO_CORPUS/pktvisor
[ -x "$AN" ] || { fail "summary: $AN not built"; t_done; }
[ -r "$PV/dns_ipv4_udp.pcap" ] || { skip "summary: corpus not found at $PANO_CORPUS"; exit 0; }

# summ FILE [ARGS...]: the merged summary JSON of a capture, in $T_TMP/<name>.json
summ() {
	local f=$1; shift
	"$AN" --read "$PV/$f" --summary "$@" >"$T_TMP/${f%.pcap}.json" 2>"$T_TMP/${f%.pcap}.err"
}
jqv() { jq -r "$2" "$T_TMP/${1%.pcap}.json"; }

# ---- pktvisor captures: counts and top qname2 -----------------------------------------
summ dns_ipv4_udp.pcap --ports 53000
check_eq ipv4_udp_packets "$(jqv dns_ipv4_udp '[.packets.total,.packets.udp,.packets.ipv4]|join(",")')" "140,140,140"
check_eq ipv4_udp_queries_replies "$(jqv dns_ipv4_udp '[.dns.messages,.dns.queries,.dns.replies]|join(",")')" "140,70,70"
check_eq ipv4_udp_top_qname2 "$(jqv dns_ipv4_udp '.dns.top_qname2[0]|"\(.name)=\(.estimate)"')" ".test.com=140"
check_eq ipv4_udp_period "$(jqv dns_ipv4_udp '[.period.start_ts,.period.end_ts]|map(.*1000000|round)|join(",")')" "1567706414599964,1567706420602866"
check_eq ipv4_udp_transactions "$(jqv dns_ipv4_udp '.dns.xact.total')" "70"

summ dns_ipv4_tcp.pcap --ports 53000
syn=$(tshark -r "$PV/dns_ipv4_tcp.pcap" -Y 'tcp.flags.syn==1' 2>/dev/null | wc -l)
check_eq ipv4_tcp_syn_oracle "$syn" "420"
check_eq ipv4_tcp_packets "$(jqv dns_ipv4_tcp '[.packets.total,.packets.tcp]|join(",")')" "2100,2100"
check_eq ipv4_tcp_dns "$(jqv dns_ipv4_tcp '[.dns.messages,.dns.tcp,.dns.queries,.dns.replies]|join(",")')" "420,420,210,210"
check_eq ipv4_tcp_top_qname2 "$(jqv dns_ipv4_tcp '.dns.top_qname2[0]|"\(.name)=\(.estimate)"')" ".test.com=420"

summ dns_ipv6_udp.pcap --ports 53000
check_eq ipv6_udp "$(jqv dns_ipv6_udp '[.packets.total,.packets.ipv6,.packets.udp,.dns.queries,.dns.replies]|join(",")')" "140,140,140,70,70"

summ dns_ipv6_tcp.pcap --ports 53000
check_eq ipv6_tcp "$(jqv dns_ipv6_tcp '[.packets.total,.packets.ipv6,.dns.messages,.dns.queries,.dns.replies]|join(",")')" "1800,1800,360,180,180"

# Host spec: every packet of the capture goes to or comes from 127.0.0.1.
summ dns_ipv4_udp.pcap --ports 53000 --host-spec 127.0.0.0/8
check_eq host_spec_in_out "$(jqv dns_ipv4_udp '.packets.in + .packets.out')" "140"

# ---- dnssec.pcap: 6 replies with DNSSEC answers (DNSKEY 3, DS 2, A 1), qtypes vs tshark ---
summ dnssec.pcap
check_eq dnssec_answered_replies "$(jqv dnssec '.dns.rcode.noerror')" "6"
for t in DNSKEY:48 DS:43 A:1; do
	n=${t%%:*} v=${t##*:}
	want=$(tshark -r "$PV/dnssec.pcap" -Y "dns.qry.type==$v" 2>/dev/null | wc -l)
	want_ans=$(tshark -r "$PV/dnssec.pcap" -Y "dns.qry.type==$v && dns.flags.response==1 && dns.count.answers>0" 2>/dev/null | wc -l)
	got=$(jqv dnssec ".dns.top_qtype[]|select(.name==\"$n\")|.estimate")
	check_eq "dnssec_qtype_$n" "$got" "$want"
	log "dnssec $n: $want_ans replies with answers"
done
check_eq dnssec_expected_tally "$(tshark -r "$PV/dnssec.pcap" -Y 'dns.flags.response==1 && dns.count.answers>0' -T fields -e dns.qry.type 2>/dev/null | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "1:1 43:2 48:3 "

# ---- ecs.pcap: 5 queries with client subnet; message count vs tshark --------------------
summ ecs.pcap
check_eq ecs_queries "$(jqv ecs '.dns.ecs')" "5"
check_eq ecs_messages_vs_tshark "$(jqv ecs '.dns.messages')" "$(tshark -r "$PV/ecs.pcap" -Y dns 2>/dev/null | wc -l)"

# ---- rcodes on the mixed capture against tshark -------------------------------------------
summ dns_udp_mixed_rcode.pcap
for r in 3:nxdomain 5:refused 2:srvfail; do
	want=$(tshark -r "$PV/dns_udp_mixed_rcode.pcap" -Y "dns.flags.response==1 && dns.flags.rcode==${r%%:*}" 2>/dev/null | wc -l)
	check_eq "mixed_rcode_${r##*:}" "$(jqv dns_udp_mixed_rcode ".dns.rcode.${r##*:}")" "$want"
done

# ---- /metrics: promtool, a real Prometheus, PromQL ---------------------------------------
MP=$(free_port)
"$AN" --read "$PV/dns_ipv4_udp.pcap" --ports 53000 --metrics "127.0.0.1:$MP" --linger \
	-o /dev/null 2>"$T_TMP/linger.err" &
APID=$!
on_exit "kill $APID"
if wait_for 10 curl -sf "http://127.0.0.1:$MP/healthz"; then
	curl -sf "http://127.0.0.1:$MP/metrics" >"$T_TMP/metrics.txt"
	if command -v promtool >/dev/null; then
		check promtool_check_metrics sh -c "promtool check metrics <'$T_TMP/metrics.txt'"
	else
		skip "promtool_check_metrics: promtool is not installed"
	fi
	check_eq api_merged_queries "$(curl -sf "http://127.0.0.1:$MP/api/v1/metrics/merged" | jq .dns.queries)" "70"
	check_eq api_window0_queries "$(curl -sf "http://127.0.0.1:$MP/api/v1/metrics/window/0" | jq .dns.queries)" "70"
	check_eq api_window_missing "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/api/v1/metrics/window/1")" "404"
else
	fail "metrics_listen: analyzer did not serve on 127.0.0.1:$MP"
fi

if command -v prometheus >/dev/null; then
	PP=$(free_port)
	mkdir -p "$T_TMP/prom"
	cat >"$T_TMP/prom/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pano
    static_configs:
      - targets: ['127.0.0.1:$MP']
CFG
	prometheus --config.file="$T_TMP/prom/prometheus.yml" --storage.tsdb.path="$T_TMP/prom/data" \
		--web.listen-address="127.0.0.1:$PP" >"$T_TMP/prom/log" 2>&1 &
	PPID_=$!
	on_exit "kill $PPID_; wait $PPID_"
	promq() {
		curl -sf "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
			jq -r '.data.result[0].value[1] // empty'
	}
	got=
	for _ in $(seq 60); do
		got=$(promq 'sum(pano_dns_queries_total{job="pano"})')
		[ -n "$got" ] && break
		sleep 0.5
	done
	check_eq prometheus_promql_queries "$got" "70"
	check_eq prometheus_promql_top_qname2 "$(promq 'pano_dns_top_qname2{qname=".test.com"}')" "140"
	check_eq prometheus_up "$(promq 'up{job="pano"}')" "1"
else
	skip "prometheus: not installed"
fi

# ---- pano-top under tmux ------------------------------------------------------------------
TOP=$PANO_BUILD/pano-top
if ! command -v tmux >/dev/null; then
	skip "pano_top: tmux is not installed"
elif [ ! -x "$TOP" ]; then
	fail "pano_top: $TOP not built"
else
	TS=${T_PREFIX}top
	on_exit "tmux kill-session -t $TS"
	tmux new-session -d -s "$TS" -x 80 -y 24 "$TOP 127.0.0.1:$MP"
	screen() { tmux capture-pane -p -t "$TS"; }
	if wait_for 10 sh -c "tmux capture-pane -p -t $TS | grep -q '\.test\.com .*140'"; then
		pass pano_top_shows_top_names
	else
		fail "pano_top_shows_top_names: screen was: $(screen | tr -s ' ' | head -c 600)"
	fi
	tmux send-keys -t "$TS" q
	if wait_for 5 sh -c "! tmux has-session -t $TS"; then
		pass pano_top_quits_on_q
	else
		fail "pano_top_quits_on_q: still running"
	fi
fi

# The lingering analyzer stops cleanly on SIGTERM.
kill "$APID" 2>/dev/null
wait "$APID"
check_eq linger_sigterm_exit "$?" "0"
t_done
