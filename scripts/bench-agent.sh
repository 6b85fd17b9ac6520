#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-agent.sh - what `make bench-agent` runs: the cost of capturing DNS, three ways, on the
# same traffic (dnsperf at its maximum rate for BENCH_SECONDS, default 10, from the client
# namespace to knot in the server namespace, across the node's bridge):
#
#   none        no capture
#   tcpdump     tcpdump -i <server veth> -w /dev/null port 53
#   pano-agent  pano-agent on the same veth, a PCAP-over-TCP reader (tests/tools/pcap_loop)
#               draining the stream
#   agent-file  pano-agent on the same veth writing pcap to /dev/null (--write), no client:
#               the capture alone, like for like with tcpdump -w /dev/null
#   control     (BENCH_MODES=control ...) no capture again, measured as a capture is: the
#               method's own bias and noise
#   clsact      (BENCH_MODES=clsact ...) only the clsact qdisc on the veth, no filter
#   tc-noop     (BENCH_MODES=tc-noop ...) a BPF filter that returns at once, both directions
#
# For each: queries per second and its ratio to no capture, packets captured versus packets
# that crossed the veth, drops, and CPU seconds of the capturing process per million packets
# (the scheduler's ns, all threads). Then the BPF program's own cost per frame from
# build/tests/bpf_bench (bpf_prog_test_run_opts with repeat). A benchmark: prints, asserts
# nothing. The query rate swings by 10-20% from one run to the next on a small, shared machine, as
# much as capturing costs, and it drifts, so the three ways run BENCH_ROUNDS times (default 3)
# interleaved (none, tcpdump, agent, none, ..., none): each capture's ratio is taken against the
# no-capture rate interpolated between the no-capture runs around it, and the report gives every
# run and the medians.
# With BENCH_QPS=N, dnsperf is paced at N queries/s (dnsperf -Q) instead of its maximum: then
# the query rates agree and what differs is how busy the host was, so the report adds each
# capture's extra busy CPU per packet over the interpolated no-capture run (host_us/pkt): the
# whole cost of capturing, in softirq and in other processes (cache, wakeups) included.
# After the rounds, tests/tools/tcp_floor gathers records of the size the agent sent and sends
# them over loopback TCP at the agent's packet rate, with no capture: what carrying
# PCAP-over-TCP costs on this host by itself, the floor under the agent's CPU per packet.
# BENCH_MODES picks the capturing ways (default "tcpdump agent agent-file"); "agent2" is the agent again,
# started with BENCH_AGENT2_ARGS (say --ring-size 1M) and, with BENCH_AGENT2_BIN, another build of
# it, to compare two settings or two builds in one run.
# Environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_CLIENTS (dnsperf -c, default 8), PANO_BUILD,
# BENCH_PERF=FILE (perf record -g of the agent during its run, into FILE), BENCH_PERF_ALL=DIR
# (perf record -a -g of the whole host during every run, into DIR/MODE-ROUND.data, at
# BENCH_PERF_FREQ samples/s, default 999), BENCH_PERF_STAT=1
# (perf stat -e instructions,task-clock of tcpdump and of the agent during their runs, reported).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The build directory: PANO_BUILD, else make's BUILD (relative to the tree), else build/.
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
export PANO_BUILD=${PANO_BUILD:-$_b}
. "$ROOT/tests/lib/lib.sh"
. "$ROOT/tests/lib/dns.sh"
. "$ROOT/tests/lib/e2e.sh"
T_PREFIX=pb$$
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
MODES=${BENCH_MODES:-tcpdump agent agent-file}
TCK=$(getconf CLK_TCK)

