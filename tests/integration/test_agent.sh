#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent.sh - pano-agent end to end in network namespaces: --stdout read by tcpdump,
# PCAP-over-TCP read live by two tcpdump clients at once, --write with rotation read back by
# capinfos/tcpdump, --iface all picking up a veth created after start and skipping a tun,
# /metrics valid for promtool, nothing left on the interfaces after SIGTERM, stale filters of a
# SIGKILLed agent replaced by the next start, a clear refusal without capabilities, exit codes.
# DNS traffic: dig from the client host to the server host (no server needs to answer: the
# queries are the frames we look for, each with a unique name).
. "$(dirname "$0")/../lib/lib.sh"

AGENT=$PANO_BUILD/pano-agent
need_root agent
need_cmd agent dig tcpdump tc capinfos promtool curl setpriv
[ -x "$AGENT" ] || { fail "agent: $AGENT is not built"; t_done; }

# ---- exit codes ----------------------------------------------------------------------------
"$AGENT" --help >/dev/null; check_eq agent_help_exit "$?" 0
"$AGENT" --no-such-option >/dev/null 2>&1; check_eq agent_bad_option_exit "$?" 2
"$AGENT" -i lo >/dev/null 2>&1; check_eq agent_no_output_exit "$?" 2
"$AGENT" -i lo --stdout --snaplen 99999 >/dev/null 2>&1; check_eq agent_bad_snaplen_exit "$?" 2
"$AGENT" --version | grep -q '^pano-agent '; check_eq agent_version "$?" 0

netns_up || { fail "agent_netns: could not build the test hosts"; t_done; }
ip -n "$NS_NODE" link set lo up	# the agent's servers listen on 127.0.0.1 there

AG_PID=
# agent_start NAME ARGS...: runs the agent in the node namespace with stdout to $T_TMP/NAME.out
# and stderr to $T_TMP/NAME.err; sets AG_PID.
agent_start() {
	local name=$1; shift
	sh -c 'echo $$ >"$0"; exec ip netns exec "$@"' "$T_TMP/$name.pid" "$NS_NODE" "$AGENT" -v "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	wait_for 5 test -s "$T_TMP/$name.pid"
	AG_PID=$(cat "$T_TMP/$name.pid")
	on_exit "kill -9 $AG_PID"
}
# agent_stop: SIGTERM and wait; the exit status lands in rc.
agent_stop() {
	kill -TERM "$AG_PID" 2>/dev/null
	wait "$AG_PID" 2>/dev/null
	rc=$?
}
attached() { grep -q "attached to $2 " "$T_TMP/$1.err"; }
# queries N TAG: N dig queries for qN.TAG.pano.test from the client host.
queries() {
	local i pids=()
	for i in $(seq "$1"); do
		nsx "$NS_CLI" dig +tries=1 +timeout=1 +retry=0 @"$SRV4" "q$i.$2.pano.test" A >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}
# no_pano_left IF: no clsact qdisc and no filter left on IF in the node namespace.
no_pano_left() {
	[ -z "$(nsx "$NS_NODE" tc filter show dev "$1" ingress)" ] &&
		[ -z "$(nsx "$NS_NODE" tc filter show dev "$1" egress)" ] &&
		! nsx "$NS_NODE" tc qdisc show dev "$1" | grep -q clsact
}
pano_filters() {	# pano_filters IF DIR: PANO filters on that hook
	nsx "$NS_NODE" tc filter show dev "$1" "$2" | grep -c 'handle 0x50414e4f'
}

# ---- --stdout | tcpdump -r - ---------------------------------------------------------------
sh -c 'echo $$ >"$0"; exec ip netns exec "$@"' "$T_TMP/so.pid" "$NS_NODE" "$AGENT" -v -i "$IF_CLI" \
	--stdout 2>"$T_TMP/so.err" | tcpdump -nr - >"$T_TMP/so.txt" 2>"$T_TMP/so.tcpdump" &
