#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_k8snode.sh - the Kubernetes node of tests/lib/k8snode.sh works as a node does: every
# client pod resolves through the ClusterIP over UDP and TCP, IPv4 and IPv6, with NOERROR,
# NXDOMAIN and SERVFAIL coming from the upstream knot through the resolver pod (DNAT to the
# pod, SNAT on the uplink, both seen in conntrack); a 3.5 kB answer arrives in IP fragments;
# processes and their sockets sit in the kubelet-style cgroups; the kubelet log tree matches;
# pods come and go after start; and nothing is left behind, after k8s_node_down and after a
# script that exits on a failure. No PANO binary is involved.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/k8snode.sh"

[ "$(id -u)" -eq 0 ] || { skip "k8snode: needs root"; exit 0; }
need_cmd k8snode nft unbound knotd dig kdig conntrack tcpdump nsenter flock ss
[ -n "$(k8s_cgroup2_mount)" ] || { skip "k8snode: no cgroup2 mount"; exit 0; }

k8s_node_up || { fail "k8snode_up: the node did not come up"; t_done; }
pass k8snode_up
k8s_pods_table >"$T_TMP/pods.txt"
sed 's/^/# /' "$T_TMP/pods.txt" >&2
UPS=$K8S_UPSTREAM_NS

# ---- pods and namespaces -------------------------------------------------------------------
check_eq k8snode_pods "${#K8S_PODS[@]}" 4
check_eq k8snode_kube_namespaces "$(for p in "${K8S_PODS[@]}"; do echo "${K8S_POD_NS[$p]}"; done |
	sort -u | tr '\n' ' ')" "batch default kube-system "
check k8snode_upstream_no_pod_route sh -c "! ip -n $UPS route get $K8S_RESOLVER4 >/dev/null 2>&1"

