#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fuzz-run.sh BINARY SECONDS CORPUS_DIR [SEED_DIR...]: a short libFuzzer run as one test.
set -u
bin=$1 secs=$2; shift 2
name=$(basename "$bin")
dirs=()
for d in "$@"; do [ -d "$d" ] && dirs+=("$d"); done
if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	-artifact_prefix="$(dirname "$bin")/" "${dirs[@]}" 2>fuzz.err.$$; then
	echo "PASS $name: $(grep -o 'Done [0-9]* runs' fuzz.err.$$ | head -1)"
	rm -f fuzz.err.$$
else
	tail -n 40 fuzz.err.$$
	echo "FAIL $name: libFuzzer found a crash (artifact in $(dirname "$bin"))"
	rm -f fuzz.err.$$
	exit 1
fi
