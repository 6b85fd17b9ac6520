#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_demo_pipeline.sh - `make demo-pipeline` works: scripts/demo-pipeline.sh runs the whole
# chain (knot, dnsperf, agent, analyzer, Kafka, flowlogs-pipeline, Prometheus) for a few seconds
# on its own (DEMO_SECONDS), prints the dashboard's panels as a table with data in every one,
# draws the PNG chart, exits 0 and leaves nothing behind: no namespace, no process (the Kafka
# broker included), no work directory. (It skips install-deps and make: `make test` has built
# everything; flowlogs-pipeline is built on first use.)
. "$(dirname "$0")/../lib/lib.sh"

need_root demo_pipeline
need_cmd demo_pipeline knotd kdig dnsperf kcat prometheus socat gnuplot go java jq curl
for b in "$PANO_BUILD/pano-agent" "$PANO_BUILD/pano-analyzer"; do
	[ -x "$b" ] || { fail "demo_pipeline: $b is not built"; t_done; }
done

out=$T_TMP/demo.out
DEMO_SECONDS=${DEMO_TEST_SECONDS:-15} DEMO_BUILD=0 DEMO_QPS=40 DEMO_OUT=$T_TMP/report \
	"$PANO_ROOT/scripts/demo-pipeline.sh" >"$out" 2>"$T_TMP/demo.err" &
demo=$!
on_exit "kill -INT $demo; sleep 3; kill -KILL $demo"
wait "$demo"
rc=$?
check_eq demo_pipeline_exit_status "$rc" 0
[ "$rc" = 0 ] || log "stderr: $(tail -n 5 "$T_TMP/demo.err")"

# Every flowlogs-pipeline panel of the dashboard has a row with data in the table.
missing=""
while read -r title; do
	grep -F -- "$title" "$out" | grep -qv '(no data)' || missing+=" [$title]"
done < <(jq -r '.panels[] | select(any(.targets[]; .expr | contains("pano_flp_"))) | .title' \
	"$PANO_ROOT/deploy/grafana/pano-dns-dashboard.json")
check_eq demo_pipeline_table_panels "${missing:-none}" none
for rc in NOERROR NXDOMAIN SERVFAIL; do
	v=$(awk -v r=$rc '$0 ~ "Rcode mix" || seen { seen = 1 } seen && $(NF-1) == r { print $NF; exit }' "$out")
	check "demo_pipeline_rcode_$rc (${v:-none})" awk -v v="${v%/s}" 'BEGIN { exit !(v + 0 > 0) }'
done
pub=$(sed -n 's/^records delivered to Kafka: \([0-9]*\), *counted by flowlogs-pipeline: \([0-9]*\)$/\1 \2/p' "$out")
set -- $pub
if [ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$1" = "$2" ]; then
	pass "demo_pipeline_all_records_counted ($1)"
else
	fail "demo_pipeline_all_records_counted: '${pub}' ($(grep '^records delivered' "$out"))"
fi
png=$T_TMP/report/dashboard.png
if [ "$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
	[ "$(stat -c %s "$png")" -gt 10000 ]; then
	pass "demo_pipeline_chart ($(stat -c %s "$png") bytes)"
else
	fail "demo_pipeline_chart: $png is not a PNG chart"
fi
check_nothing_left demo_pipeline "$T_TMP/demo.err" "pp$demo"
t_done