# ---- DNS through the ClusterIP -------------------------------------------------------------
# same_answer NAME POD DIGOPTS SERVER TYPE: the pod's answer through the service equals what the
# upstream knot serves (sorted), and is not empty.
same_answer() {
	local pod=$2 opts=$3 srv=$4 t=$5 got want
	got=$(k8s_exec "$pod" app dig +short +tries=1 +timeout=2 $opts @"$srv" www.pano.test "$t" | sort)
	want=$(nsx "$UPS" kdig +short @"$K8S_UPSTREAM4" www.pano.test "$t" | sort)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "$1"; else fail "$1: got '$got', want '$want'"; fi
}
# status POD NAME DIGOPTS: the rcode a pod gets for NAME through the IPv4 ClusterIP.
status() {
	k8s_exec "$1" app dig +tries=1 +timeout=2 ${3:-} @"$K8S_CLUSTER_IP4" "$2" A |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
for p in "${K8S_CLIENTS[@]}"; do
	same_answer "k8snode_udp4_$p" "$p" "" "$K8S_CLUSTER_IP4" A
	same_answer "k8snode_tcp4_$p" "$p" +tcp "$K8S_CLUSTER_IP4" A
	same_answer "k8snode_udp6_$p" "$p" "" "$K8S_CLUSTER_IP6" AAAA
	same_answer "k8snode_tcp6_$p" "$p" +tcp "$K8S_CLUSTER_IP6" AAAA
	check_eq "k8snode_nxdomain_udp_$p" "$(status "$p" "$p-$$.nx.pano.test")" NXDOMAIN
	check_eq "k8snode_nxdomain_tcp_$p" "$(status "$p" "$p-$$-t.nx.pano.test" +tcp)" NXDOMAIN
done
# The NXDOMAIN is knot's (its SOA in the authority section), not one unbound made up.
knot_soa() {
	k8s_exec client-a app dig +tries=1 @"$K8S_CLUSTER_IP4" "soa-$$.nx.pano.test" |
		grep -q 'SOA.*ns1.pano.test. hostmaster.pano.test.'
}
check k8snode_nxdomain_from_upstream knot_soa
check_eq k8snode_servfail "$(status client-b "x-$$.broken.pano.test")" SERVFAIL
# The pod's own resolv.conf (the kubelet's, with the ClusterIP) works for the C library too.
getent_www() { k8s_exec client-c app getent hosts www.pano.test | grep -q 2001:2::80; }
check k8snode_pod_resolv_conf getent_www

# ---- NAT as on a node: DNAT to the resolver pod, SNAT of its upstream queries --------------
# ct ARGS...: how many conntrack entries of the node match ARGS.
ct() { k8s_node_exec conntrack -L "$@" 2>/dev/null | grep -c .; }
A4=${K8S_POD_IP4[client-a]} A6=${K8S_POD_IP6[client-a]}
check k8snode_dnat_udp4 test "$(ct -p udp -g -s "$A4" -d "$K8S_CLUSTER_IP4" -r "$K8S_RESOLVER4" -q "$A4")" -ge 1
check k8snode_dnat_tcp4 test "$(ct -p tcp -g -s "$A4" -d "$K8S_CLUSTER_IP4" -r "$K8S_RESOLVER4" -q "$A4")" -ge 1
check k8snode_dnat_udp6 test "$(ct -f ipv6 -p udp -g -s "$A6" -d "$K8S_CLUSTER_IP6" -r "$K8S_RESOLVER6")" -ge 1
check k8snode_dnat_tcp6 test "$(ct -f ipv6 -p tcp -g -s "$A6" -d "$K8S_CLUSTER_IP6" -r "$K8S_RESOLVER6")" -ge 1
# unbound picks the upstream's IPv4 or IPv6 address per query: either family's SNAT counts.
snat=$(( $(ct -p udp -n -s "$K8S_RESOLVER4" -d "$K8S_UPSTREAM4" -r "$K8S_UPSTREAM4" -q "$K8S_NODE_UP4") +
	$(ct -f ipv6 -p udp -n -s "$K8S_RESOLVER6" -d "$K8S_UPSTREAM6" -r "$K8S_UPSTREAM6" -q "$K8S_NODE_UP6") ))
check k8snode_snat_upstream test "$snat" -ge 1
check_eq k8snode_no_pod_addr_upstream "$(ct -s "$K8S_RESOLVER4" -d "$K8S_UPSTREAM4" -q "$K8S_RESOLVER4")" 0

# Why bridge-nf-call-iptables: the answer to a client is bridged, so only br_netfilter lets
# conntrack turn its source back into the ClusterIP. Without it the client never takes it.
k8s_node_exec sysctl -qw net.bridge.bridge-nf-call-iptables=0
check_eq k8snode_brnf_off_fails "$(status client-a "off-$$.nx.pano.test")" ""
k8s_node_exec sysctl -qw net.bridge.bridge-nf-call-iptables=1
check_eq k8snode_brnf_on_works "$(status client-a "on-$$.nx.pano.test")" NXDOMAIN

# ---- a fragmented answer -------------------------------------------------------------------
B=client-b BNS=${K8S_POD_NETNS[client-b]}
ip netns exec "$BNS" tcpdump --immediate-mode -U -nn -i eth0 -w "$T_TMP/frag.pcap" "ip and src host $K8S_CLUSTER_IP4" \
	2>"$T_TMP/frag.err" &
TD=$!
on_exit "kill $TD"
wait_for 5 grep -q listening "$T_TMP/frag.err"
k8s_exec "$B" app dig +ignore +bufsize=4096 +tries=1 @"$K8S_CLUSTER_IP4" big.pano.test TXT >"$T_TMP/big.txt"
sleep 0.2
kill -INT "$TD"; wait "$TD"
check_eq k8snode_frag_answer "$(grep -c '^big.pano.test.*TXT' "$T_TMP/big.txt")" 14
check k8snode_frag_udp grep -q '^;; SERVER: .*(UDP)' "$T_TMP/big.txt"
check k8snode_frag_size test "$(sed -n 's/.*MSG SIZE  rcvd: //p' "$T_TMP/big.txt")" -ge 3000
nfrag=$(tcpdump -nr "$T_TMP/frag.pcap" 'ip[6:2] & 0x3fff != 0' 2>/dev/null | wc -l)
nlater=$(tcpdump -nr "$T_TMP/frag.pcap" 'ip[6:2] & 0x1fff != 0' 2>/dev/null | wc -l)
check k8snode_frag_fragments test "$nfrag" -ge 3 -a "$nlater" -ge 2
log "big answer: $nfrag fragments from the ClusterIP, $nlater of them past offset 0"

# ---- cgroups: processes and sockets ---------------------------------------------------------
rel() { echo "${1#"$K8S_CGROUP2"}"; }	# a cgroup directory as /proc/PID/cgroup shows it
label() { [ "$1" = "$K8S_RESOLVER" ] && echo resolver || echo "$1"; }
proc_cg() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
for p in "${K8S_PODS[@]}"; do
	for c in ${K8S_POD_CONTAINERS[$p]}; do
		check_eq "k8snode_cgroup_$(label "$p")_$c" "$(k8s_exec "$p" "$c" sed -n 's/^0:://p' /proc/self/cgroup)" \
			"$(rel "${K8S_CG[$p/$c]}")"
		check_eq "k8snode_netns_$(label "$p")_$c" "$(k8s_exec "$p" "$c" readlink /proc/self/ns/net)" \
			"net:[$(stat -L -c %i "/run/netns/${K8S_POD_NETNS[$p]}")]"
	done
	pp=$(cat "$T_TMP/k8s-pause-$p.pid")
	check_eq "k8snode_sandbox_$(label "$p")" "$(proc_cg "$pp") $(cat "/proc/$pp/comm")" \
		"$(rel "${K8S_CG[$p/POD]}") pause"
done
UB=$(cat "$T_TMP/k8s-unbound.pid")
check_eq k8snode_resolver_cgroup "$(proc_cg "$UB") $(cat "/proc/$UB/comm")" \
	"$(rel "${K8S_CG[$K8S_RESOLVER/coredns]}") unbound"
# The sockets carry the cgroup the kernel (and a BPF program) reports for them: ss reads it
# from the socket itself. nsenter, not ip netns exec, so that ss finds the cgroup2 mount.
sockcg() { nsenter --net="/run/netns/$1" ss -Htuanp --cgroup "$2" | sed -n 's/.*cgroup:\([^ ]*\).*/\1/p' | sort -u; }
check_eq k8snode_socket_cgroup_resolver "$(sockcg "${K8S_POD_NETNS[$K8S_RESOLVER]}" 'sport = :53')" \
	"$(rel "${K8S_CG[$K8S_RESOLVER/coredns]}")"
k8s_exec_bg sock client-c sidecar /usr/bin/python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5399)); time.sleep(60)'
wait_for 5 sh -c "ip netns exec ${K8S_POD_NETNS[client-c]} ss -Hunl 'sport = :5399' | grep -q ."
check_eq k8snode_socket_cgroup_client "$(sockcg "${K8S_POD_NETNS[client-c]}" 'sport = :5399')" \
	"$(rel "${K8S_CG[client-c/sidecar]}")"