TD_PID=$!
wait_for 5 test -s "$T_TMP/so.pid"; AG_PID=$(cat "$T_TMP/so.pid"); on_exit "kill -9 $AG_PID"
if wait_for 10 attached so "$IF_CLI"; then
	queries 5 so
	sleep 0.5
	agent_stop; wait "$TD_PID"
	check_eq agent_stdout_exit "$rc" 0
	check_eq agent_stdout_tcpdump "$(grep -c 'A? q[1-5].so.pano.test' "$T_TMP/so.txt")" 5
	check agent_stdout_final_stats grep -q 'stats: seen [0-9]*, matched [0-9]*, captured' "$T_TMP/so.err"
	check agent_sigterm_clean no_pano_left "$IF_CLI"
else
	fail "agent_stdout: not attached: $(cat "$T_TMP/so.err")"
fi

# ---- PCAP-over-TCP: two live readers, /metrics ---------------------------------------------
PORT=$(nsx "$NS_NODE" bash -c "$(declare -f free_port); free_port")
MPORT=$(nsx "$NS_NODE" bash -c "$(declare -f free_port); free_port")
[ "$MPORT" = "$PORT" ] && MPORT=$((PORT + 1))
agent_start srv -i "$IF_SRV" --pcap-listen "$PORT" --metrics "127.0.0.1:$MPORT"
metrics() { nsx "$NS_NODE" curl -sf "http://127.0.0.1:$MPORT/metrics"; }
if wait_for 10 attached srv "$IF_SRV"; then
	for c in 1 2; do
		nsx "$NS_NODE" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && cat <&3" |
			tcpdump -l -nr - >"$T_TMP/c$c.txt" 2>"$T_TMP/c$c.err" &
	done
	check agent_pcap_two_clients wait_for 10 sh -c \
		"ip netns exec $NS_NODE curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'pano_agent_pcap_clients 2'"
	queries 8 tcp
	for c in 1 2; do
		wait_for 10 test "$(grep -c 'A? q[1-8].tcp.pano.test' "$T_TMP/c$c.txt")" -eq 8
		check_eq "agent_pcap_client$c" "$(grep -c 'A? q[1-8].tcp.pano.test' "$T_TMP/c$c.txt")" 8
	done
	metrics >"$T_TMP/metrics.txt"
	check agent_metrics_promtool promtool check metrics <"$T_TMP/metrics.txt"
	check agent_metrics_iface grep -q "^pano_agent_interface_attached{iface=\"$IF_SRV\",ifindex=\"[0-9]*\"} 1$" "$T_TMP/metrics.txt"
	check agent_metrics_bpf grep -q '^pano_agent_bpf_packets_captured_total [1-9]' "$T_TMP/metrics.txt"
	check agent_metrics_client grep -q '^pano_agent_pcap_client_sent_records_total{client="127.0.0.1:[0-9]*"} [1-9]' "$T_TMP/metrics.txt"
	check agent_healthz sh -c "ip netns exec $NS_NODE curl -sf http://127.0.0.1:$MPORT/healthz | grep -qx ok"
	agent_stop
	check_eq agent_pcap_exit "$rc" 0
	check agent_pcap_sigterm_clean no_pano_left "$IF_SRV"
else
	fail "agent_pcap: not attached: $(cat "$T_TMP/srv.err")"
fi

# ---- --write with rotation -----------------------------------------------------------------
agent_start wr -i "$IF_CLI" --write "$T_TMP/rot.pcap" --rotate-size 1000
if wait_for 10 attached wr "$IF_CLI"; then
	queries 20 rot
	sleep 0.5
	agent_stop
	check_eq agent_write_exit "$rc" 0
	files=("$T_TMP"/rot.pcap "$T_TMP"/rot.pcap.*)
	total=0 bad=0
	for f in "${files[@]}"; do
		capinfos "$f" >/dev/null 2>&1 || bad=$((bad + 1))
		n=$(tcpdump -nr "$f" 2>/dev/null | wc -l)
		total=$((total + n))
		[ "$(stat -c %s "$f")" -le 1000 ] || [ "$n" -eq 1 ] || bad=$((bad + 1))
	done
	check_eq agent_rotate_valid_files "$bad" 0
	check agent_rotate_several_files test "${#files[@]}" -ge 3
	sent=$(sed -n 's/.*file: sent \([0-9]*\),.*/\1/p' "$T_TMP/wr.err")
	check_eq agent_rotate_all_records "$total" "$sent"
	got=$(for f in "${files[@]}"; do tcpdump -nr "$f" 2>/dev/null; done | grep -c 'A? q[0-9]*.rot.pano.test')
	check_eq agent_rotate_queries "$got" 20