die() { echo "bench-agent: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, eBPF)"
for c in knotd dnsperf tcpdump jq; do command -v "$c" >/dev/null || die "$c is not installed (scripts/install-deps.sh)"; done
[ -x "$PANO_AGENT" ] || die "$PANO_AGENT is not built (make)"
# A sanitizer build costs several times the CPU: measuring it would mislead.
[ "$(cat "$PANO_BUILD/flavour" 2>/dev/null)" != san ] || die "$PANO_BUILD holds a SAN=1 build (make, then again)"
make -C "$ROOT" -s BUILD="$PANO_BUILD" "$PANO_BUILD/tests/pcap_loop" "$PANO_BUILD/tests/tcp_floor" >/dev/null ||
	die "cannot build pcap_loop and tcp_floor"
[ -f "$ROOT/tests/tools/bpf_bench.c" ] && make -C "$ROOT" -s BUILD="$PANO_BUILD" "$PANO_BUILD/tests/bpf_bench" >/dev/null

# cpu_seconds PID: CPU time the process's threads have spent so far, in seconds with ns
# resolution (the scheduler's own count, /proc/PID/task/*/schedstat; /proc/PID/stat counts in
# 10 ms ticks, a tenth of what a run measures).
cpu_seconds() {
	cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%.6f\n", t / 1e9 }'
}
# host_busy: CPU seconds all CPUs have spent busy (user, nice, system, irq, softirq) so far; the
# BPF program and packet sockets run in softirq, charged to whoever was on the CPU.
host_busy() {
	awk -v t="$TCK" '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / t }' /proc/stat
}
# host_steal: CPU seconds the hypervisor has taken from this VM's CPUs so far.
host_steal() {
	awk -v t="$TCK" '/^cpu / { printf "%.2f\n", $9 / t }' /proc/stat
}
# veth_packets: packets that crossed the server's veth (both directions) so far.
veth_packets() {
	ip -n "$NS_NODE" -s -j link show dev "$IF_SRV" | jq '.[0].stats64 | .rx.packets + .tx.packets'
}
# run_load NAME: dnsperf at full speed; sets QPS, SENT_PKTS (veth packets during the run).
run_load() {
	local before after b0 s0 w0
	before=$(veth_packets)
	b0=$(host_busy) s0=$(host_steal) w0=$(date +%s.%N)
	[ -n "${BENCH_PERF_ALL:-}" ] && { perf record -q -a -g -F "${BENCH_PERF_FREQ:-999}" \
		-o "$BENCH_PERF_ALL/$1-$ROUND.data" -- sleep "$SECS" >/dev/null 2>&1 & PERF_ALL=$!; }
	nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -l "$SECS" -c "$CLIENTS" -q 500 \
		-t 2 ${BENCH_QPS:+-Q "$BENCH_QPS"} >"$T_TMP/dnsperf-$1.txt" 2>&1
	after=$(veth_packets)
	[ -n "${BENCH_PERF_ALL:-}" ] && wait "$PERF_ALL"
	R_BUSY[$1]=$(echo "scale=3; $(host_busy) - $b0" | bc)
	R_WALL[$1]=$(echo "$(date +%s.%N) - $w0" | bc)
	R_STEAL[$1]=$(echo "$(host_steal) - $s0" | bc)
	QPS=$(dnsperf_qps "$T_TMP/dnsperf-$1.txt")
	SENT_PKTS=$((after - before))
	[ -n "$QPS" ] || die "dnsperf failed: $(tail -3 "$T_TMP/dnsperf-$1.txt")"
}

# perf_stat_start PID NAME / perf_stat_stop: with BENCH_PERF_STAT, counts instructions and
# task-clock of PID (all its threads) during one run, into $T_TMP/perfstat-NAME.txt.
PS_PID=
perf_stat_start() {
	[ -n "${BENCH_PERF_STAT:-}" ] || return 0
	perf stat -e instructions,task-clock -p "$1" -o "$T_TMP/perfstat-$2.txt" >/dev/null 2>&1 &
	PS_PID=$!
}
perf_stat_stop() {
	[ -n "$PS_PID" ] || return 0
	kill -INT "$PS_PID"; wait "$PS_PID"; PS_PID=
}

declare -A R_QPS R_SENT R_CAP R_DROP R_CPU R_BUSY R_WALL R_STEAL
RD_PID= RD_CPU= RD_LOG= AGENT_STATS= FLOOR_ARGS=	# set by the agent's runs; reported when there were any
echo "bench-agent: setting up namespaces and knot" >&2
netns_up || die "netns_up failed"
DNS_WORKERS=2 dns_up || die "knot did not start"
# Small answers only: this measures the per-packet cost, not fragmentation.
for i in $(seq 1 50); do echo "www.pano.test A"; echo "mail.pano.test A"; echo "nx$i.pano.test A"; echo "www.pano.test AAAA"; done >"$T_TMP/queries.txt"
nsx "$NS_CLI" dnsperf -s "$SRV4" -d "$T_TMP/queries.txt" -l 1 -c "$CLIENTS" >/dev/null 2>&1	# warm up

# nocap_result NAME: the figures of a run that captured nothing (rate and packets only).
nocap_result() {
	R_QPS[$1]=$QPS R_SENT[$1]=$SENT_PKTS R_CAP[$1]=- R_DROP[$1]=- R_CPU[$1]=-
}

# 1. no capture
bench_none() {
	run_load none
	nocap_result none
}

# control: another run with no capture, taken as a capturing way is (its ratio against the
# interpolated no-capture runs): how far the method itself puts a run that captures nothing.
bench_control() {
	run_load control
	nocap_result control
}

# hook_run NAME [OBJ]: one run, recorded as NAME, with the clsact qdisc the agent's TC programs
# hang from on the server's veth, and OBJ's section tc as a direct-action filter in both
# directions when given; no process captures.
hook_run() {
	local d
	ip netns exec "$NS_NODE" tc qdisc add dev "$IF_SRV" clsact || die "tc qdisc add clsact failed"
	for d in ${2:+ingress egress}; do
		ip netns exec "$NS_NODE" tc filter add dev "$IF_SRV" "$d" bpf da obj "$2" sec tc ||
			die "tc filter add bpf ($d) failed"
	done
	run_load "$1"
	ip netns exec "$NS_NODE" tc qdisc del dev "$IF_SRV" clsact
	nocap_result "$1"
}

# clsact: (BENCH_MODES=clsact ...) the qdisc alone: what the hook itself costs the query rate.
bench_clsact() {
	hook_run clsact
}

# tc-noop: (BENCH_MODES=tc-noop ...) a direct-action BPF filter that passes every frame at once,
# ingress and egress, no process: what running any program on the hook costs.
bench_tc_noop() {
	if [ ! -f "$T_TMP/noop.bpf.o" ]; then
		printf '%s\n' '__attribute__((section("tc"))) int noop(void *skb) { return 0; }' \
			'char LICENSE[] __attribute__((section("license"))) = "GPL";' |
			clang -target bpf -O2 -x c -c - -o "$T_TMP/noop.bpf.o" || die "clang could not build the no-op filter"
	fi
	hook_run tc-noop "$T_TMP/noop.bpf.o"
}

# 2. tcpdump
bench_tcpdump() {
	local c0 c1
	bg_start TD_PID "$T_TMP/tcpdump.log" "$NS_NODE" tcpdump -i "$IF_SRV" -n -w /dev/null port 53
	wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log" || die "tcpdump did not start"
	c0=$(cpu_seconds "$TD_PID")
	perf_stat_start "$TD_PID" tcpdump
	run_load tcpdump
	perf_stat_stop
	c1=$(cpu_seconds "$TD_PID")
	bg_stop "$TD_PID" INT 10
	R_QPS[tcpdump]=$QPS R_SENT[tcpdump]=$SENT_PKTS
	R_CAP[tcpdump]=$(awk '/packets captured/ { print $1 }' "$T_TMP/tcpdump.log")
	R_DROP[tcpdump]=$(awk '/dropped by kernel/ { print $1 }' "$T_TMP/tcpdump.log")
	R_CPU[tcpdump]=$(echo "$c1 - $c0" | bc)
}

# 3. pano-agent with a PCAP-over-TCP reader
# bench_agent [NAME ARGS...]: the run, recorded as NAME (default agent), the agent started with
# ARGS besides its interface and --pcap-listen. NAME agent-file: no reader connects, and the
# agent writes pcap to /dev/null instead.
bench_agent() {
	local c0 c1 r0 r1 ring client port stats m=${1:-agent}
	shift
	port=$(free_port)
	[ "$m" = agent-file ] && set -- --write /dev/null "$@"
	agent_up "$NS_NODE" "$IF_SRV" "$port" "$@" || die "pano-agent did not start"
	if [ "$m" != agent-file ]; then
		bg_start RD_PID "$T_TMP/reader.log" "$NS_NODE" bash -c \
			"exec '$PANO_BUILD/tests/pcap_loop' - </dev/tcp/127.0.0.1/$port"
		wait_for 10 established "$NS_NODE" "$port" 1 || die "the reader did not connect"
	fi
	sleep 0.5
	c0=$(cpu_seconds "$AGENT_PID") r0=$(cpu_seconds "$RD_PID")
	[ -n "${BENCH_PERF:-}" ] && { perf record -q -g -p "$AGENT_PID" -o "$BENCH_PERF" >/dev/null 2>&1 & PERF_PID=$!; }
	perf_stat_start "$AGENT_PID" "$m"
	run_load "$m"
	perf_stat_stop
	[ -n "${BENCH_PERF:-}" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID"; }
	sleep 0.5	# the ring and the client queue drain
	c1=$(cpu_seconds "$AGENT_PID") r1=$(cpu_seconds "$RD_PID")
	bg_stop "$AGENT_PID" INT 10
	stats=$(grep 'stats:' "$T_TMP/agent.log" | tail -1)
	ring=$(echo "$stats" | sed -n 's/.*ring drops \([0-9]*\).*/\1/p')
	R_QPS[$m]=$QPS R_SENT[$m]=$SENT_PKTS R_CPU[$m]=$(echo "$c1 - $c0" | bc)
	if [ "$m" = agent-file ]; then
		R_CAP[$m]=$(echo "$stats" | sed -n 's/.*file: sent \([0-9]*\).*/\1/p')
		R_DROP[$m]=${ring:-0}
		return
	fi
	bg_stop "$RD_PID" TERM 10
	AGENT_STATS=$stats
	R_CAP[$m]=$(awk '{ print $2 }' "$T_TMP/reader.log")
	# for tcp_floor: the packet rate and the PCAP bytes per packet the reader got
	[ "${R_CAP[$m]:-0}" -gt 0 ] &&
		FLOOR_ARGS="--rate $((R_CAP[$m] / SECS)) --record-bytes $(awk '{ printf "%d", $4 / $2 }' "$T_TMP/reader.log")"
	client=$(echo "$stats" | sed -n 's/.*pcap-listen: sent [0-9]*, dropped \([0-9]*\).*/\1/p')
	R_DROP[$m]=$((${ring:-0} + ${client:-0}))
	RD_CPU=$(echo "$r1 - $r0" | bc)
	RD_LOG=$(cat "$T_TMP/reader.log")
}

# ---- rounds and report -----------------------------------------------------------------------
RUNS=$T_TMP/runs.txt
: >"$RUNS"
SEQ=0
# record MODE: one line per run, in the order they ran.
record() {
	local per=-
	case ${R_CAP[$1]} in - | 0 | '') ;; *) per=$(echo "scale=3; ${R_CPU[$1]} * 1000000 / ${R_CAP[$1]}" | bc) ;; esac
	echo "$SEQ $ROUND $1 ${R_QPS[$1]} ${R_SENT[$1]:-?} ${R_CAP[$1]:-?} ${R_DROP[$1]:-?} ${R_CPU[$1]:-?} $per ${R_BUSY[$1]:-?} ${R_WALL[$1]:-?} ${R_STEAL[$1]:-?}" >>"$RUNS"
	SEQ=$((SEQ + 1))
}
for ROUND in $(seq "$ROUNDS"); do
	for m in none $MODES; do
		echo "bench-agent: round $ROUND, $m, ${SECS}s" >&2
		case $m in
		agent2) read -ra a2 <<<"${BENCH_AGENT2_ARGS:-}"
			PANO_AGENT=${BENCH_AGENT2_BIN:-$PANO_AGENT} bench_agent agent2 "${a2[@]}" ;;
		agent | agent-file) bench_agent "$m" ;;
		*) "bench_${m//-/_}" ;;
		esac
		record "$m"
	done
	[ -n "$AGENT_STATS" ] && echo "bench-agent: round $ROUND: $AGENT_STATS; PCAP-over-TCP reader (pcap_loop): $RD_LOG; its CPU: ${RD_CPU}s" >&2