kill "$(cat "$T_TMP/sock.pid")"

# Layouts: systemd driver with containerd and CRI-O, the cgroupfs driver, QoS levels.
H='[0-9a-f]\{64\}'
check k8snode_layout_containerd sh -c "echo '${K8S_CG[client-a/app]}' |
	grep -q '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod[0-9a-f_]\{36\}.slice/cri-containerd-$H.scope$'"
check k8snode_layout_cgroupfs sh -c "echo '${K8S_CG[client-b/app]}' |
	grep -q '/kubepods/burstable/pod[0-9a-f-]\{36\}/$H$'"
check k8snode_layout_crio sh -c "echo '${K8S_CG[client-c/app]}' |
	grep -q '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod[0-9a-f_]\{36\}.slice/crio-$H.scope$'"
check k8snode_layout_guaranteed sh -c "echo '${K8S_CG[$K8S_RESOLVER/coredns]}' |
	grep -q '/kubepods.slice/kubepods-pod[0-9a-f_]\{36\}.slice/cri-containerd-$H.scope$'"
# The table: one line per container and sandbox, cgroup ids as the directories' inodes, unique.
ids=$(awk 'NR > 1 { print $6 }' "$T_TMP/pods.txt")
check_eq k8snode_table_lines "$(echo "$ids" | wc -l)" 9
check_eq k8snode_table_ids_unique "$(echo "$ids" | sort -u | wc -l)" 9
check_eq k8snode_table_id "$(awk '$1 == "client-a" && $4 == "app" { print $6 }' "$T_TMP/pods.txt")" \
	"$(stat -c %i "${K8S_CG[client-a/app]}")"