else
	fail "agent_write: not attached: $(cat "$T_TMP/wr.err")"
fi

# ---- --iface all: a veth made after start, a tun, a link that goes ---------------------------
NS_X=${T_PREFIX}x IF_X=${T_PREFIX}x IF_T=${T_PREFIX}t
on_exit "ip netns del $NS_X"
agent_start all -i all --write "$T_TMP/all.pcap"
if wait_for 10 attached all "$IF_SRV"; then
	ip netns add "$NS_X"
	ip -n "$NS_NODE" link add "$IF_X" type veth peer name eth0 netns "$NS_X"
	ip -n "$NS_NODE" addr add 198.19.0.1/24 dev "$IF_X"
	ip -n "$NS_NODE" link set "$IF_X" up
	ip -n "$NS_X" link set eth0 up
	ip -n "$NS_X" addr add 198.19.0.2/24 dev eth0
	ip -n "$NS_NODE" tuntap add dev "$IF_T" mode tun
	ip -n "$NS_NODE" link set "$IF_T" up
	check agent_all_new_veth wait_for 10 attached all "$IF_X"
	wait_for 5 ip netns exec "$NS_X" ping -c1 -W1 198.19.0.1
	for i in 1 2 3; do
		nsx "$NS_X" dig +tries=1 +timeout=1 +retry=0 @198.19.0.1 "q$i.late.pano.test" A >/dev/null 2>&1
	done
	check agent_all_tun_skipped wait_for 5 grep -q "skipping interface $IF_T: .*not Ethernet" "$T_TMP/all.err"
	check_eq agent_all_tun_once "$(grep -c "skipping interface $IF_T" "$T_TMP/all.err")" 1
	ip netns del "$NS_X"	# the veth goes with it
	check agent_all_forgets wait_for 5 grep -q "interface $IF_X (ifindex [0-9]*) is gone" "$T_TMP/all.err"
	agent_stop
	check_eq agent_all_exit "$rc" 0
	check_eq agent_all_late_traffic "$(tcpdump -nr "$T_TMP/all.pcap" 2>/dev/null | grep -c 'A? q[1-3].late.pano.test')" 3
	check agent_all_clean sh -c "$(declare -f no_pano_left nsx); NS_NODE=$NS_NODE; no_pano_left $IF_CLI && no_pano_left $IF_SRV && no_pano_left br0"
else
	fail "agent_all: not attached: $(cat "$T_TMP/all.err")"
fi

# ---- SIGKILL, then a new start replaces the stale filters -----------------------------------
agent_start k1 -i "$IF_CLI" --write "$T_TMP/k1.pcap"
if wait_for 10 attached k1 "$IF_CLI"; then
	kill -9 "$AG_PID"; wait "$AG_PID" 2>/dev/null
	check_eq agent_kill_leaves_filter "$(pano_filters "$IF_CLI" ingress)" 1
	agent_start k2 -i "$IF_CLI" --write "$T_TMP/k2.pcap"
	if wait_for 10 attached k2 "$IF_CLI"; then
		check_eq agent_restart_one_ingress "$(pano_filters "$IF_CLI" ingress)" 1
		check_eq agent_restart_one_egress "$(pano_filters "$IF_CLI" egress)" 1
		queries 3 k2
		sleep 0.5
		agent_stop
		check_eq agent_restart_exit "$rc" 0
		check_eq agent_restart_captures "$(tcpdump -nr "$T_TMP/k2.pcap" 2>/dev/null | grep -c 'A? q[1-3].k2.pano.test')" 3
		check agent_restart_clean no_pano_left "$IF_CLI"
	else
		fail "agent_restart: not attached: $(cat "$T_TMP/k2.err")"
	fi
else
	fail "agent_kill: not attached: $(cat "$T_TMP/k1.err")"
fi

# ---- without capabilities ------------------------------------------------------------------
nsx "$NS_NODE" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$AGENT" -i "$IF_CLI" --write /dev/null >/dev/null 2>"$T_TMP/nocap.err"
check_eq agent_nocap_exit "$?" 1
check agent_nocap_message grep -q 'CAP_BPF\|CAP_NET_ADMIN' "$T_TMP/nocap.err"
check agent_nocap_clean no_pano_left "$IF_CLI"

t_done
