#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_k8snode_agent_dup.sh - issue #19 on the namespace Kubernetes node of k8snode.sh:
# `pano-agent --iface all --write X.pcap` in the node namespace, dig queries from a client pod to
# the ClusterIP (UDP and TCP over IPv4, UDP over IPv6, each name new so that the resolver pod
# asks the upstream once; the node's neighbour entry for the resolver alternately REACHABLE and
# STALE, which changes how many hooks see a query), then `pano-analyzer --read X.pcap`. A node
# must give one record per DNS transaction: the client's, with the resolver pod as the server
# and the ClusterIP in service_h, and the resolver's own upstream query; the agent counts the
# copies it drops.
#
# Issue #19: before the agent dropped the copies of a packet seen at several hooks and the
# analyzer joined the two sides of the DNAT (main at 5b37d0a), this gave 52 records for the 10
# client transactions and their 10 upstream queries, 2 or 3 records each, and no service_h.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/k8snode.sh"

AGENT=$PANO_BUILD/pano-agent ANALYZER=$PANO_BUILD/pano-analyzer
need_root k8snode_agent_dup
need_cmd k8snode_agent_dup nft unbound knotd dig conntrack nsenter flock jq
[ -n "$(k8s_cgroup2_mount)" ] || { skip "k8snode_agent_dup: no cgroup2 mount"; exit 0; }
[ -x "$AGENT" ] && [ -x "$ANALYZER" ] || { fail "k8snode_agent_dup: build the binaries first"; t_done; }

k8s_node_up || { fail "k8snode_agent_dup_node: the node did not come up"; t_done; }
POD=client-a A4=${K8S_POD_IP4[client-a]} A6=${K8S_POD_IP6[client-a]}
N4=5 NT=3 N6=2
N=$((N4 + NT + N6))

# The agent through nsenter (not ip netns exec), so it sees the host's cgroup2 mount.
rm -f "$T_TMP/agent.pid"
sh -c 'echo $$ >"$0"; exec nsenter --net="$1" "$2" -v --iface all --write "$3"' "$T_TMP/agent.pid" \
	"/run/netns/$K8S_NODE_NS" "$AGENT" "$T_TMP/node.pcap" 2>"$T_TMP/agent.err" &
wait_for 5 test -s "$T_TMP/agent.pid"
AG=$(cat "$T_TMP/agent.pid")
on_exit "kill -9 $AG"
IFS_WANT=("$K8S_BRIDGE" "$K8S_UPLINK")
for p in "${K8S_PODS[@]}"; do IFS_WANT+=("${K8S_POD_VETH[$p]}"); done
attached_all() {
	local i
	for i in "${IFS_WANT[@]}"; do grep -q "attached to $i " "$T_TMP/agent.err" || return 1; done
}
if ! wait_for 10 attached_all; then
	fail "k8snode_agent_dup_attached: $(tail -3 "$T_TMP/agent.err")"
	t_done
fi
pass k8snode_agent_dup_attached

# ask NAME PROTO-OPTS SERVER: one query, answered or not (the next starts after it). Every
# other query goes with the node's neighbour entry for the resolver pod REACHABLE, the others
# with it STALE: the node's hooks then see the query two or three times (k8snode.sh, Copies).
answered=0 nq=0
ask() {
	k8s_neigh "$K8S_RESOLVER" "$([ $((nq % 2)) = 0 ] && echo reachable || echo stale)"
	nq=$((nq + 1))
	k8s_exec "$POD" app dig +tries=1 +timeout=2 $2 @"$3" "$1" A | grep -q 'status: NXDOMAIN' &&
		answered=$((answered + 1))
}
for i in $(seq "$N4"); do ask "u$i-$$.nx.pano.test" "" "$K8S_CLUSTER_IP4"; done
for i in $(seq "$NT"); do ask "t$i-$$.nx.pano.test" +tcp "$K8S_CLUSTER_IP4"; done
for i in $(seq "$N6"); do ask "s$i-$$.nx.pano.test" "" "$K8S_CLUSTER_IP6"; done
check_eq k8snode_agent_dup_answered "$answered" "$N"
sleep 0.5
kill -TERM "$AG"; wait "$AG" 2>/dev/null
check_eq k8snode_agent_dup_agent_exit "$?" 0
stats=$(grep 'stats:' "$T_TMP/agent.err")
log "agent: $stats"
# Copies are counted, not emitted: every matched frame is either captured or a counted copy.
m=$(echo "$stats" | sed -n 's/.*matched \([0-9]*\),.*/\1/p')
c=$(echo "$stats" | sed -n 's/.*captured \([0-9]*\),.*/\1/p')
d=$(echo "$stats" | sed -n 's/.*dedup copies \([0-9]*\),.*/\1/p')
check k8snode_agent_dup_copies_counted test "${d:-0}" -ge "$N"
check_eq k8snode_agent_dup_copies_add_up "$((${c:-0} + ${d:-0}))" "${m:-none}"

