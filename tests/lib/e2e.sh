# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034  # variables set here are used by the scripts sourcing it
# e2e.sh - helpers for the end-to-end tests, demo and benchmarks: start and stop background
# processes (pano-agent, tcpdump) so that on_exit always stops them, and wait
# for them to be ready. Source it after lib.sh.

PANO_AGENT=${PANO_AGENT:-$PANO_BUILD/pano-agent}
PANO_ANALYZER=${PANO_ANALYZER:-$PANO_BUILD/pano-analyzer}
PCAP_FRAMES="python3 $PANO_ROOT/tests/lib/pcap_frames.py"

# bg_start VAR LOG NS CMD...: runs CMD in namespace NS (or here when NS is "-") in the
# background with its output in LOG, stores its pid in VAR and registers its stop. The process
# itself is the child (ip netns exec execs), so its pid is what $! gives. Its standard input
# is BG_STDIN when set (a background command otherwise reads /dev/null).
bg_start() {
	local _var=$1 _log=$2 _ns=$3 _pid _in=${BG_STDIN:-/dev/null}; shift 3
	if [ "$_ns" = - ]; then
		"$@" <"$_in" >"$_log" 2>&1 &
	else
		ip netns exec "$_ns" "$@" <"$_in" >"$_log" 2>&1 &
	fi
	_pid=$!
	printf -v "$_var" '%s' "$_pid"
	on_exit "kill -KILL $_pid; wait $_pid"
	[ -n "${E2E_PIDFILE:-}" ] && echo "$_pid" >>"$E2E_PIDFILE"
	return 0
}

# pid_running PID: true while PID exists and is not a zombie waiting to be reaped.
pid_running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# bg_stop PID [SIGNAL] [SECONDS]: sends SIGNAL (default INT), waits up to SECONDS (default 10)
# for the process to exit, then kills it. Sets BG_RC to its exit status (137 if it was killed).
# (No watchdog subshell: a signal sent to a bash subshell before it resets its traps would run
# this script's own exit trap there.)
bg_stop() {
	local pid=$1 sig=${2:-INT} secs=${3:-10} t
	kill -"$sig" "$pid" 2>/dev/null
	t=$((secs * 10))
	while [ $t -gt 0 ] && pid_running "$pid"; do sleep 0.1; t=$((t - 1)); done
	pid_running "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	BG_RC=$?
	return 0
}

# listening NS PORT: true when something listens on TCP PORT in namespace NS.
listening() { ip netns exec "$1" ss -Htln "sport = :$2" | grep -q .; }
# tc_has_bpf NS IF: true when a BPF filter sits on IF's ingress and egress hooks in NS.
tc_has_bpf() {
	tc -n "$1" filter show dev "$2" ingress 2>/dev/null | grep -q bpf &&
		tc -n "$1" filter show dev "$2" egress 2>/dev/null | grep -q bpf
}
# tc_clean NS IF: true when IF has no filter and no clsact qdisc left.
tc_clean() {
	! tc -n "$1" qdisc show dev "$2" | grep -q clsact &&
		[ -z "$(tc -n "$1" filter show dev "$2" ingress 2>/dev/null)" ] &&
		[ -z "$(tc -n "$1" filter show dev "$2" egress 2>/dev/null)" ]
}
# established NS PORT N: true when at least N TCP connections to PORT are established in NS.
established() {
	[ "$(ip netns exec "$1" ss -Htn state established "dport = :$2" | wc -l)" -ge "$3" ]
}

# agent_up NS IFACE PORT [ARGS...]: start pano-agent in NS on IFACE with a PCAP-over-TCP
# listener on 127.0.0.1:PORT; waits until it listens and its filters are attached. AGENT_PID.
agent_up() {
	local ns=$1 ifc=$2 port=$3; shift 3
	ip -n "$ns" link set lo up	# netns_up leaves the node's loopback down
	bg_start AGENT_PID "$T_TMP/agent.log" "$ns" "$PANO_AGENT" --iface "$ifc" \
		--pcap-listen "127.0.0.1:$port" "$@"
	if ! wait_for 15 listening "$ns" "$port" || ! wait_for 5 tc_has_bpf "$ns" "$ifc"; then
		log "pano-agent did not start; its log:"
		sed 's/^/# agent: /' "$T_TMP/agent.log" >&2
		return 1
	fi
}

# dnsperf_completed LOG: the "Queries completed" count from a dnsperf report.
dnsperf_completed() { awk '/Queries completed:/ { print $3; exit }' "$1"; }
dnsperf_sent() { awk '/Queries sent:/ { print $3; exit }' "$1"; }
dnsperf_qps() { awk '/Queries per second:/ { print $4; exit }' "$1"; }