done
echo "bench-agent: closing no-capture run, ${SECS}s" >&2
ROUND=$((ROUNDS + 1))
bench_none
record none

echo
echo "bench-agent: dnsperf -c $CLIENTS for ${SECS}s per run, client -> bridge -> knot (2 workers); $(nproc) CPUs; $ROUNDS rounds"
# The no-capture rate drifts over minutes on a shared machine; each capture's ratio is against
# the no-capture rate interpolated at its place between the no-capture runs before and after it.
python3 - "$RUNS" "$(nproc)" <<'EOF'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
ncpu = int(sys.argv[2])
# host_us/pkt: busy CPU time of the whole host per frame that crossed the veth.
def host_us(r):
    return float(r[9]) * 1e6 / max(int(r[4]), 1)
# steal: the share of the VM's CPU time the hypervisor gave to others during the run.
def steal(r):
    return float(r[11]) / (float(r[10]) * ncpu)
def interp(pts, seq):
    a = max((n for n in pts if n[0] < seq), default=pts[0])
    b = min((n for n in pts if n[0] > seq), default=pts[-1])
    return a[1] if a[0] == b[0] else a[1] + (b[1] - a[1]) * (seq - a[0]) / (b[0] - a[0])
nones = [r for r in runs if r[2] == "none"]
none_qps = [(int(r[0]), float(r[3])) for r in nones]
none_adj = [(int(r[0]), float(r[3]) / (1 - steal(r))) for r in nones]
none_us = [(int(r[0]), host_us(r)) for r in nones]
hdr = "%-6s %-11s %9s %8s %7s %11s %11s %7s %7s %11s %9s %6s %8s %8s"
print(hdr % ("round", "mode", "qps", "baseline", "ratio", "veth_pkts", "captured", "drops", "cpu_s",
             "cpu_s/Mpkt", "host_busy", "steal", "host_us", "extra_us"))
