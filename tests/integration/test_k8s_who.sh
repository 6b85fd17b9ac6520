#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_k8s_who.sh - issue #19 on the namespace Kubernetes node of k8snode.sh: every DNS
# transaction once, with the pod, container and process on each side that lives on the node.
#
# pano-agent --iface all in the node namespace (through nsenter: it must see the cgroup2 mount)
# streams to pano-analyzer --listen (protobuf, which carries each frame's sender) and writes a
# pcapng file (the sender in each packet's comment). Client pods of three kubelet layouts
# (systemd + containerd, cgroupfs + containerd, systemd + CRI-O with two containers) and a pod
# created after the agent started ask the ClusterIP (nftables DNAT to the unbound resolver pod)
# over UDP, over TCP, and for a TXT answer that arrives fragmented; the resolver asks the
# upstream knot through the node's SNAT. Exact outcomes:
#   - one record per client transaction, with orig_k8s_namespace/_pod/_container/_pid/_comm of
#     the dig process that asked, resp_* of the resolver pod's unbound, service_h the ClusterIP
#     and id_resp_h the resolver pod;
#   - one record per upstream query, its client the resolver pod (the SNAT's two views joined),
#     its server knotd, a host process (pid and name, no pod);
#   - the pcapng file read back gives the same records;
#   - the copies the node's hooks saw are counted, not emitted.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/k8snode.sh"

AGENT=$PANO_BUILD/pano-agent ANALYZER=$PANO_BUILD/pano-analyzer
need_root k8s_who
need_cmd k8s_who nft unbound knotd dig conntrack nsenter flock jq
[ -n "$(k8s_cgroup2_mount)" ] || { skip "k8s_who: no cgroup2 mount"; exit 0; }
[ -x "$AGENT" ] && [ -x "$ANALYZER" ] || { fail "k8s_who: build the binaries first"; t_done; }

k8s_node_up || { fail "k8s_who_node: the node did not come up"; t_done; }
RES=$K8S_RESOLVER
UNBOUND_PID=$(cat "$T_TMP/k8s-unbound.pid")

