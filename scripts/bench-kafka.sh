#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-kafka.sh - how many records per second go from PANO to Kafka: librdkafka's mock cluster
# on a loopback port (tests/tools/kafka_mock: PANO's own cost, the broker's left out), or
# with BENCH_KAFKA_BROKER=real a real Apache Kafka broker (scripts/kafka.sh, 8 partitions per
# topic), which shares the same CPUs. Not a test: it prints what it measured.
#  1. The Kafka sink alone: tests/tools/kafka_publish pushes synthetic dns.log-shaped JSON
#     records through sinks_emit() exactly as the analyzer does (BENCH_RECORDS, default 1e6).
#  2. The whole analyzer: a generated capture of BENCH_PAIRS (default 500000) DNS query/reply
#     pairs from 1000 clients, `pano-analyzer --read CAP --kafka-brokers ...`, timed from start
#     to exit (flush included), next to the same run writing JSON to /dev/null.
# Target: at least 300,000 records per second delivered. A rate counts delivered records only,
# and a run that dropped records (queue full, failed, undelivered at exit) does not meet the
# target whatever its rate: every line says how many were dropped. Environment: BUILD (default
# build), BENCH_RECORDS, BENCH_PAIRS, KAFKA_X (extra -X key=value for both, space separated),
# BENCH_KAFKA_BROKER (mock or real).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RECORDS=${BENCH_RECORDS:-1000000}
PAIRS=${BENCH_PAIRS:-500000}
A=$BUILD/pano-analyzer MOCK=$BUILD/tests/kafka_mock PUB=$BUILD/tests/kafka_publish
TARGET=300000

make -s --no-print-directory BUILD="$BUILD" "$A" "$MOCK" "$PUB" || exit 1
TMP=$(mktemp -d /tmp/pano-bench-kafka.XXXXXX)
MOCK_PID=
cleanup() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	KAFKA_DIR=$TMP/kafka scripts/kafka.sh stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

xargs_x=()
for kv in ${KAFKA_X:-}; do xargs_x+=(-X "$kv"); done
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
# verdict RATE DROPPED
verdict() {
	if [ "$2" -gt 0 ]; then echo "does NOT meet the target: $2 records dropped"
	elif [ "$1" -ge "$TARGET" ]; then echo "meets the ${TARGET}/s target"
	else echo "BELOW the ${TARGET}/s target"; fi
}
# field NAME LINE: the value after NAME in a "name value name value" line
field() { awk -v n="$1" '{for (i = 1; i < NF; i++) if ($i == n) print $(i + 1)}' <<<"$2"; }

if [ "${BENCH_KAFKA_BROKER:-mock}" != real ]; then
	mkfifo "$TMP/mock.in"
	"$MOCK" -b 1 -p 8 -t pano-dns -t bench-sink -t bench-analyzer <"$TMP/mock.in" \
		>"$TMP/mock.out" 2>"$TMP/mock.err" &
	MOCK_PID=$!
	exec 3>"$TMP/mock.in"
	for _ in $(seq 100); do grep -q '^BOOTSTRAP ' "$TMP/mock.out" && break; sleep 0.1; done
	BOOT=$(awk '/^BOOTSTRAP /{print $2; exit}' "$TMP/mock.out")
	[ -n "$BOOT" ] || { echo "bench-kafka: the mock cluster did not start" >&2; exit 1; }
	echo "mock cluster: 1 broker, 8 partitions, $BOOT; $(nproc) CPUs; load average" \
		"$(cut -d' ' -f1-3 /proc/loadavg) (the mock broker shares these CPUs)"
else
	BOOT=$(KAFKA_DIR=$TMP/kafka KAFKA_PARTITIONS=8 scripts/kafka.sh start) || exit 1
	echo "Apache Kafka $(scripts/kafka.sh version): 1 broker (heap 512 MB), 8 partitions," \
		"$BOOT; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) (the broker" \
		"shares these CPUs)"