ratios, adj, per, extra = {}, {}, {}, {}
for r in runs:
    seq, rnd, m, qps = int(r[0]), r[1], r[2], float(r[3])
    b = qps if m == "none" else interp(none_qps, seq)
    x = "-" if m == "none" else "%.3f" % (host_us(r) - interp(none_us, seq))
    name = "pano-agent" if m == "agent" else m
    busy = "%.1f%%" % (100 * float(r[9]) / (float(r[10]) * ncpu))
    print(hdr % (rnd, name, "%.0f" % qps, "%.0f" % b, "%.3f" % (qps / b), r[4], r[5], r[6], r[7], r[8],
                 busy, "%.1f%%" % (100 * steal(r)), "%.3f" % host_us(r), x))
    if m != "none":
        ratios.setdefault(name, []).append(qps / b)
        adj.setdefault(name, []).append(qps / (1 - steal(r)) / interp(none_adj, seq))
        if r[8] != "-":
            per.setdefault(name, []).append(float(r[8]))
        extra.setdefault(name, []).append(host_us(r) - interp(none_us, seq))
print("\nmedians (ratio: qps over the interpolated no-capture qps; steal-adjusted: each rate over")
print("the share of CPU time the hypervisor left the VM; extra_us: the host's busy CPU microseconds")
print("per veth frame over the interpolated no-capture run's):")
for name in sorted(ratios):
    cpu = "%.3f" % statistics.median(per[name]) if name in per else "-"
    print("  %-10s qps ratio %.3f (rounds: %s)   steal-adjusted %.3f   cpu_s/Mpkt %s   extra host us/pkt %.3f" % (
          name, statistics.median(ratios[name]), " ".join("%.3f" % x for x in ratios[name]),
          statistics.median(adj[name]), cpu, statistics.median(extra[name])))
