#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-transport.sh [FRAMES]: frames per second and CPU per million frames from one pano-agent to
# one pano-analyzer, over the protobuf stream (--connect/--listen) and over PCAP-over-TCP
# (--pcap-listen/--pcap-connect), each in clear and with mutual TLS. `make bench-transport`.
#
# Test hosts from tests/lib/lib.sh (namespaces, 198.18.0.0/15); a Python sender in the client
# host sends FRAMES small UDP datagrams (DNS-sized) to port 9999 of the server host, in paced
# bursts so that the veth backlog does not drop them; the agent captures port 9999 on the
# client's bridge port. Port 9999 is not a DNS port for the analyzer, so it decodes L2-L4 and
# no L7 work hides the transport's cost. The rate is bounded by the sender: "fps" is frames
# decoded per second of sending, a floor for what the transport carries. PCAP-over-TLS is read
# by the analyzer's own client (--pcap-connect with --tls-*).
# The feed modes (feed-proto, feed-pcap) take the agent out: tests/tools/stream_feed sends the
# analyzer the same frames from memory, as a protobuf or a PCAP-over-TCP stream, paced, and only
# the analyzer's CPU counts.
# CPU is time on a CPU in ns, summed over every thread of the process (/proc/PID/task/*/schedstat,
# the scheduler's own count, not clock ticks: a tick of 10 ms is 10% of a run here); "frames" is
# what the analyzer decoded. The modes run BENCH_ROUNDS times (default 3), interleaved (one of
# each mode, then again), and the report gives each mode's median, then the ratios the targets
# are about: protobuf against PCAP (CPU per frame) and each TLS mode against its clear twin.
#
# Environment: BUILD (make's build directory, relative to the tree or absolute) or PANO_BUILD;
# BENCH_MODES (default "proto proto-tls pcap pcap-tls feed-proto feed-pcap"); BENCH_ROUNDS; BENCH_PERF=DIR records a perf profile
# (perf record -g) of each process while the frames are sent, into DIR/MODE-{agent,analyzer}.data
# (profiling costs CPU: the CPU figures of such a run are not comparable); BENCH_PERF_FREQ sets
# its sampling rate (default 4000 Hz).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILD:-build} in /*) _b=$BUILD ;; *) _b=$ROOT/${BUILD:-build} ;; esac
export PANO_BUILD=${PANO_BUILD:-$_b}
. "$ROOT/tests/lib/lib.sh"

FRAMES=${1:-200000}
MODES=${BENCH_MODES:-proto proto-tls pcap pcap-tls feed-proto feed-pcap}
B=$PANO_BUILD
A=$B/pano-analyzer
G=$B/pano-agent
need_root bench-transport
need_cmd bench-transport python3 openssl
if [ ! -x "$A" ] || [ ! -x "$G" ]; then
	echo "bench-transport: $B has no pano-agent/pano-analyzer (make BUILD=...)" >&2
	exit 1
fi
if [ "$(cat "$B/flavour" 2>/dev/null)" = san ]; then
	echo "bench-transport: $B holds a SAN=1 build, several times slower (make, then again)" >&2
	exit 1
fi
case " $MODES " in *" feed-"*)
	if [ ! -x "$B/tests/stream_feed" ]; then
		echo "bench-transport: the feed modes need $B/tests/stream_feed (make BUILD=... tests-build)" >&2
		exit 1
	fi ;;
esac
if [ -n "${BENCH_PERF:-}" ]; then
	need_cmd bench-transport perf
	mkdir -p "$BENCH_PERF"
fi
netns_up || { echo "bench-transport: could not build the test hosts" >&2; exit 1; }
ip -n "$NS_NODE" link set lo up
CERTS=$T_TMP/certs
"$PANO_ROOT/scripts/make-certs.sh" "$CERTS" >/dev/null
TLS=(--tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" --tls-ca "$CERTS/ca.crt")
TLSC=(--tls-cert "$CERTS/client.crt" --tls-key "$CERTS/client.key" --tls-ca "$CERTS/ca.crt")
ROUNDS=${BENCH_ROUNDS:-3}
RESULTS=$T_TMP/results.txt

cpu() {	# cpu PID: ns the process's threads have spent on a CPU so far, summed
	cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { printf "%d\n", t }'
}
# A frame on the wire: the 32-byte query below in UDP, IPv4 and Ethernet (74 bytes), plus 16 bytes
# of pcap record header (a protobuf Packet's own header is about as long).
FRAME_BYTES=90
send() {
	nsx "$NS_CLI" python3 - "$SRV4" "$FRAMES" <<'EOF'
import socket, sys
dst, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
import time
q = bytes.fromhex("abcd01000001000000000000") + b"\x05bench\x04pano\x04test\x00\x00\x01\x00\x01"
for i in range(n):
    s.sendto(q, (dst, 9999))
    if i % 200 == 199:
        time.sleep(0.001)
EOF
}
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	local i
	for i in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}

