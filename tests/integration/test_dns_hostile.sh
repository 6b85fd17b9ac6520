#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_dns_hostile.sh: hostile DNS traffic shapes that are valid packets: bounded state and
# bounded work, every early decision counted.
#  - 30,000 unanswered queries with the same id on one 5-tuple: each is logged exactly once,
#    the per-connection cap on waiting transactions logs the oldest early and counts it.
. "$(dirname "$0")/../lib/lib.sh"
need_cmd dns_hostile python3
AN=$PANO_BUILD/pano-analyzer
N=30000
python3 "$PANO_ROOT/tests/lib/gen_same_flow.py" "$T_TMP/same.pcap" $N
"$AN" --read "$T_TMP/same.pcap" --stats -o "$T_TMP/recs.json" 2>"$T_TMP/stats" ||
	fail "same_flow_runs: analyzer exit $?"
check_eq "same_flow_every_query_logged" "$(wc -l <"$T_TMP/recs.json")" "$N"
check_eq "same_flow_all_unanswered" "$(jq -c 'select(has("rcode"))' "$T_TMP/recs.json" | wc -l)" 0
capped=$(awk '$1 == "dns_conn_pending_cap" {print $2}' "$T_TMP/stats")
if [ "${capped:-0}" -gt 0 ]; then
	pass "same_flow_pending_capped: $capped logged early"
else
	fail "same_flow_pending_capped: dns_conn_pending_cap not counted ($(grep -c . "$T_TMP/stats") stats lines)"
fi
t_done
