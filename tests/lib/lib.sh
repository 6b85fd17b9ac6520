# SPDX-License-Identifier: Apache-2.0
# lib.sh - shared helpers for shell tests: result lines, cleanup that always runs, and the
# namespace test hosts. Source it:  . "$(dirname "$0")/../lib/lib.sh"
#
# Topology made by netns_up (like pods on a Kubernetes node):
#
#   $NS_CLI (198.18.0.10/24, 2001:2::10/64) --veth-- +
#                                                    | bridge br0 in $NS_NODE (198.18.0.1/24)
#   $NS_SRV (198.18.0.2/24,  2001:2::2/64)  --veth-- +
#
# The node-side veth ends are $IF_CLI and $IF_SRV inside $NS_NODE (where an agent runs).
# Every name carries a per-run prefix, and cleanup removes all of them, on any exit.

set -u
PANO_ROOT=${PANO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PANO_BUILD=${PANO_BUILD:-$PANO_ROOT/build}
PANO_CORPUS=${PANO_CORPUS:-$PANO_ROOT/../shared/corpus}
T_FAILED=0
T_TMP=$(mktemp -d /tmp/pano-test.XXXXXX)
T_PREFIX=pt$$
T_CLEANUPS=()

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; T_FAILED=1; }
skip() { echo "SKIP $*"; }
# check NAME CMD...: PASS when CMD succeeds, FAIL otherwise.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n: '$*' failed"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }
log() { echo "# $*" >&2; }

# on_exit CMD: run CMD (a string, eval'd) at exit, last registered first.
on_exit() { T_CLEANUPS=("$*" "${T_CLEANUPS[@]}"); }
t_cleanup() {
	local c
	for c in "${T_CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	[ -n "${T_KEEP:-}" ] && cp -r "$T_TMP" "$T_KEEP"; rm -rf "$T_TMP"
}
# Only the test's own shell cleans up: a "( ... ) &" subshell that receives a signal before
# bash resets its inherited traps must not run the parent's cleanup.
trap '[ "$BASHPID" = "$$" ] && t_cleanup' EXIT
trap '[ "$BASHPID" = "$$" ] && exit 130' INT TERM

# t_done: the script's last line; exits with the test status.
t_done() { exit "$T_FAILED"; }