# perf_start LABEL: perf record on both processes (the analyzer alone in the feed modes) while
# the frames are sent.
PERF_PIDS=()
AG=
perf_start() {
	PERF_PIDS=()
	[ -n "${BENCH_PERF:-}" ] || return 0
	if [ -n "$AG" ]; then
		perf record -q -g -F "${BENCH_PERF_FREQ:-4000}" -p "$AG" -o "$BENCH_PERF/$1-agent.data" 2>/dev/null &
		PERF_PIDS+=($!)
	fi
	perf record -q -g -F "${BENCH_PERF_FREQ:-4000}" -p "$AN" -o "$BENCH_PERF/$1-analyzer.data" 2>/dev/null &
	PERF_PIDS+=($!)
	sleep 0.5
}
perf_stop() {
	local p
	for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${PERF_PIDS[@]}"; do wait "$p" 2>/dev/null; done
}

# measure LABEL: agent and analyzer are up (pids AG, AN); send, measure.
measure() {
	local label=$1 c0a c0n t0 t1 c1a c1n
	sleep 1
	c0a=$(cpu "$AG"); c0n=$(cpu "$AN")
	perf_start "$label"
	t0=$(date +%s.%N)
	send
	t1=$(date +%s.%N)
	sleep 2		# drain: batches (50 ms), queues, the analyzer's decoding
	perf_stop
	c1a=$(cpu "$AG"); c1n=$(cpu "$AN")
	stop_pid "$AG"
	stop_pid "$AN"
	result "$label" "$t0" "$t1" "$((c1a - c0a))" "$((c1n - c0n))"
}

# result LABEL T0 T1 AGENT_NS ANALYZER_NS: one run's line (frames from the analyzer's --stats),
# printed and kept for the report.
result() {
	local frames
	frames=$(awk '$1 == "frames" {print $2; exit}' "$T_TMP/an.err")
	python3 - "$1" "${frames:-0}" "$2" "$3" "$4" "$5" <<'EOF' | tee -a "$RESULTS"
import sys
label, frames, t0, t1, ca, cn = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:5]), int(sys.argv[5]), int(sys.argv[6])
wall = t1 - t0
per_m = lambda c: (c / 1e9) / (frames / 1e6) if frames else float("nan")
print(f"{label:12s} {frames:9d} frames {frames / wall if wall > 0 else 0:8.0f} fps   "
      f"agent {per_m(ca):.4f}   analyzer {per_m(cn):.4f} CPU s/Mframe")
EOF
}

# measure_feed LABEL: the analyzer alone (pid AN) takes FRAMES frames from stream_feed, which
# stream_feed's own command (FEED) sends from memory; only the analyzer's CPU counts.
measure_feed() {
	local label=$1 c0n c1n t0 t1
	sleep 0.5
	c0n=$(cpu "$AN")
	perf_start "$label"
	t0=$(date +%s.%N)
	"${FEED[@]}" >/dev/null || echo "bench-transport: stream_feed failed ($label)" >&2
	t1=$(date +%s.%N)
	sleep 1		# drain: what the analyzer has read but not yet decoded
	perf_stop
	c1n=$(cpu "$AN")
	stop_pid "$AN"
	result "$label" "$t0" "$t1" 0 "$((c1n - c0n))"
}

# gcm_speed: bytes per second AES-128-GCM (the suite PANO's TLS prefers) encrypts here, in
# 16 KiB pieces (full TLS records): the floor under any TLS transport's cost.
gcm_speed() {
	openssl speed -seconds 2 -bytes 16384 -evp aes-128-gcm 2>/dev/null |
		awk '/^AES-128-GCM/ { v = $2; sub("k", "", v); printf "%.0f\n", v * 1000 }'
}

