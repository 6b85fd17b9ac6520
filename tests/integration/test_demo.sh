#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_demo.sh - `make demo` works: scripts/demo.sh runs for a few seconds on its own
# (DEMO_SECONDS), streams DNS records, prints its summary, exits 0 and leaves nothing behind:
# no namespace, no process, no work directory. (It skips install-deps and make: `make test`
# has built everything already.)
. "$(dirname "$0")/../lib/lib.sh"

need_root demo
need_cmd demo knotd kdig dnsperf jq
for b in "$PANO_BUILD/pano-agent" "$PANO_BUILD/pano-analyzer"; do
	[ -x "$b" ] || { fail "demo: $b is not built"; t_done; }
done

out=$T_TMP/demo.out
DEMO_SECONDS=${DEMO_TEST_SECONDS:-10} DEMO_BUILD=0 DEMO_QPS=20 \
	"$PANO_ROOT/scripts/demo.sh" >"$out" 2>"$T_TMP/demo.err" &
demo=$!
on_exit "kill -INT $demo; sleep 2; kill -KILL $demo"
wait "$demo"
rc=$?
check_eq demo_exit_status "$rc" 0

records=$(grep -c '^{' "$out")
if [ "$records" -gt 0 ] && grep '^{' "$out" | jq -e 'has("query") and has("qtype")' >/dev/null; then
	pass "demo_records_streamed ($records lines)"
else
	fail "demo_records_streamed: $records record lines; stderr: $(tail -3 "$T_TMP/demo.err" | tr '\n' ' ')"
fi
n=$(sed -n 's/^DNS transactions logged: \([0-9]*\).*/\1/p' "$out")
if [ -n "$n" ] && [ "$n" -eq "$records" ]; then
	pass "demo_summary ($n transactions)"
else
	fail "demo_summary: summary says '${n}', $records lines were shown"
fi
grep -q 'pano-analyzer statistics' "$out" && pass demo_analyzer_stats ||
	fail "demo_analyzer_stats: no analyzer statistics in the summary"

check_nothing_left demo "$T_TMP/demo.err" "pd$demo"
t_done