"$ANALYZER" --read "$T_TMP/node.pcap" >"$T_TMP/records.json" 2>"$T_TMP/analyzer.err"
check_eq k8snode_agent_dup_analyzer_exit "$?" 0
# Only this test's names (the readiness probe of k8s_node_up asked for pano.test SOA).
jq -c "select(.query | test(\"-$$\\\\.nx\\\\.pano\\\\.test\$\"))" "$T_TMP/records.json" >"$T_TMP/ours.json"
jq -c "select(.id_orig_h == \"$A4\" or .id_orig_h == \"$A6\")" "$T_TMP/ours.json" >"$T_TMP/client.json"
jq -c "select(.id_orig_h != \"$A4\" and .id_orig_h != \"$A6\")" "$T_TMP/ours.json" >"$T_TMP/upstream.json"

# What comes out, for the log: per transaction (trans_id and name), its records' addresses.
log "records for our $N client transactions: $(wc -l <"$T_TMP/ours.json") in all," \
	"$(wc -l <"$T_TMP/client.json") from the client pod, $(wc -l <"$T_TMP/upstream.json") upstream"
jq -r '[.trans_id, .query, .proto, .uid, .id_orig_h, .id_resp_h, (.service_h // "-"),
	(.rcode_name // "unanswered")] | @tsv' "$T_TMP/ours.json" | sort -k2,2 -k1,1n | sed 's/^/# /' >&2

# Every transaction is seen at all.
seen=$(jq -r .query "$T_TMP/client.json" | sort -u | wc -l)
check_eq k8snode_agent_dup_all_seen "$seen" "$N"
check k8snode_agent_dup_upstream_seen test "$(jq -r .query "$T_TMP/upstream.json" | sort -u | wc -l)" -eq "$N"

# ---- once each (issue #19) ------------------------------------------------------------------
# One record per client transaction, the ClusterIP in service_h, the resolver pod as server.
check_eq k8snode_agent_dup_client_records "$(wc -l <"$T_TMP/client.json")" "$N"
check_eq k8snode_agent_dup_client_answered "$(jq -r 'select(.rcode_name == "NXDOMAIN") | .query' \
	"$T_TMP/client.json" | sort -u | wc -l) $(jq -r 'select(.rcode_name == null) | .query' \
	"$T_TMP/client.json" | wc -l)" "$N 0"
check_eq k8snode_agent_dup_service_h "$(jq -r "select(.service_h == \"$K8S_CLUSTER_IP4\" or
	.service_h == \"$K8S_CLUSTER_IP6\") | .query" "$T_TMP/client.json" | sort -u | wc -l)" "$N"
check_eq k8snode_agent_dup_resp_backend "$(jq -r "select(.id_resp_h == \"$K8S_RESOLVER4\" or
	.id_resp_h == \"$K8S_RESOLVER6\") | .query" "$T_TMP/client.json" | wc -l)" "$N"
# One record per upstream transaction (the resolver's own query; its trans_id is its own).
check_eq k8snode_agent_dup_upstream_records "$(wc -l <"$T_TMP/upstream.json")" \
	"$(jq -r '[.trans_id, .query] | @tsv' "$T_TMP/upstream.json" | sort -u | wc -l)"
# No transaction (trans_id, name, transport) twice, anywhere.
check_eq k8snode_agent_dup_max_copies "$(jq -r '[.trans_id, .query, .proto] | @tsv' \
	"$T_TMP/ours.json" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')" 1

t_done
