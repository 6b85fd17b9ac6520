#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one test runner behind `make test`. Runs every test program and script, each under a
# timeout, reads the result lines they print and ends with "N passed, N failed, N skipped".
#
# Protocol for a test (C or shell): print one line per check,
#   PASS <name>            FAIL <name>: <why>            SKIP <name>: <why>
# and exit non-zero if anything failed. A program that exits non-zero (or times out) without
# printing a FAIL line counts as one failure. Filter with: tests/run.sh PATTERN...
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
TIMEOUT=${TEST_TIMEOUT:-900}
export PANO_ROOT=$PWD PANO_BUILD=$PWD/$BUILD PANO_CORPUS=${PANO_CORPUS:-$PWD/../shared/corpus}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed_names=()

want() {	# want NAME: true when no filter is given or NAME matches one
	[ $# -eq 1 ] && [ ${#FILTERS[@]} -eq 0 ] && return 0
	local f
	for f in "${FILTERS[@]}"; do [[ $1 == *$f* ]] && return 0; done
	return 1
}
FILTERS=("$@")

run_one() {	# run_one NAME CMD...
	local name=$1; shift
	want "$name" || return 0
	local log=$LOGDIR/$name.log rc
	printf '== %s\n' "$name"
	timeout --kill-after=10 "$TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	local p f s
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
	grep -E '^(PASS|FAIL|SKIP) ' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && echo "   FAIL $name: timed out after ${TIMEOUT}s" ||
			echo "   FAIL $name: exit status $rc"
	fi
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		echo "   --- last lines of $log:"; tail -n 25 "$log" | sed 's/^/   | /'
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

# 1. C unit and BPF tests (built by make into build/tests/test_*).
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done

# 2. Fuzz corpora and regression inputs through the replay drivers (no libFuzzer needed),
#    then a short libFuzzer run of each harness unless this is the sanitizer build.
for r in "$BUILD"/tests/replay_*; do
	[ -x "$r" ] || continue
	n=${r##*/replay_}
	run_one "replay_$n" "$r" tests/fuzz/corpus/"$n"
done
if [ "$FUZZ_SECONDS" -gt 0 ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1 && want fuzz_; then
	if make -s BUILD="$BUILD" fuzz-build >"$LOGDIR/fuzz-build.log" 2>&1; then
		for f in "$BUILD"/fuzz/fuzz_*; do
			n=${f##*/fuzz_}
			mkdir -p "$BUILD/fuzz/corpus-$n"
			run_one "fuzz_$n" tests/lib/fuzz-run.sh "$f" "$FUZZ_SECONDS" "$BUILD/fuzz/corpus-$n" tests/fuzz/corpus/"$n"
		done
	else
		echo "   FAIL fuzz-build: see $LOGDIR/fuzz-build.log"; fail=$((fail + 1))
		tail -n 20 "$LOGDIR/fuzz-build.log" | sed 's/^/   | /'
	fi
fi

# 3. Shell tests: integration (namespaces, real servers), deploy checks, end to end.
#    The tests that use Kafka (they call kafka_shared from tests/lib/kafka.sh, or read
#    $PANO_KAFKA, the broker's bootstrap address) share one real broker (plaintext, SSL and
#    SASL listeners), started here once and stopped at the end, whatever happens; a test run
#    alone starts its own.
kafka_stop() { [ -z "${PANO_KAFKA_DIR:-}" ] || KAFKA_DIR=$PANO_KAFKA_DIR scripts/kafka.sh stop; }
for t in tests/*/test_*.sh; do
	[ -x "$t" ] && want "$(basename "$t" .sh)" && grep -q '^[^#]*\(kafka_shared\|PANO_KAFKA\)' "$t" || continue
	export PANO_KAFKA_DIR=$PANO_BUILD/kafka-tests
	KAFKA_DIR=$PANO_KAFKA_DIR scripts/kafka.sh clean
	trap kafka_stop EXIT
	trap 'exit 130' INT TERM
	t0=$(date +%s%N)
	if PANO_KAFKA=$(KAFKA_DIR=$PANO_KAFKA_DIR KAFKA_TLS=1 KAFKA_SASL=1 scripts/kafka.sh start 2>"$LOGDIR/kafka-broker.log"); then
		export PANO_KAFKA
		printf '== kafka broker %s (Kafka %s, up in %d ms)\n' "$PANO_KAFKA" \
			"$(scripts/kafka.sh version)" $((($(date +%s%N) - t0) / 1000000))
	else
		echo "== kafka broker did not start (the tests try on their own): $(tail -n 1 "$LOGDIR/kafka-broker.log")"
		unset PANO_KAFKA_DIR
	fi
	break
done
for t in tests/*/test_*.sh; do
	[ -x "$t" ] && run_one "$(basename "$t" .sh)" "$t"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