EOF
if [ -n "$AGENT_STATS" ]; then
	echo "pano-agent, last round: $AGENT_STATS"
	echo "PCAP-over-TCP reader (pcap_loop), last round: $RD_LOG; its CPU: ${RD_CPU}s"
fi
echo "(veth_pkts counts every frame on the veth in both directions, ARP and ND included; the"
echo " captures keep port 53 only. drops: tcpdump's 'dropped by kernel'; the agent's ring-full"
echo " drops plus frames its PCAP-over-TCP client queue dropped. cpu_s: the capturing process only;"
echo " host_busy: how busy all CPUs were during the run, softirq included; host_us: busy CPU"
echo " microseconds of the whole host per veth frame; extra_us: that over the no-capture runs.)"

if [ -n "${BENCH_PERF_STAT:-}" ]; then
	echo
	echo "perf stat during the run (per captured packet; instructions n/a: no hardware counters here):"
	for m in tcpdump agent; do
		awk -v m="$m" -v n="${R_CAP[$m]}" '
			/instructions/ { gsub(",", "", $1); ins = $1 + 0 }
			/task-clock/ { gsub(",", "", $1); tc = $1 }
			END { if (n > 0) { ipp = ins > 0 ? sprintf("%8.0f", ins / n) : "     n/a"; printf "  %-8s %s instructions/pkt %8.1f ns task-clock/pkt\n", m, ipp, tc * 1e6 / n } }' \
			"$T_TMP/perfstat-$m.txt"
	done
fi

if [ -n "${FLOOR_ARGS:-}" ]; then
	echo
	echo "PCAP-over-TCP floor (build/tests/tcp_floor $FLOOR_ARGS: the agent's records gathered and"
	echo "sent over loopback TCP at its packet rate, no capture; CPU s per million records):"
	for i in 1 2 3; do "$PANO_BUILD/tests/tcp_floor" $FLOOR_ARGS; done | sed 's/^/  /'
fi

if [ -x "$PANO_BUILD/tests/bpf_bench" ]; then
	echo
	echo "BPF program cost (bpf_prog_test_run_opts, build/tests/bpf_bench):"
	"$PANO_BUILD/tests/bpf_bench" 2>&1 | sed 's/^/  /'
	echo "TCP head limit (bpf_bench --tcp-head: a 1400-byte segment on 443 whole, in a 16K head, beyond it):"
	"$PANO_BUILD/tests/bpf_bench" --tcp-head 2>&1 | sed 's/^/  /'
else
	echo "(no bpf_bench: tests/tools/bpf_bench.c is not there yet)"
fi