# need_root NAME: prints SKIP and exits 0 unless we are root with BPF available.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then skip "$1: needs root"; exit 0; fi
	if [ ! -r /sys/kernel/btf/vmlinux ]; then skip "$1: kernel has no BTF"; exit 0; fi
}
need_cmd() {	# need_cmd NAME CMD...: SKIP unless every command exists
	local n=$1 c; shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { skip "$n: $c is not installed"; exit 0; }
	done
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; false on timeout.
wait_for() {
	local t=$(($1 * 10)); shift
	while [ $t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
# free_port: a TCP port nobody listens on in this namespace.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# analyze NAME ARGS...: runs the analyzer ($A, with $ANALYZE_ARGS first if set) into
# $T_TMP/NAME.json (stats in NAME.stats); fails (returns 1, the reason on stdout) on a crash, a
# hang (60 s) or a line that is not JSON.
analyze() {
	local n=$1; shift
	# shellcheck disable=SC2086
	timeout 60 "$A" --stats ${ANALYZE_ARGS:-} "$@" >"$T_TMP/$n.json" 2>"$T_TMP/$n.stats"
	local rc=$?
	if [ $rc -ne 0 ]; then echo "exit status $rc"; return 1; fi
	jq -e . "$T_TMP/$n.json" >/dev/null 2>&1 || [ ! -s "$T_TMP/$n.json" ] ||
		{ echo "output is not JSON lines"; return 1; }
	return 0
}

# netns_up: create the three hosts above and register their removal.
netns_up() {
	NS_NODE=${T_PREFIX}node NS_CLI=${T_PREFIX}cli NS_SRV=${T_PREFIX}srv
	IF_CLI=${T_PREFIX}c IF_SRV=${T_PREFIX}s
	SRV4=198.18.0.2 CLI4=198.18.0.10 NODE4=198.18.0.1 SRV6=2001:2::2 CLI6=2001:2::10
	on_exit "ip netns del $NS_NODE; ip netns del $NS_CLI; ip netns del $NS_SRV"
	ip netns add "$NS_NODE" && ip netns add "$NS_CLI" && ip netns add "$NS_SRV" || return 1
	ip -n "$NS_NODE" link set lo up
	ip -n "$NS_NODE" link add br0 type bridge || return 1
	ip -n "$NS_NODE" link set br0 up
	ip -n "$NS_NODE" addr add $NODE4/24 dev br0
	local pair ns ifn a4 a6
	for pair in "$NS_CLI $IF_CLI $CLI4 $CLI6" "$NS_SRV $IF_SRV $SRV4 $SRV6"; do
		set -- $pair; ns=$1 ifn=$2 a4=$3 a6=$4
		ip -n "$NS_NODE" link add "$ifn" type veth peer name eth0 netns "$ns" || return 1
		ip -n "$NS_NODE" link set "$ifn" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" addr add "$a4/24" dev eth0
		ip -n "$ns" addr add "$a6/64" dev eth0 nodad
	done
	ip netns exec "$NS_NODE" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
	wait_for 5 ip netns exec "$NS_CLI" ping -c1 -W1 $SRV4
}
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# check_nothing_left NAME STDERR PREFIX: a demo that ran has left nothing behind: no namespace
# named PREFIX..., not the work directory it named on STDERR ("work directory DIR,"), no
# process mentioning either. Prints NAME_nothing_left's PASS or FAIL.
check_nothing_left() {
	local name=$1 work left="" p cmd
	work=$(sed -n 's/.*work directory \([^,]*\),.*/\1/p' "$2")
	ip netns list | grep -q "^$3" && left+=" namespaces"
	[ -n "$work" ] && [ -e "$work" ] && left+=" $work"
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case $cmd in *"$3"* | *"${work:-/nonexistent}"*) left+=" pid ${p#/proc/}: $cmd" ;; esac
	done
	if [ -z "$work" ]; then
		fail "${name}_nothing_left: the demo did not name its work directory"
	elif [ -z "$left" ]; then
		pass "${name}_nothing_left"
	else
		fail "${name}_nothing_left:$left"
	fi
}

# netns_client2: after netns_up, a second client host $NS_CLI2 ($CLI2_4) on the bridge, its
# node-side port $IF_CLI2.
netns_client2() {
	NS_CLI2=${T_PREFIX}cli2 IF_CLI2=${T_PREFIX}d CLI2_4=198.18.0.11
	on_exit "ip netns del $NS_CLI2"
	ip netns add "$NS_CLI2" &&
		ip -n "$NS_NODE" link add "$IF_CLI2" type veth peer name eth0 netns "$NS_CLI2" &&
		ip -n "$NS_NODE" link set "$IF_CLI2" master br0 up &&
		ip -n "$NS_CLI2" link set lo up && ip -n "$NS_CLI2" link set eth0 up &&
		ip -n "$NS_CLI2" addr add "$CLI2_4/24" dev eth0 &&
		wait_for 5 nsx "$NS_CLI2" ping -c1 -W1 "$SRV4"
}

# ns_start NAME PROG ARGS...: runs PROG in the node namespace ($NS_NODE) in the background,
# stdout to $T_TMP/NAME.out, stderr to $T_TMP/NAME.err, its pid in $T_TMP/NAME.pid; killed on exit.
ns_start() {
	local name=$1; shift
	rm -f "$T_TMP/$name.pid" # an earlier run's file would be taken for this one's
	sh -c 'echo $$ >"$0"; exec ip netns exec "$@"' "$T_TMP/$name.pid" "$NS_NODE" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	disown
	wait_for 5 test -s "$T_TMP/$name.pid"
	on_exit "kill -9 $(cat "$T_TMP/$name.pid")"
}