# report: each mode's median over the rounds, then the ratios of the targets.
report() {
	python3 - "$RESULTS" "$ROUNDS" "$(gcm_speed)" "$FRAME_BYTES" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 10 and f[2] == "frames":
        runs.setdefault(f[0], []).append((int(f[1]), float(f[3]), float(f[6]), float(f[8])))
print(f"\nmedian of {sys.argv[2]} rounds (CPU s per million frames):")
med = {}
for m, r in runs.items():
    ag, an = statistics.median(x[2] for x in r), statistics.median(x[3] for x in r)
    med[m] = statistics.median(x[2] + x[3] for x in r)
    print(f"  {m:12s} agent {ag:.4f}  analyzer {an:.4f}  both {med[m]:.4f}   "
          f"frames {min(x[0] for x in r)}-{max(x[0] for x in r)}")
def ratio(a, b, what):
    if a in med and b in med and med[b] > 0:
        print(f"  {what}: {med[a] / med[b]:.3f}")
print("ratios (agent + analyzer CPU per frame):")
ratio("proto", "pcap", "protobuf / PCAP-over-TCP       (target <= 1)   ")
ratio("feed-proto", "feed-pcap", "analyzer alone, protobuf / PCAP (feed modes)  ")
ratio("proto-tls", "proto", "protobuf+TLS / protobuf        (target < 1.30)")
ratio("pcap-tls", "pcap", "PCAP-over-TLS / PCAP-over-TCP  (target < 1.30)")
speed, fb = float(sys.argv[3] or 0), int(sys.argv[4])
if speed > 0:
    floor = 2 * fb * 1e6 / speed  # encrypt at the agent, decrypt at the analyzer, per Mframe
    print(f"cipher alone: {fb} bytes a frame, AES-128-GCM at {speed / 1e9:.2f} GB/s (openssl speed), "
          f"both ends: {floor:.4f} CPU s per Mframe")
    for m in ("pcap", "proto"):
        if m in med:
            print(f"  = {floor / med[m]:.3f} of the clear {m} path: no TLS mode can go below "
                  f"{1 + floor / med[m]:.3f} here")
EOF
}

PORT=$(free_port)
echo "bench-transport: $FRAMES frames per run, $ROUNDS rounds ($B)"
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
	for mode in $MODES; do
		case $mode in
		proto)
			ns_start an "$A" --stats -o /dev/null --listen "127.0.0.1:$PORT"
			sleep 0.5
			ns_start ag "$G" -i "$IF_CLI" -p 9999 --connect "127.0.0.1:$PORT" ;;
		proto-tls)
			ns_start an "$A" --stats -o /dev/null --listen "127.0.0.1:$PORT" "${TLS[@]}"
			sleep 0.5
			ns_start ag "$G" -i "$IF_CLI" -p 9999 --connect "127.0.0.1:$PORT" "${TLSC[@]}" ;;
		pcap)
			ns_start ag "$G" -i "$IF_CLI" -p 9999 --pcap-listen "127.0.0.1:$PORT"
			sleep 0.5
			ns_start an "$A" --stats -o /dev/null --pcap-connect "127.0.0.1:$PORT" ;;
		pcap-tls)
			ns_start ag "$G" -i "$IF_CLI" -p 9999 --pcap-listen "127.0.0.1:$PORT" "${TLS[@]}"
			sleep 0.5
			ns_start an "$A" --stats -o /dev/null --pcap-connect "127.0.0.1:$PORT" "${TLSC[@]}" ;;
		feed-proto)
			AG=
			ns_start an "$A" --stats -o /dev/null --listen "127.0.0.1:$PORT"
			AN=$(cat "$T_TMP/an.pid")
			FEED=(nsx "$NS_NODE" "$B/tests/stream_feed" proto "127.0.0.1:$PORT" "$FRAMES")
			measure_feed "$mode"
			sleep 0.5
			continue ;;
		feed-pcap)
			# The analyzer retries its connection (backoff from 100 ms) until stream_feed
			# listens: nothing is decoded before the CPU count starts.
			AG=
			ns_start an "$A" --stats -o /dev/null --pcap-connect "127.0.0.1:$PORT"
			AN=$(cat "$T_TMP/an.pid")
			FEED=(nsx "$NS_NODE" "$B/tests/stream_feed" pcap "$PORT" "$FRAMES")
			measure_feed "$mode"
			sleep 0.5
			continue ;;
		*)
			echo "bench-transport: unknown mode $mode" >&2
			exit 2 ;;
		esac
		AG=$(cat "$T_TMP/ag.pid") AN=$(cat "$T_TMP/an.pid")
		measure "$mode"
		sleep 0.5
	done
done
report