# The analyzer in the node namespace, the agent streaming to it and writing pcapng.
PORT=$(ip netns exec "$K8S_NODE_NS" /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ip netns exec "$K8S_NODE_NS" "$ANALYZER" --listen "127.0.0.1:$PORT" -o "$T_TMP/stream.json" \
	--dns-timeout 2 2>"$T_TMP/analyzer.err" &
AN=$!
on_exit "kill -9 $AN"
listening() { ip netns exec "$K8S_NODE_NS" ss -Htln "sport = :$PORT" | grep -q .; }
wait_for 5 listening ||
	{ fail "k8s_who_analyzer: $(cat "$T_TMP/analyzer.err")"; t_done; }
rm -f "$T_TMP/agent.pid"
sh -c 'echo $$ >"$0"; n=$1; shift; exec nsenter --net="$n" -- "$@"' "$T_TMP/agent.pid" \
	"/run/netns/$K8S_NODE_NS" \
	"$AGENT" -v --iface all --connect "127.0.0.1:$PORT" --node k8s-test-node --k8s-root "$K8S_ROOT" \
	--write "$T_TMP/node.pcapng" 2>"$T_TMP/agent.err" &
wait_for 5 test -s "$T_TMP/agent.pid"
AG=$(cat "$T_TMP/agent.pid")
on_exit "kill -9 $AG"
attached() { grep -q "attached to ${K8S_POD_VETH[$1]} " "$T_TMP/agent.err"; }
wait_for 10 attached "$RES" || { fail "k8s_who_attached: $(tail -3 "$T_TMP/agent.err")"; t_done; }
pass k8s_who_attached

# A pod created after the agent started: its veth is attached and its cgroup named.
k8s_pod_add client-d team-d systemd-docker besteffort web ||
	{ fail "k8s_who_pod_added: k8s_pod_add failed"; t_done; }
check k8s_who_late_pod_attached wait_for 10 attached client-d
# A hostNetwork pod: its queries to the ClusterIP leave the node's own stack DNATed and
# masqueraded, and its answers come back half undone on the bridge (k8snode.sh).
K8S_POD_HOSTNET=1 k8s_pod_add node-exporter monitoring systemd-containerd burstable main ||
	{ fail "k8s_who_hostnet_pod: k8s_pod_add failed"; t_done; }

# ask POD CONTAINER TAG DIG-OPTIONS NAME...: one dig process asks every NAME; its pid is kept.
declare -A PID_OF=() NAMES_OF=()
ask() {
	local pod=$1 c=$2 tag=$3; shift 3
	local opts=$1; shift
	k8s_exec_bg "dig-$tag" "$pod" "$c" dig +tries=1 +timeout=3 $opts @"$K8S_CLUSTER_IP4" "$@"
	PID_OF[$tag]=$(cat "$T_TMP/dig-$tag.pid")
	NAMES_OF[$tag]="$*"
	wait_for 20 sh -c "! kill -0 ${PID_OF[$tag]} 2>/dev/null"
}
# names unique to this run, NXDOMAIN from the upstream: each makes one upstream query
N=3
names() { local i; for i in $(seq "$N"); do echo "$1$i-$$.nx.pano.test"; done; }
ask client-a app a-udp "" $(names au)
ask client-a app a-tcp +tcp $(names at)
ask client-a app a-big +bufsize=4096 big.pano.test TXT
ask client-b app b-udp "" $(names bu)
ask client-c sidecar c-udp "" $(names cu)
ask client-c app c-tcp +tcp $(names ct)
ask client-d web d-udp "" $(names du)
ask node-exporter main h-udp "" $(names hu)
sleep 3 # the last records: the analyzer's dns timeout is 2 s of packet time
kill -TERM "$AG"
wait "$AG" 2>/dev/null
check_eq k8s_who_agent_exit "$?" 0
sleep 0.5
kill -TERM "$AN"
wait "$AN" 2>/dev/null
log "agent: $(grep 'stats:' "$T_TMP/agent.err")"

# ---- the client records ------------------------------------------------------------------
S=$T_TMP/stream.json
# client_check FILE TAG POD NAMESPACE CONTAINER PROTO: the records of one dig process
client_check() {
	local f=$1 tag=$2 pod=$3 ns=$4 c=$5 proto=$6 name got want=0 bad
	for name in ${NAMES_OF[$tag]}; do
		[ "$name" = TXT ] && continue
		want=$((want + 1))
	done
	got=$(jq -c "select(.orig_k8s_pod == \"$pod\" and .orig_pid == ${PID_OF[$tag]})" "$f" | wc -l)
	check_eq "k8s_who_${tag}_records$7" "$got" "$want"
	bad=$(jq -c "select(.orig_k8s_pod == \"$pod\" and .orig_pid == ${PID_OF[$tag]}) |
		select(.orig_k8s_namespace != \"$ns\" or .orig_container != \"$c\" or
		.orig_comm != \"dig\" or .proto != \"$proto\" or
		.resp_k8s_namespace != \"kube-system\" or .resp_k8s_pod != \"$RES\" or
		.resp_container != \"coredns\" or .resp_pid != $UNBOUND_PID or
		.resp_comm != \"unbound\" or .service_h != \"$K8S_CLUSTER_IP4\" or
		.id_resp_h != \"$K8S_RESOLVER4\" or .rcode_name == null)" "$f" | head -3)
	check_eq "k8s_who_${tag}_fields$7" "$bad" ""
}
records_check() {	# records_check FILE SUFFIX
	local f=$1 sfx=$2
	client_check "$f" a-udp client-a default app udp "$sfx"
	client_check "$f" a-tcp client-a default app tcp "$sfx"
	client_check "$f" a-big client-a default app udp "$sfx"
	client_check "$f" b-udp client-b default app udp "$sfx"
	client_check "$f" c-udp client-c batch sidecar udp "$sfx"
	client_check "$f" c-tcp client-c batch app tcp "$sfx"
	client_check "$f" d-udp client-d team-d web udp "$sfx"
	# the hostNetwork pod: each query once, its process named, no lone reply from the copy
	# of the answer that the NAT undid in part
	check_eq "k8s_who_hostnet_records$sfx" "$(jq -c "select(.query | test(\"^hu[0-9]+-$$\\\\.\")) |
		select(.orig_pid == ${PID_OF[h-udp]} and .orig_comm == \"dig\" and
		.orig_k8s_pod == \"node-exporter\" and .rcode_name == \"NXDOMAIN\")" "$f" | wc -l) $(
		jq -c "select(.query | test(\"^hu[0-9]+-$$\\\\.\")) | select(.orig_k8s_pod != \"$RES\")" \
		"$f" | wc -l)" "$N $N"
	check_eq "k8s_who_no_lone_reply$sfx" "$(jq -c 'select(.query == null)' "$f" | head -2)" ""
	# the fragmented answer: reassembled, answered, attributed
	check_eq "k8s_who_fragmented$sfx" "$(jq -r "select(.orig_pid == ${PID_OF[a-big]} and
		.qtype_name == \"TXT\") | (.answers | length > 0)" "$f")" true
	# every record of our names once: no copy emitted
	check_eq "k8s_who_once$sfx" "$(jq -r "select(.query | test(\"-$$\\\\.nx\\\\.pano\\\\.test$\")) |
		[.trans_id, .query, .id_orig_h] | @tsv" "$f" | sort | uniq -d | wc -l)" 0
	# ---- the resolver's upstream queries: its pod as client, knotd (a host process) as server
	local up bad
	# every name asked upstream (unbound may ask a name twice: retries, v4 and v6)
	up=$(jq -r "select(.query | test(\"-$$\\\\.nx\\\\.pano\\\\.test$\")) |
		select(.orig_k8s_pod == \"$RES\") | .query" "$f" | sort -u | wc -l)
	check_eq "k8s_who_upstream_records$sfx" "$up" "$((7 * N))"
	# every name was answered upstream at least once; a retry the capture saw no reply to (under
	# load unbound may ask again, or the other address family, and move on) has no server side
	up=$(jq -r "select(.query | test(\"-$$\\\\.nx\\\\.pano\\\\.test$\")) |
		select(.orig_k8s_pod == \"$RES\" and .rcode != null) | .query" "$f" | sort -u | wc -l)
	check_eq "k8s_who_upstream_answered$sfx" "$up" "$((7 * N))"
	bad=$(jq -c "select(.query | test(\"-$$\\\\.nx\\\\.pano\\\\.test$\")) |
		select(.orig_k8s_pod == \"$RES\") |
		select(.orig_pid != $UNBOUND_PID or .orig_comm != \"unbound\" or
		(.id_orig_h != \"$K8S_RESOLVER4\" and .id_orig_h != \"$K8S_RESOLVER6\") or
		(.id_resp_h != \"$K8S_UPSTREAM4\" and .id_resp_h != \"$K8S_UPSTREAM6\") or
		(.rcode != null and .resp_comm != \"knotd\") or
		(.rcode == null and .resp_comm != null) or
		.resp_k8s_pod != null or .service_h != null)" "$f" | head -3)
	check_eq "k8s_who_upstream_fields$sfx" "$bad" ""
}
records_check "$S" ""

# ---- the same from the pcapng file ---------------------------------------------------------
"$ANALYZER" --read "$T_TMP/node.pcapng" --dns-timeout 2 >"$T_TMP/file.json" 2>"$T_TMP/read.err"
check_eq k8s_who_pcapng_read "$?" 0
records_check "$T_TMP/file.json" _pcapng

# ---- the copies: counted, not emitted -----------------------------------------------------
stats=$(grep 'stats:' "$T_TMP/agent.err")
m=$(echo "$stats" | sed -n 's/.*matched \([0-9]*\),.*/\1/p')
c=$(echo "$stats" | sed -n 's/.*captured \([0-9]*\),.*/\1/p')
d=$(echo "$stats" | sed -n 's/.*dedup copies \([0-9]*\),.*/\1/p')
check k8s_who_copies_counted test "${d:-0}" -gt 0
check_eq k8s_who_copies_add_up "$((${c:-0} + ${d:-0}))" "${m:-none}"
t_done