fi

# ---- 1. the sink alone --------------------------------------------------------------------
line=$("$PUB" -b "$BOOT" -t bench-sink -n "$RECORDS" "${xargs_x[@]}")
echo "sink alone (kafka_publish, $RECORDS synthetic records): $line"
r1=$(field rate "$line") d1=$(field delivered "$line") x1=$(field dropped "$line")
echo "  => ${r1:-0} delivered records/s (${d1:-0} of $RECORDS delivered, ${x1:-0} dropped)," \
	"$(verdict "${r1:-0}" "${x1:-0}")"

# ---- 2. the analyzer ------------------------------------------------------------------------
echo "generating a capture of $PAIRS query/reply pairs..."
python3 - "$TMP/bench.pcap" "$PAIRS" <<'PY'
import struct, sys
path, pairs = sys.argv[1], int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack('!10H', b))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def frame(src, dst, sport, dport, payload, ipid):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), ipid, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip + udp
srv = bytes([198, 18, 0, 2])
out = open(path, 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = 1700000000 * 1000000
for i in range(pairs):
    c = i % 1000
    cli = bytes([10, 0, c >> 8, c & 255])
    sport = 1024 + (i * 7) % 60000
    tid = i & 0xffff
    labels = (b'host%d' % (i % 50000), b'example', b'com')
    qname = b''.join(bytes([len(l)]) + l for l in labels) + b'\0'
    q = struct.pack('!HHHHHH', tid, 0x0100, 1, 0, 0, 0) + qname + b'\0\x01\0\x01'
    r = (struct.pack('!HHHHHH', tid, 0x8180, 1, 1, 0, 0) + qname + b'\0\x01\0\x01' +
         b'\xc0\x0c\0\x01\0\x01' + struct.pack('!IH', 300, 4) + bytes([192, 0, 2, i & 255]))
    for f, dt in ((frame(cli, srv, sport, 53, q, i & 0xffff), 0),
                  (frame(srv, cli, 53, sport, r, i & 0xffff), 150)):
        ts = t + dt
        out.write(struct.pack('<IIII', ts // 1000000, ts % 1000000, len(f), len(f)) + f)
    t += 20
out.close()
PY
t0=$(now)
n=$(/usr/bin/time -f '%U %S %M' -o "$TMP/time1" "$A" --read "$TMP/bench.pcap" | wc -l)
t1=$(now)
t_null=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "analyzer --read -> stdout | wc -l: $n records in ${t_null}s" \
	"($(rate "$n" "$t_null") records/s);" \
	"$(awk '{printf "CPU %.2fs user + %.2fs sys, peak RSS %d KB", $1, $2, $3}' "$TMP/time1")"
t0=$(now)
/usr/bin/time -f '%U %S %M' -o "$TMP/time2" "$A" --read "$TMP/bench.pcap" \
	--kafka-brokers "$BOOT" --kafka-topic bench-analyzer --stats "${xargs_x[@]}" \
	>/dev/null 2>"$TMP/analyzer.err"
rc=$?
t1=$(now)
t_k=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
# "sink kafka: records in N, out D, dropped X (reason n, ...), pending P"
acct=$(grep '^sink kafka:' "$TMP/analyzer.err")
delivered=$(sed -n 's/.* out \([0-9]*\),.*/\1/p' <<<"$acct")
dropped=$(sed -n 's/.* dropped \([0-9]*\).*/\1/p' <<<"$acct")
r2=$(rate "${delivered:-0}" "$t_k")
echo "analyzer --read -> Kafka (exit $rc): ${acct#sink kafka: }, in ${t_k}s (flush included);" \
	"$(awk '{printf "CPU %.2fs user + %.2fs sys, peak RSS %d KB", $1, $2, $3}' "$TMP/time2")"
echo "  => $r2 delivered records/s (${dropped:-0} dropped), $(verdict "$r2" "${dropped:-0}")"