# ---- the kubelet's log tree ----------------------------------------------------------------
bad=0
for p in "${K8S_PODS[@]}"; do
	for c in ${K8S_POD_CONTAINERS[$p]}; do
		f=$K8S_ROOT/var/log/pods/${K8S_POD_NS[$p]}_${p}_${K8S_POD_UID[$p]}/$c/0.log
		l=$K8S_ROOT/var/log/containers/${p}_${K8S_POD_NS[$p]}_$c-${K8S_CID[$p/$c]}.log
		grep -q '^[0-9-]*T[0-9:.]*Z stdout F ' "$f" || { log "bad log $f"; bad=$((bad + 1)); }
		[ "$(readlink "$l")" = "$f" ] || { log "bad link $l"; bad=$((bad + 1)); }
	done
done
check_eq k8snode_kubelet_logs "$bad" 0
check_eq k8snode_kubelet_log_dirs "$(ls "$K8S_ROOT/var/log/pods" | wc -l) $(ls "$K8S_ROOT/var/log/containers" | wc -l)" "4 5"

# ---- a pod that comes after start, and goes -------------------------------------------------
if k8s_pod_add client-d default systemd-docker besteffort app; then
	pass k8snode_late_pod_add
	same_answer k8snode_late_pod_udp4 client-d "" "$K8S_CLUSTER_IP4" A
	same_answer k8snode_late_pod_tcp4 client-d +tcp "$K8S_CLUSTER_IP4" A
	check_eq k8snode_late_pod_cgroup "$(k8s_exec client-d app sed -n 's/^0:://p' /proc/self/cgroup)" \
		"$(rel "${K8S_CG[client-d/app]}")"
	check k8snode_layout_docker sh -c "echo '${K8S_CG[client-d/app]}' | grep -q '/docker-$H.scope$'"
	D_NS=${K8S_POD_NETNS[client-d]} D_VETH=${K8S_POD_VETH[client-d]} D_CG=${K8S_POD_CGROUP[client-d]}
	D_PAUSE=$(cat "$T_TMP/k8s-pause-client-d.pid")
	D_LOG=$K8S_ROOT/var/log/pods/default_client-d_${K8S_POD_UID[client-d]}
	D_LINK=$K8S_ROOT/var/log/containers/client-d_default_app-${K8S_CID[client-d/app]}.log
	k8s_pod_del client-d
	check k8snode_del_netns sh -c "! ip netns list | grep -qw $D_NS"
	check k8snode_del_veth sh -c "! ip -n $K8S_NODE_NS link show $D_VETH >/dev/null 2>&1"
	check k8snode_del_cgroup test ! -e "$D_CG"
	check k8snode_del_logs test ! -e "$D_LOG" -a ! -L "$D_LINK"
	check k8snode_del_process test ! -e "/proc/$D_PAUSE"
	check_eq k8snode_del_pods "${#K8S_PODS[@]}" 4
	same_answer k8snode_after_del_udp4 client-a "" "$K8S_CLUSTER_IP4" A
else
	fail "k8snode_late_pod_add: k8s_pod_add failed"
fi

# ---- a hostNetwork pod: the node's namespace, DNATed and masqueraded by kube-proxy's rules ---
if K8S_POD_HOSTNET=1 k8s_pod_add node-agent monitoring systemd-containerd burstable app; then
	same_answer k8snode_hostnet_udp4 node-agent "" "$K8S_CLUSTER_IP4" A
	same_answer k8snode_hostnet_tcp4 node-agent +tcp "$K8S_CLUSTER_IP4" A
	same_answer k8snode_hostnet_udp6 node-agent "" "$K8S_CLUSTER_IP6" AAAA
	check k8snode_hostnet_dnat_snat test "$(ct -p udp -g -n -s "$K8S_NODE_UP4" -d "$K8S_CLUSTER_IP4" \
		-r "$K8S_RESOLVER4" -q "$K8S_GW4")" -ge 1
	check_eq k8snode_hostnet_cgroup "$(k8s_exec node-agent app sed -n 's/^0:://p' /proc/self/cgroup)" \
		"$(rel "${K8S_CG[node-agent/app]}")"
	H_CG=${K8S_POD_CGROUP[node-agent]}
	k8s_pod_del node-agent
	check k8snode_hostnet_del test ! -e "$H_CG"
	check k8snode_hostnet_del_keeps_node ip netns exec "$K8S_NODE_NS" true
