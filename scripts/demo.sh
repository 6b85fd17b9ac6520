#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - what `make demo` runs: PANO end to end on this machine, in network namespaces.
#
#   client ns --dnsperf + kdig loop--> knot in the server ns
#   node ns: pano-agent on the server's pod veth --PCAP-over-TCP--> pano-analyzer --> terminal
#
# Installs missing packages (scripts/install-deps.sh), builds with make, creates the namespace
# hosts, starts knot and a light client load, runs pano-agent --pcap-listen and
# pano-analyzer --pcap-connect, and prints every DNS transaction as it happens (one compact
# JSON line each). Ctrl-C (or the end of --duration) stops everything, prints a summary and
# removes all it created.
#
# Usage: scripts/demo.sh [--duration SECONDS] [--qps N]
# Environment: DEMO_SECONDS (same as --duration; 0 = until Ctrl-C), DEMO_QPS (dnsperf rate,
# default 20), DEMO_BUILD=0 to skip install-deps and make, PANO_BUILD (build directory).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DEMO_SECONDS:-0}
QPS=${DEMO_QPS:-20}

usage() {
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
	case $1 in
	-d | --duration) DURATION=${2:?--duration needs a number of seconds}; shift 2 ;;
	--duration=*) DURATION=${1#*=}; shift ;;
	-q | --qps) QPS=${2:?--qps needs a rate}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
case $DURATION$QPS in *[!0-9]*) echo "demo.sh: --duration and --qps take whole numbers" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root (network namespaces, eBPF); try: sudo make demo" >&2
	exit 1
fi

# ---- install and build ---------------------------------------------------------------------
# The build directory: PANO_BUILD, else make's BUILD (relative to the tree), else build/.
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
export PANO_BUILD=${PANO_BUILD:-$_b}
if [ "${DEMO_BUILD:-1}" != 0 ]; then
	"$ROOT/scripts/install-deps.sh" || exit 1
	echo "demo: building (make BUILD=$PANO_BUILD)"
	make -C "$ROOT" -s BUILD="$PANO_BUILD" all || exit 1
fi

. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"
. "$ROOT/tests/lib/e2e.sh"
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
	[ -n "${DIG_PID:-}" ] && dig_stop
	sleep 0.5	# the last replies reach the analyzer
	[ -n "${AN_PID:-}" ] && bg_stop "$AN_PID" TERM 15
	[ -n "${VIEW_PID:-}" ] && bg_stop "$VIEW_PID" TERM 5
	[ -n "${AGENT_PID:-}" ] && bg_stop "$AGENT_PID" INT 10
	summary
	exit 0
}
trap demo_stop INT TERM

summary() {
	local rec=$T_TMP/records.jsonl n answered
	[ -f "$rec" ] || return 0
	n=$(grep -c . "$rec")
	answered=$(jq -c 'select(.rcode != null)' "$rec" 2>/dev/null | wc -l)
	echo
	echo "==== PANO demo summary ===="
	echo "DNS transactions logged: $n ($answered answered)"
	if [ "$n" -gt 0 ]; then
		echo "by rcode:  $(jq -r '.rcode_name // "no reply"' "$rec" | sort | uniq -c | sort -rn | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by qtype:  $(jq -r '.qtype_name // .qtype' "$rec" | sort | uniq -c | sort -rn | head -8 | awk '{printf "%s=%s  ", $2, $1}')"
		echo "by proto:  $(jq -r '.proto' "$rec" | sort | uniq -c | awk '{printf "%s=%s  ", $2, $1}')"
		jq -s -r '[.[] | .rtt // empty] | sort | if length > 0 then
			"rtt:       median \(.[length / 2 | floor] * 1e6 | round) us, max \(.[-1] * 1e6 | round) us"
			else empty end' "$rec"
	fi
	[ -n "${LOAD_LOG:-}" ] && [ -f "$LOAD_LOG" ] &&
		echo "dnsperf:   sent $(dnsperf_sent "$LOAD_LOG"), completed $(dnsperf_completed "$LOAD_LOG")"
	echo "---- pano-agent ----"
	grep -E 'stats|sent|drop' "$T_TMP/agent.log" | tail -3
	echo "---- pano-analyzer --stats ----"
	grep -v -E '^pano-analyzer: (warning|info)' "$T_TMP/analyzer.log"
}

