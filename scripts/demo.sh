#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - what `make demo` runs: PANO end to end on this machine, on a Kubernetes node built
# from network namespaces and cgroups (tests/lib/k8snode.sh):
#
#   pods default/client-a (dnsperf), batch/client-c (a kdig loop) --> ClusterIP (nftables DNAT)
#     --> kube-system/coredns-* (unbound) --> SNAT on the uplink --> knot upstream
#   pod default/web-client (curl, openssl s_client every few seconds) --> default/web
#     (openssl s_server on 443: TLS 1.2 and 1.3; an HTTP/1.1 server on 80)
#   node ns: pano-agent --iface all --protobuf stream--> pano-analyzer --> terminal
#
# Installs missing packages (scripts/install-deps.sh), builds with make, builds the node,
# starts a light client load in the pods, runs pano-agent (every interface of the node, each
# packet once, each frame with its sender; DNS, HTTP on 80 whole, and only the first 16 KiB of
# each direction of TLS on 443) and pano-analyzer --listen, and prints every record as it
# happens (one compact JSON line each, "log" saying which): a DNS transaction with which pod,
# container and process asked, which pod answered, the service address it asked; a TLS
# connection (ssl.log) with its SNI, version, ALPN and JA4; an HTTP request (http.log) with
# its method, host, URI and status. Ctrl-C (or the end of --duration) stops everything,
# prints a summary and removes all it created.
#
# Usage: scripts/demo.sh [--duration SECONDS] [--qps N]
# Environment: DEMO_SECONDS (same as --duration; 0 = until Ctrl-C), DEMO_QPS (dnsperf rate,
# default 20), DEMO_BUILD=0 to skip install-deps and make, PANO_BUILD (build directory).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DEMO_SECONDS:-0}
QPS=${DEMO_QPS:-20}

. "$ROOT/scripts/demo-setup.sh"
demo_setup demo demo "$@"

. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"
. "$ROOT/tests/lib/e2e.sh"
. "$ROOT/tests/lib/k8snode.sh"
. "$ROOT/tests/lib/web.sh"
T_PREFIX=pd$$	# namespace and interface names of this demo

say() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }

# ---- the stop path: Ctrl-C, TERM or the end of the duration --------------------------------
STOPPING=0
demo_stop() {
	[ "$STOPPING" = 1 ] && return
	STOPPING=1
	trap '' INT	# a second Ctrl-C during the summary is ignored; cleanup still runs
	echo >&2
	say "stopping"
	[ -n "${LOAD_PID:-}" ] && bg_stop "$LOAD_PID" INT 5
	[ -n "${DIG_PID:-}" ] && bg_stop "$DIG_PID" KILL 3
	[ -n "${WEB_PID:-}" ] && bg_stop "$WEB_PID" KILL 3
	sleep 0.5	# the last replies reach the analyzer
	[ -n "${AN_PID:-}" ] && bg_stop "$AN_PID" TERM 15
	[ -n "${VIEW_PID:-}" ] && bg_stop "$VIEW_PID" TERM 5
	[ -n "${AGENT_PID:-}" ] && bg_stop "$AGENT_PID" INT 10
	summary
	exit 0
}
trap demo_stop INT TERM