else
	fail "k8snode_hostnet_add: k8s_pod_add failed"
fi

# ---- nothing left behind --------------------------------------------------------------------
# k8s_state: what the node made, to look for after teardown: names, network namespace inodes,
# cgroup directories, files and processes.
k8s_state() {
	local p c
	echo "NETNS $K8S_NODE_NS $K8S_UPSTREAM_NS"
	for p in "${K8S_PODS[@]}"; do
		echo "NETNS ${K8S_POD_NETNS[$p]}"
		echo "FILE /etc/netns/${K8S_POD_NETNS[$p]}"
		echo "CGROUP ${K8S_POD_CGROUP[$p]}"
		for c in ${K8S_POD_CONTAINERS[$p]} POD; do echo "CGROUP ${K8S_CG[$p/$c]}"; done
		echo "PID $(cat "$T_TMP/k8s-pause-$p.pid")"
	done
	for p in $K8S_NODE_NS $K8S_UPSTREAM_NS "${K8S_POD_NETNS[@]}"; do
		echo "NSINO $(stat -L -c %i "/run/netns/$p")"
	done
	echo "FILE $K8S_ROOT"
	echo "PID $(cat "$T_TMP/k8s-unbound.pid") $DNS_PID"
}
# k8s_left STATEFILE: prints what of STATEFILE still exists; nothing when all is gone.
k8s_left() {
	local kind rest x pid
	local netns_now held
	netns_now=$(ip netns list | awk '{ print $1 }')
	held=$(for pid in /proc/[0-9]*; do stat -L -c %i "$pid/ns/net" 2>/dev/null; done | sort -u)
	while read -r kind rest; do
		for x in $rest; do
			case $kind in
			NETNS) echo "$netns_now" | grep -qx "$x" && echo "netns $x" ;;
			NSINO) echo "$held" | grep -qx "$x" && echo "a process is in netns inode $x" ;;
			CGROUP | FILE) [ -e "$x" ] && echo "$x" ;;
			PID) [ -e "/proc/$x" ] && echo "process $x" ;;
			esac
		done
	done <"$1"
}
k8s_state >"$T_TMP/state.txt"
k8s_node_down
left=$(k8s_left "$T_TMP/state.txt")
check_eq k8snode_down_clean "$left" ""
check_eq k8snode_down_checked "$(grep -c '^CGROUP' "$T_TMP/state.txt")" 13

# A test script that fails half way: its on_exit takes the node down. Its cgroups nest under a
# parent of their own (K8S_CGROUP_PARENT, a node in a container), which goes too.
cat >"$T_TMP/child.sh" <<EOF
. "$PANO_ROOT/tests/lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
K8S_CGROUP_PARENT=pano-k8snode-$$.slice
. "$PANO_ROOT/tests/lib/k8snode.sh"
$(declare -f k8s_state)
k8s_node_up || exit 3
k8s_pod_add late batch cgroupfs-containerd besteffort app || exit 3
k8s_exec_bg busy late app sleep 60
k8s_state >"$T_TMP/child-state.txt"
echo "CGROUP \$K8S_CGROUP_BASE" >>"$T_TMP/child-state.txt"
exit 1
EOF
bash "$T_TMP/child.sh" 2>"$T_TMP/child.err"
check_eq k8snode_child_exit "$?" 1
if [ -s "$T_TMP/child-state.txt" ]; then
	check_eq k8snode_on_exit_clean "$(k8s_left "$T_TMP/child-state.txt")" ""
	check k8snode_on_exit_checked grep -q "^CGROUP .*/pano-k8snode-$$.slice/kubepods/besteffort/pod" \
		"$T_TMP/child-state.txt"
else
	fail "k8snode_on_exit_clean: the child wrote no state: $(tail -5 "$T_TMP/child.err")"
fi

t_done