# ---- set up --------------------------------------------------------------------------------
say "work directory $T_TMP, namespaces ${T_PREFIX}node/${T_PREFIX}cli/${T_PREFIX}srv"
netns_up || { echo "demo: could not create the namespaces" >&2; exit 1; }
dns_up || { echo "demo: knot did not start" >&2; exit 1; }
dns_querylist "$T_TMP/queries.txt"
say "knot serves pano.test on $SRV4 and $SRV6 (server namespace ${T_PREFIX}srv)"

PORT=57012
agent_up "$NS_NODE" "$IF_SRV" "$PORT" || exit 1
say "pano-agent captures $IF_SRV (the server's pod veth) and serves PCAP-over-TCP on 127.0.0.1:$PORT"

# The analyzer writes JSON lines into a FIFO; tee keeps them for the summary and jq prints a
# compact line per transaction.
mkfifo "$T_TMP/records.fifo"
VIEW='{ts: (.ts | strftime("%H:%M:%S")), client: .id_orig_h, proto, query, qtype: .qtype_name,
	rcode: (.rcode_name // "-"), rtt_us: (if .rtt then (.rtt * 1e6 | round) else null end),
	answers: ((.answers // [])[:3])}'
tee "$T_TMP/records.jsonl" <"$T_TMP/records.fifo" | jq -c --unbuffered "$VIEW" &
VIEW_PID=$!
on_exit "kill -KILL $VIEW_PID"
on_exit "true 9<>'$T_TMP/records.fifo'"	# unblocks tee if no writer ever opened the FIFO
bg_start AN_PID "$T_TMP/analyzer.log" "$NS_NODE" "$PANO_ANALYZER" \
	--pcap-connect "127.0.0.1:$PORT" --output "$T_TMP/records.fifo" --stats
wait_for 10 established "$NS_NODE" "$PORT" 1 ||
	{ echo "demo: pano-analyzer did not connect: $(cat "$T_TMP/analyzer.log")" >&2; exit 1; }
say "pano-analyzer reads the stream; transactions follow (Ctrl-C to stop)"

# ---- client load ---------------------------------------------------------------------------
LOAD_LOG=$T_TMP/dnsperf.txt
bg_start LOAD_PID "$LOAD_LOG" "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -Q "$QPS" \
	-c 2 -l "$([ "$DURATION" -gt 0 ] && echo "$DURATION" || echo 86400)"
dig_loop() {	# TCP, IPv6 and fragmenting queries now and then; exits 0 on TERM
	trap 'exit 0' TERM
	while :; do
		kdig +timeout=1 +retry=0 +tcp @"$SRV4" pano.test MX
		kdig +timeout=1 +retry=0 @"$SRV6" www.pano.test AAAA
		kdig +timeout=1 +retry=0 +bufsize=4096 @"$SRV4" big.pano.test TXT
		kdig +timeout=1 +retry=0 @"$SRV4" _sip._udp.pano.test SRV
		sleep 1
	done
}
bg_start DIG_PID "$T_TMP/dig.log" - ip netns exec "$NS_CLI" bash -c "$(declare -f dig_loop); SRV4=$SRV4 SRV6=$SRV6 dig_loop"
dig_stop() {	# TERM the loop (it exits after its current command), end that command now
	kill -TERM "$DIG_PID" 2>/dev/null
	pkill -KILL -P "$DIG_PID" 2>/dev/null
	bg_stop "$DIG_PID" TERM 3
}
on_exit dig_stop

# Wait for the duration, or for Ctrl-C (which ends the short foreground sleep at once and runs
# demo_stop).
end=$((SECONDS + DURATION))
while [ "$DURATION" -eq 0 ] || [ "$SECONDS" -lt "$end" ]; do sleep 1; done
demo_stop