summary() {
	local all=$T_TMP/records.jsonl rec=$T_TMP/dns.jsonl n answered
	[ -f "$all" ] || return 0
	jq -c 'select((._path // "dns") == "dns")' "$all" >"$rec"
	n=$(grep -c . "$rec")
	answered=$(jq -c 'select(.rcode != null)' "$rec" 2>/dev/null | wc -l)
	echo
	echo "==== PANO demo summary ===="
	echo "DNS transactions logged: $n ($answered answered)"
	if [ "$n" -gt 0 ]; then
		echo "by rcode:  $(jq -r '.rcode_name // "no reply"' "$rec" | sort | uniq -c | sort -rn | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by qtype:  $(jq -r '.qtype_name // .qtype' "$rec" | sort | uniq -c | sort -rn | head -8 | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by proto:  $(jq -r '.proto' "$rec" | sort | uniq -c | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by client: $(jq -r "$WHO_ORIG" "$rec" | sort | uniq -c | sort -rn | head -6 | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by server: $(jq -r "$WHO_RESP" "$rec" | sort | uniq -c | sort -rn | head -6 | awk '{printf "%s=%s  ", $2, $1}')"
		jq -s -r '[.[] | .rtt // empty] | sort | if length > 0 then
			"rtt:       median \(.[length / 2 | floor] * 1e6 | round) us, max \(.[-1] * 1e6 | round) us"
			else empty end' "$rec"
	fi
	n=$(jq -c 'select(._path == "ssl")' "$all" | wc -l)
	echo "TLS connections logged: $n"
	[ "$n" -gt 0 ] && echo "by version: $(jq -r 'select(._path == "ssl") | .version // "-"' "$all" | sort | uniq -c | awk '{printf "%s=%s  ", $2, $1}')" &&
		echo "by SNI:    $(jq -r 'select(._path == "ssl") | .server_name // "-"' "$all" | sort | uniq -c | sort -rn | head -4 | awk '{printf "%s=%s  ", $2, $1}')" &&
		echo "by JA4:    $(jq -r 'select(._path == "ssl") | .ja4 // "-"' "$all" | sort | uniq -c | sort -rn | head -4 | awk '{printf "%s=%s  ", $2, $1}')"
	n=$(jq -c 'select(._path == "http")' "$all" | wc -l)
	echo "HTTP requests logged: $n"
	[ "$n" -gt 0 ] && echo "by status: $(jq -r 'select(._path == "http") | "\(.method // "-") \(.status_code // "-")"' "$all" | sort | uniq -c | sort -rn | awk '{printf "%s %s=%s  ", $2, $3, $1}')"
	[ -n "${LOAD_LOG:-}" ] && [ -f "$LOAD_LOG" ] &&
		echo "dnsperf:   sent $(dnsperf_sent "$LOAD_LOG"), completed $(dnsperf_completed "$LOAD_LOG")"
	echo "---- pano-agent ----"
	grep -E 'stats|sent|drop' "$T_TMP/agent.log" | tail -3
	echo "---- pano-analyzer --stats ----"
	grep -v -E '^pano-analyzer: (warning|info)' "$T_TMP/analyzer.log"
}

# ---- set up --------------------------------------------------------------------------------
say "work directory $T_TMP, namespaces ${T_PREFIX}*"
k8s_node_up && k8s_web_up || { echo "demo: could not build the Kubernetes node" >&2; exit 1; }
dns_querylist "$T_TMP/queries.txt"
say "node ${T_PREFIX}node: pods ${K8S_PODS[*]} on bridge $K8S_BRIDGE; kube-system/$K8S_RESOLVER" \
	"(unbound) behind ClusterIP $K8S_CLUSTER_IP4; knot upstream on $K8S_UPSTREAM4;" \
	"default/web (openssl s_server, HTTP) on ${K8S_POD_IP4[web]}"

PORT=57013
mkfifo "$T_TMP/records.fifo"	# before the analyzer, which would make a plain file of it
bg_start AN_PID "$T_TMP/analyzer.log" "$K8S_NODE_NS" "$PANO_ANALYZER" --listen "127.0.0.1:$PORT" \
	--output "$T_TMP/records.fifo" --stats
# DNS and HTTP whole; of TLS the first 16 KiB each way (the handshake), when the agent can.
if "$PANO_AGENT" --help 2>&1 | grep -q -- --tcp-head; then
	CAPTURE=(--ports 53,80 --tcp-head 443:16K)
else
	CAPTURE=(--ports 53,80,443)
fi
# The agent through nsenter, not ip netns exec (which remounts /sys and hides the cgroups).
bg_start AGENT_PID "$T_TMP/agent.log" - nsenter --net="/run/netns/$K8S_NODE_NS" -- \
	"$PANO_AGENT" -v --iface all "${CAPTURE[@]}" --connect "127.0.0.1:$PORT" --node demo-node \
	--k8s-root "$K8S_ROOT"

# The analyzer writes JSON lines into a FIFO; tee keeps them for the summary and jq prints a
# compact line per transaction.
WHO_ORIG='if .orig_k8s_pod then "\(.orig_k8s_namespace)/\(.orig_k8s_pod)/\(.orig_container)"
	else .id_orig_h end + (if .orig_comm then ":\(.orig_comm)[\(.orig_pid // "?")]" else "" end)'
WHO_RESP='if .resp_k8s_pod then "\(.resp_k8s_namespace)/\(.resp_k8s_pod)" else .id_resp_h end +
	(if .resp_comm then ":\(.resp_comm)" else "" end)'
VIEW="{ts: (.ts | strftime(\"%H:%M:%S\")), log: (._path // \"dns\"), client: ($WHO_ORIG),
	server: ($WHO_RESP)} + if ._path == \"ssl\" then
	{sni: .server_name, version, alpn: .next_protocol, cipher, established, ja4}
	elif ._path == \"http\" then
	{method, host, uri, status: .status_code, req_bytes: .request_body_len,
	 resp_bytes: .response_body_len}
	else
	{service: .service_h, proto, query, qtype: .qtype_name, rcode: (.rcode_name // \"-\"),
	 rtt_us: (if .rtt then (.rtt * 1e6 | round) else null end), answers: ((.answers // [])[:2])}
	end"
tee "$T_TMP/records.jsonl" <"$T_TMP/records.fifo" | jq -c --unbuffered "$VIEW" &
VIEW_PID=$!
on_exit "kill -KILL $VIEW_PID"
on_exit "true 9<>'$T_TMP/records.fifo'"	# unblocks tee if no writer ever opened the FIFO
wait_for 15 established "$K8S_NODE_NS" "$PORT" 1 ||
	{ echo "demo: pano-agent did not connect: $(tail -3 "$T_TMP/agent.log")" >&2; exit 1; }
say "pano-agent captures every interface of the node once and names each frame's sender;"
say "pano-analyzer reads its stream; transactions follow (Ctrl-C to stop)"

# ---- client load ---------------------------------------------------------------------------
LOAD_LOG=$T_TMP/load.out
k8s_exec_bg load client-a app dnsperf -s "$K8S_CLUSTER_IP4" -d "$T_TMP/queries.txt" -Q "$QPS" \
	-c 2 -l "$([ "$DURATION" -gt 0 ] && echo "$DURATION" || echo 86400)"
LOAD_PID=$(cat "$T_TMP/load.pid")
dig_loop() {	# TCP, IPv6, fragmenting, NXDOMAIN and SERVFAIL queries now and then
	while :; do
		kdig +timeout=1 +retry=0 +tcp @"$1" pano.test MX
		kdig +timeout=1 +retry=0 @"$2" www.pano.test AAAA
		kdig +timeout=1 +retry=0 +bufsize=4096 @"$1" big.pano.test TXT
		kdig +timeout=1 +retry=0 @"$1" "n$RANDOM.nx.pano.test" A
		kdig +timeout=1 +retry=0 @"$1" "s$RANDOM.broken.pano.test" A
		sleep 1
	done
}
k8s_exec_bg digloop client-c app bash -c "$(declare -f dig_loop); dig_loop $K8S_CLUSTER_IP4 $K8S_CLUSTER_IP6"
DIG_PID=$(cat "$T_TMP/digloop.pid")
web_loop() {	# HTTP GET and POST, TLS 1.3 and 1.2 (curl), ALPN h2 (s_client), every 3 s
	local u=https://$1 ca=$3 r443=$1:443:$2 r80=$1:80:$2
	while :; do
		curl -s -o /dev/null --max-time 2 --resolve "$r80" "http://$1/index.html"
		curl -s -o /dev/null --max-time 2 --resolve "$r80" -d "demo=$RANDOM" "http://$1/form"
		curl -s -o /dev/null --max-time 2 --http1.1 --cacert "$ca" --resolve "$r443" "$u/"
		curl -s -o /dev/null --max-time 2 --http1.1 --tls-max 1.2 --cacert "$ca" --resolve "$r443" "$u/"
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 2 openssl s_client -quiet -ign_eof \
			-connect "$2:443" -servername "$1" -alpn h2 -CAfile "$ca" >/dev/null 2>&1
		sleep 3
	done
}
k8s_exec_bg webloop web-client app bash -c "$(declare -f web_loop); web_loop $K8S_WEB_NAME ${K8S_POD_IP4[web]} $WEB_CA"
WEB_PID=$(cat "$T_TMP/webloop.pid")

# Wait for the duration, or for Ctrl-C (which ends the short foreground sleep at once and runs
# demo_stop).
end=$((SECONDS + DURATION))
while [ "$DURATION" -eq 0 ] || [ "$SECONDS" -lt "$end" ]; do sleep 1; done
demo_stop
