# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# k8snode.sh - a Kubernetes node built from network namespaces and cgroups, for tests and the
# demo: pods behind a CNI bridge, a cluster DNS pod behind a ClusterIP that nftables DNATs the
# way kube-proxy does, pod egress SNATed on the uplink to an upstream authoritative server,
# containers in kubelet-style cgroup v2 directories and a kubelet /var/log/pods tree.
# Source it after lib.sh and dns.sh:
#   . "$PANO_ROOT/tests/lib/lib.sh"
#   . "$PANO_ROOT/tests/lib/dns.sh"
#   . "$PANO_ROOT/tests/lib/k8snode.sh"
#
#  client pods (default/client-a, default/client-b, batch/client-c)  kube-system/coredns-* (unbound)
#   eth0 198.18.64.10.. 2001:2:0:64::10..                             eth0 198.18.64.53, ::53
#      |                                                                 |
#   $K8S_NODE_NS: veth host sides enslaved to bridge $K8S_BRIDGE (198.18.64.1/24, 2001:2:0:64::1/64)
#      ClusterIP 198.18.66.10 / 2001:2:0:66::10 port 53 udp+tcp: DNAT to the resolver pod (table
#      ip/ip6 kube-proxy); pod egress leaving the pod subnet is masqueraded (table inet cni-masq)
#      uplink $K8S_UPLINK 198.18.67.1/24, 2001:2:0:67::1/64, the node's default route
#      |
#   $K8S_UPSTREAM_NS: eth0 198.18.67.2, 2001:2:0:67::2: knotd, authoritative for pano.test (dns.sh)
#
# Replies from the resolver pod to a client pod are bridged, not routed: the node only undoes
# the DNAT (source resolver pod -> ClusterIP) because net.bridge.bridge-nf-call-iptables (and
# -ip6tables) = 1 in the node namespace hands bridged frames to the IP netfilter hooks, so
# conntrack sees the reply; this is what kubeadm's preflight demands of a real node. With 0 the
# answer reaches the client from the pod address, which its socket (connected to the ClusterIP)
# does not take: an ICMP port unreachable for UDP, a reset for TCP's SYN-ACK. The other cure,
# masquerading every service connection (kube-proxy --masquerade-all), would route the answers
# through the node but hide the client's address from the resolver.
#
# Copies: a client's query to the ClusterIP is seen by the node's hooks at the client's veth
# (ingress, before DNAT), the bridge device's egress (after DNAT; only while the node's neighbour
# entry for the resolver pod is not REACHABLE, k8s_neigh) and the resolver's veth (egress, after
# DNAT); the answer at the resolver's veth (ingress, from the pod address) and the client's veth
# (egress, from the ClusterIP). Bridged copies keep the TTL; routed ones (the resolver's
# upstream queries through the uplink) lose one.
#
# hostNetwork pods (K8S_POD_HOSTNET=1 k8s_pod_add ...) live in the node's namespace; their
# queries to the ClusterIP are DNATed and, their source being outside the pod network, also
# masqueraded by kube-proxy's rules (fully-random ports), as on a real node.
#
# Names the resolver answers (forward zones to the upstream knot):
#   pano.test zone (dns.sh): NOERROR; anything.nx.pano.test: NXDOMAIN; big.pano.test TXT 3.5 kB
#   (fragmented over UDP with +bufsize=4096); anything.broken.pano.test: SERVFAIL (knot has
#   that zone configured and not loaded, answers SERVFAIL, and unbound passes it on).
#
# Cgroups: <cgroup2 mount>[/$K8S_CGROUP_PARENT]/<kubelet layout>, one directory per container
# plus the pod sandbox ("pause"); the layouts of k8s_pod_add:
#   systemd-containerd  SLICE/cri-containerd-<id>.scope
#   systemd-crio        SLICE/crio-<id>.scope
#   systemd-docker      SLICE/docker-<id>.scope
#   cgroupfs-containerd kubepods/QOS/pod<uid>/<id>
# where SLICE is kubepods.slice/kubepods-QOS.slice/kubepods-QOS-pod<uid with _ for ->.slice
# (QOS besteffort or burstable; guaranteed pods have no QoS level: kubepods.slice/
# kubepods-pod<uid_>.slice, kubepods/pod<uid>).
# The kubepods directories are shared by concurrent test runs (made and removed under a flock
# of the cgroup2 mount directory); pod uids and container ids are random, so every run's pods
# are its own. K8S_CGROUP_PARENT (set before sourcing) nests the whole tree one level down, as
# on a node inside a container (kind).
#
# Kubelet logs: $K8S_ROOT/var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log and
# $K8S_ROOT/var/log/containers/<pod>_<namespace>_<container>-<id>.log, a symlink to the former
# (absolute, as the kubelet makes it, with $K8S_ROOT in front).
#
# Functions:
#   k8s_node_up            build all of the above with the default pods; on_exit tears it down
#   k8s_node_down          tear it down now (idempotent)
#   k8s_pod_add NAME NAMESPACE LAYOUT QOS CONTAINER[,CONTAINER...]   a pod, also after start
#   k8s_pod_del NAME       kill its processes, remove its cgroups, namespace, veth and logs
#   k8s_exec POD CONTAINER CMD...      run CMD in the pod's network namespace and the
#                          container's cgroup (sockets it opens belong to that cgroup)
#   k8s_exec_bg NAME POD CONTAINER CMD...   the same in the background; pid in $T_TMP/NAME.pid
#   k8s_node_exec CMD...   run CMD in the node's network namespace, keeping the host's mounts
#                          (ip netns exec remounts /sys, hiding the cgroup2 mount: use this for
#                          an agent that reads cgroups)
#   k8s_cgroup_id POD CONTAINER        the container cgroup's id (its directory's inode)
#   k8s_neigh POD reachable|stale      pin the node's ARP/NDP entry for POD (see Copies)
#   k8s_pods_table         one line per container: pod, namespace, uid, container, id, cgroup
#                          path, cgroup id, addresses
# Variables (after k8s_node_up):
#   K8S_NODE_NS K8S_UPSTREAM_NS K8S_BRIDGE K8S_UPLINK K8S_POD_CIDR4 K8S_POD_CIDR6 K8S_GW4 K8S_GW6
#   K8S_CLUSTER_IP4 K8S_CLUSTER_IP6 K8S_NODE_UP4 K8S_NODE_UP6 (the SNAT address)
#   K8S_UPSTREAM4 K8S_UPSTREAM6 K8S_ROOT K8S_CGROUP2 K8S_CGROUP_BASE K8S_RESOLVER K8S_CLIENTS (array)
#   K8S_PODS (array, in creation order); per pod: K8S_POD_NS K8S_POD_UID K8S_POD_NETNS
#   K8S_POD_IP4 K8S_POD_IP6 K8S_POD_VETH K8S_POD_CGROUP K8S_POD_CONTAINERS K8S_POD_SANDBOX
#   (associative arrays indexed by pod name); per container: K8S_CID K8S_CG (indexed
#   "pod/container"; the container "POD" is the sandbox, whose pause process is in
#   $T_TMP/k8s-pause-POD.pid; the resolver's unbound is in $T_TMP/k8s-unbound.pid)
# dns.sh's knot runs in $K8S_UPSTREAM_NS with its files in $T_TMP/knot, so a test that uses
# k8s_node_up does not also call dns_up for netns_up's hosts. knotd is a child of the test's
# shell: wait for the processes you start by pid, a bare `wait` waits for knotd too.

K8S_POD_CIDR4=198.18.64.0/24 K8S_POD_CIDR6=2001:2:0:64::/64
K8S_GW4=198.18.64.1 K8S_GW6=2001:2:0:64::1
K8S_CLUSTER_IP4=198.18.66.10 K8S_CLUSTER_IP6=2001:2:0:66::10
K8S_NODE_UP4=198.18.67.1 K8S_NODE_UP6=2001:2:0:67::1
K8S_UPSTREAM4=198.18.67.2 K8S_UPSTREAM6=2001:2:0:67::2
K8S_RESOLVER_HOST=53
K8S_CGROUP_PARENT=${K8S_CGROUP_PARENT:-}
K8S_UP=
K8S_PODS=() K8S_CLIENTS=()
K8S_NEXT_HOST=10
declare -gA K8S_POD_NS=() K8S_POD_UID=() K8S_POD_NETNS=() K8S_POD_IP4=() K8S_POD_IP6=()
declare -gA K8S_POD_VETH=() K8S_POD_CGROUP=() K8S_POD_CONTAINERS=() K8S_POD_SANDBOX=()
declare -gA K8S_CID=() K8S_CG=()

# k8s_cgroup2_mount: where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup or, on hybrid
# hosts, /sys/fs/cgroup/unified).
k8s_cgroup2_mount() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }

k8s_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }	# k8s_hex BYTES
k8s_suffix() { tr -dc 'bcdfghjklmnpqrstvwxz2456789' </dev/urandom | head -c"$1"; }

# k8s_node_exec CMD...: CMD in the node's network namespace, the host's mount namespace.
k8s_node_exec() { nsenter --net="/run/netns/$K8S_NODE_NS" "$@"; }

# k8s_exec POD CONTAINER CMD...: CMD in the pod's network namespace (with the pod's resolv.conf,
# through ip netns exec) and in the container's cgroup; the shell that moves itself into the
# cgroup execs ip netns exec, which execs CMD, so CMD keeps the pid that was moved.
k8s_exec() {
	local pod=$1 c=$2; shift 2
	local cg=${K8S_CG[$pod/$c]:-}
	[ -n "$cg" ] || { log "k8s_exec: no container $pod/$c"; return 127; }
	sh -c 'echo $$ >"$0/cgroup.procs" || exit 126; exec ip netns exec "$@"' \
		"$cg" "${K8S_POD_NETNS[$pod]}" "$@"
}
# k8s_exec_bg NAME POD CONTAINER CMD...: k8s_exec in the background, output to $T_TMP/NAME.out
# and .err, pid in $T_TMP/NAME.pid; killed with the pod.
k8s_exec_bg() {
	local name=$1 pod=$2 c=$3; shift 3
	rm -f "$T_TMP/$name.pid"
	sh -c 'echo $$ >"$0"; echo $$ >"$1/cgroup.procs" || exit 126; shift; exec ip netns exec "$@"' \
		"$T_TMP/$name.pid" "${K8S_CG[$pod/$c]}" "${K8S_POD_NETNS[$pod]}" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	disown
	wait_for 5 test -s "$T_TMP/$name.pid"
}

k8s_cgroup_id() { stat -c %i "${K8S_CG[$1/$2]}"; }	# k8s_cgroup_id POD CONTAINER

# k8s_neigh POD reachable|stale: sets the node's ARP and NDP entries for POD on the bridge.
# A query DNATed to POD is bridged by br_netfilter straight from the client's port to POD's
# when the entry is REACHABLE, and goes out through the bridge device first (one more copy at
# the bridge's egress) in any other state (STALE, DELAY, PROBE, INCOMPLETE): how many copies of
# a packet the node's hooks see depends on it.
k8s_neigh() {
	local a
	for a in "${K8S_POD_IP4[$1]}" "${K8S_POD_IP6[$1]}"; do
		ip -n "$K8S_NODE_NS" neigh replace "$a" dev "$K8S_BRIDGE" nud "$2" \
			lladdr "$(ip -n "${K8S_POD_NETNS[$1]}" -br link show eth0 | awk '{ print $3 }')" || return 1
	done
}

# k8s_cg_dirs LAYOUT QOS UID ID: prints the pod's cgroup directory (relative to the base) and
# the container's directory name for that layout.
k8s_cg_dirs() {
	local layout=$1 qos=$2 uid=$3 id=$4 u=${3//-/_} pod q
	case $layout in
	systemd-*)
		if [ "$qos" = guaranteed ]; then
			pod=kubepods.slice/kubepods-pod$u.slice
		else
			pod=kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$u.slice
		fi
		case $layout in
		systemd-containerd) q=cri-containerd-$id.scope ;;
		systemd-crio) q=crio-$id.scope ;;
		systemd-docker) q=docker-$id.scope ;;
		*) return 1 ;;
		esac ;;
	cgroupfs-containerd)
		if [ "$qos" = guaranteed ]; then pod=kubepods/pod$uid; else pod=kubepods/$qos/pod$uid; fi
		q=$id ;;
	*) return 1 ;;
	esac
	echo "$pod $q"
}

# k8s_log_line FILE TEXT: one line in the CRI log format the kubelet reads.
k8s_log_line() { printf '%s stdout F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$2" >>"$1"; }

# k8s_pod_net NAME: the CNI bridge plugin's work for pod NAME: its namespace, a veth into the
# bridge, addresses, routes, and the kubelet's resolv.conf for a ClusterFirst pod (ip netns exec
# binds /etc/netns/NS/resolv.conf over /etc/resolv.conf).
k8s_pod_net() {
	local name=$1 podns=${K8S_POD_NETNS[$1]} veth=${K8S_POD_VETH[$1]}
	ip netns add "$podns" || return 1
	ip -n "$K8S_NODE_NS" link add "$veth" type veth peer name eth0 netns "$podns" || return 1
	ip -n "$K8S_NODE_NS" link set "$veth" master "$K8S_BRIDGE" up || return 1
	ip netns exec "$podns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
	ip -n "$podns" link set lo up
	ip -n "$podns" addr add "${K8S_POD_IP4[$name]}/24" dev eth0
	ip -n "$podns" addr add "${K8S_POD_IP6[$name]}/64" dev eth0 nodad
	ip -n "$podns" link set eth0 up
	ip -n "$podns" route add default via "$K8S_GW4"
	ip -n "$podns" -6 route add default via "$K8S_GW6"
	mkdir -p "/etc/netns/$podns"
	printf 'search %s.svc.cluster.local svc.cluster.local cluster.local\nnameserver %s\noptions ndots:5\n' \
		"${K8S_POD_NS[$name]}" "$K8S_CLUSTER_IP4" >"/etc/netns/$podns/resolv.conf"
}

# k8s_pod_add NAME NAMESPACE LAYOUT QOS CONTAINERS: a pod with the comma-separated CONTAINERS
# (plus its sandbox) on the node's bridge, at the next free address (or host number
# $K8S_POD_HOST when set). With K8S_POD_HOSTNET=1 the pod is a hostNetwork pod instead: no
# namespace or veth of its own, the node's namespace and uplink addresses. Each container gets
# a cgroup, a log file and a symlink; the sandbox gets a cgroup and a "pause" process that
# holds it, as with a real runtime.
k8s_pod_add() {
	local name=$1 ns=$2 layout=$3 qos=$4 containers=$5
	local host=${K8S_POD_HOST:-} uid c id dirs podcg logd sb
	[ -z "${K8S_POD_NETNS[$name]:-}" ] || { log "k8s_pod_add: $name exists"; return 1; }
	case $qos in besteffort | burstable | guaranteed) ;; *) log "k8s_pod_add: qos $qos"; return 1 ;; esac
	if [ -z "$host" ]; then
		host=$K8S_NEXT_HOST; K8S_NEXT_HOST=$((K8S_NEXT_HOST + 1))
		[ "$host" = "$K8S_RESOLVER_HOST" ] && host=$K8S_NEXT_HOST && K8S_NEXT_HOST=$((K8S_NEXT_HOST + 1))
	fi
	uid=$(cat /proc/sys/kernel/random/uuid)
	sb=$(k8s_hex 32)
	dirs=$(k8s_cg_dirs "$layout" "$qos" "$uid" "$sb") || { log "k8s_pod_add: layout $layout"; return 1; }
	podcg=$K8S_CGROUP_BASE/${dirs% *}
	K8S_PODS+=("$name")
	K8S_POD_NS[$name]=$ns K8S_POD_UID[$name]=$uid
	K8S_POD_CGROUP[$name]=$podcg K8S_POD_CONTAINERS[$name]=
	if [ "${K8S_POD_HOSTNET:-}" = 1 ]; then
		K8S_POD_NETNS[$name]=$K8S_NODE_NS K8S_POD_VETH[$name]=
		K8S_POD_IP4[$name]=$K8S_NODE_UP4 K8S_POD_IP6[$name]=$K8S_NODE_UP6
	else
		K8S_POD_NETNS[$name]=${T_PREFIX}p$host K8S_POD_VETH[$name]=${T_PREFIX}v$host
		K8S_POD_IP4[$name]=${K8S_GW4%.*}.$host K8S_POD_IP6[$name]=${K8S_GW6%::*}::$host
		k8s_pod_net "$name" || return 1
	fi

	# Cgroups and logs: the runtime's and the kubelet's work.
	(flock 9 && mkdir -p "$podcg") 9<"$K8S_CGROUP2" || return 1
	mkdir "$podcg/${dirs#* }" || return 1
	K8S_POD_SANDBOX[$name]=$sb K8S_CID[$name/POD]=$sb K8S_CG[$name/POD]=$podcg/${dirs#* }
	logd=$K8S_ROOT/var/log/pods/${ns}_${name}_$uid
	for c in ${containers//,/ }; do
		id=$(k8s_hex 32)
		dirs=$(k8s_cg_dirs "$layout" "$qos" "$uid" "$id")
		mkdir "$podcg/${dirs#* }" || return 1
		K8S_POD_CONTAINERS[$name]+="${K8S_POD_CONTAINERS[$name]:+ }$c"
		K8S_CID[$name/$c]=$id K8S_CG[$name/$c]=$podcg/${dirs#* }
		mkdir -p "$logd/$c" "$K8S_ROOT/var/log/containers"
		k8s_log_line "$logd/$c/0.log" "container $c of $ns/$name started"
		ln -s "$logd/$c/0.log" "$K8S_ROOT/var/log/containers/${name}_${ns}_$c-$id.log"
	done
	k8s_exec_bg "k8s-pause-$name" "$name" POD "$K8S_TMP/pause" infinity
}

# k8s_cg_kill DIR: kill every process in the cgroup DIR and below, wait until none is left.
k8s_cg_kill() {
	local d=$1 p
	[ -d "$d" ] || return 0
	if [ -e "$d/cgroup.kill" ]; then
		echo 1 >"$d/cgroup.kill"
	else
		for p in $(find "$d" -name cgroup.procs -exec cat {} +); do kill -9 "$p"; done
	fi
	wait_for 5 grep -q '^populated 0' "$d/cgroup.events"
}
# k8s_rmdir_up DIR STOP: remove DIR and its parents up to (not including) STOP while they are
# empty; under the lock, since concurrent runs share the kubepods levels.
k8s_rmdir_up() {
	local d=$1 stop=$2
	(
		flock 9
		while [ "$d" != "$stop" ] && [ "${#d}" -gt "${#stop}" ] && rmdir "$d" 2>/dev/null; do
			d=$(dirname "$d")
		done
	) 9<"$K8S_CGROUP2"
}

# k8s_pod_del NAME: the pod goes as on a real node: processes, cgroups, network, logs.
k8s_pod_del() {
	local name=$1 c podcg=${K8S_POD_CGROUP[$1]:-} podns=${K8S_POD_NETNS[$1]:-} i keep=()
	[ -n "$podns" ] || return 0
	if [ -n "$podcg" ] && [ -d "$podcg" ]; then
		k8s_cg_kill "$podcg"
		for c in ${K8S_POD_CONTAINERS[$name]} POD; do
			[ -d "${K8S_CG[$name/$c]}" ] && { wait_for 5 rmdir "${K8S_CG[$name/$c]}" ||
				log "k8s_pod_del: rmdir ${K8S_CG[$name/$c]} failed"; }
		done
		k8s_rmdir_up "$podcg" "$K8S_CGROUP_BASE"
	fi
	if [ -n "${K8S_POD_VETH[$name]}" ]; then	# not a hostNetwork pod
		ip netns del "$podns" 2>/dev/null
		rm -rf "/etc/netns/$podns"
		wait_for 5 sh -c "! ip -n $K8S_NODE_NS link show ${K8S_POD_VETH[$name]} >/dev/null 2>&1"
	fi
	rm -rf "$K8S_ROOT/var/log/pods/${K8S_POD_NS[$name]}_${name}_${K8S_POD_UID[$name]}"
	for c in ${K8S_POD_CONTAINERS[$name]}; do
		rm -f "$K8S_ROOT/var/log/containers/${name}_${K8S_POD_NS[$name]}_$c-${K8S_CID[$name/$c]}.log"
		unset "K8S_CID[$name/$c]" "K8S_CG[$name/$c]"
	done
	unset "K8S_CID[$name/POD]" "K8S_CG[$name/POD]"
	for i in "${K8S_PODS[@]}"; do [ "$i" = "$name" ] || keep+=("$i"); done
	K8S_PODS=("${keep[@]}")
	keep=()
	for i in "${K8S_CLIENTS[@]}"; do [ "$i" = "$name" ] || keep+=("$i"); done
	K8S_CLIENTS=("${keep[@]}")
	unset "K8S_POD_NS[$name]" "K8S_POD_UID[$name]" "K8S_POD_NETNS[$name]" "K8S_POD_IP4[$name]"
	unset "K8S_POD_IP6[$name]" "K8S_POD_VETH[$name]" "K8S_POD_CGROUP[$name]"
	unset "K8S_POD_CONTAINERS[$name]" "K8S_POD_SANDBOX[$name]"
}

# k8s_pods_table: the node's containers, one per line, a header first.
k8s_pods_table() {
	local p c
	printf '%-22s %-12s %-36s %-9s %-64s %-8s %-12s %s\n' POD NAMESPACE UID CONTAINER \
		CONTAINER-ID CGROUPID IPV4 'IPV6 CGROUP'
	for p in "${K8S_PODS[@]}"; do
		for c in ${K8S_POD_CONTAINERS[$p]} POD; do
			printf '%-22s %-12s %-36s %-9s %-64s %-8s %-12s %s %s\n' "$p" "${K8S_POD_NS[$p]}" \
				"${K8S_POD_UID[$p]}" "$c" "${K8S_CID[$p/$c]}" "$(k8s_cgroup_id "$p" "$c")" \
				"${K8S_POD_IP4[$p]}" "${K8S_POD_IP6[$p]}" "${K8S_CG[$p/$c]}"
		done
	done
}

# k8s_nft_kube_proxy FAMILY CLUSTERIP PODCIDR BACKEND: kube-proxy's nftables-mode ruleset for
# the kube-dns service (udp and tcp 53) with one endpoint, in kube-proxy's shape: a service map,
# a chain per service and endpoint, masquerade marks for hairpin and off-cluster sources.
k8s_nft_kube_proxy() {
	local f=$1 vip=$2 cidr=$3 ep=$4 a=ipv4_addr epp p
	[ "$f" = ip6 ] && a=ipv6_addr epp="[$ep]:53" || epp=$ep:53
	cat <<-EOF
	table $f kube-proxy {
		comment "rules for kube-proxy"
		chain mark-for-masquerade {
			meta mark set meta mark or 0x4000
		}
		chain masquerading {
			meta mark & 0x4000 == 0 return
			meta mark set meta mark xor 0x4000
			masquerade fully-random
		}
		chain services {
			$f daddr . meta l4proto . th dport vmap @service-ips
		}
		chain nat-prerouting {
			type nat hook prerouting priority dstnat; policy accept;
			jump services
		}
		chain nat-output {
			type nat hook output priority -100; policy accept;
			jump services
		}
		chain nat-postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			jump masquerading
		}
	EOF
	for p in udp tcp; do
		cat <<-EOF
		chain service-kube-system/kube-dns/$p/dns {
			$f daddr $vip $p dport 53 $f saddr != $cidr jump mark-for-masquerade
			numgen random mod 1 vmap { 0 : goto endpoint-kube-system/kube-dns/$p/dns }
		}
		chain endpoint-kube-system/kube-dns/$p/dns {
			$f saddr $ep jump mark-for-masquerade
			meta l4proto $p dnat to $epp
		}
		EOF
	done
	cat <<-EOF
		map service-ips {
			type $a . inet_proto . inet_service : verdict
			elements = { $vip . udp . 53 : goto service-kube-system/kube-dns/udp/dns,
				     $vip . tcp . 53 : goto service-kube-system/kube-dns/tcp/dns }
		}
	}
	EOF
}

# k8s_nft_rules: the node's whole ruleset: kube-proxy for both families and the bridge CNI's
# masquerade of pod traffic that leaves the pod network.
k8s_nft_rules() {
	k8s_nft_kube_proxy ip "$K8S_CLUSTER_IP4" "$K8S_POD_CIDR4" "$K8S_RESOLVER4"
	k8s_nft_kube_proxy ip6 "$K8S_CLUSTER_IP6" "$K8S_POD_CIDR6" "$K8S_RESOLVER6"
	cat <<-EOF
	table inet cni-masq {
		chain postrouting {
			type nat hook postrouting priority srcnat + 1; policy accept;
			ip saddr $K8S_POD_CIDR4 ip daddr != $K8S_POD_CIDR4 ip daddr != 224.0.0.0/4 masquerade
			ip6 saddr $K8S_POD_CIDR6 ip6 daddr != $K8S_POD_CIDR6 ip6 daddr != ff00::/8 masquerade
		}
	}
	EOF
}

# k8s_unbound_conf DIR: the resolver pod's unbound: listens on the pod's addresses, forwards
# everything to the upstream knot.
k8s_unbound_conf() {
	cat >"$1/unbound.conf" <<-EOF
	server:
	    verbosity: 1
	    use-syslog: no
	    logfile: ""
	    do-daemonize: no
	    chroot: ""
	    username: ""
	    directory: "$1"
	    pidfile: "$1/unbound.pid"
	    interface: $K8S_RESOLVER4
	    interface: $K8S_RESOLVER6
	    port: 53
	    do-ip6: yes
	    num-threads: 1
	    so-reuseport: no
	    access-control: 0.0.0.0/0 allow
	    access-control: ::/0 allow
	    module-config: "iterator"
	    edns-buffer-size: 4096
	    max-udp-size: 4096
	    qname-minimisation: no
	    prefetch: no
	    # test. is special-use (RFC 6761): unbound answers it locally unless told not to.
	    local-zone: "test." nodefault
	forward-zone:
	    name: "."
	    forward-addr: $K8S_UPSTREAM4
	    forward-addr: $K8S_UPSTREAM6
	EOF
}

# k8s_upstream_dns: dns.sh's knot, in the upstream namespace on the upstream addresses.
k8s_upstream_dns() {
	local NS_SRV=$K8S_UPSTREAM_NS NS_CLI=$K8S_UPSTREAM_NS SRV4=$K8S_UPSTREAM4 SRV6=$K8S_UPSTREAM6
	local DNS_BROKEN_ZONE=broken.$DNS_ZONE
	dns_up
}

k8s_resolver_answers() {	# through the ClusterIP, from the first client pod
	k8s_exec "${K8S_CLIENTS[0]}" "${K8S_POD_CONTAINERS[${K8S_CLIENTS[0]}]%% *}" \
		dig +short +tries=1 +timeout=1 @"$K8S_CLUSTER_IP4" "$DNS_ZONE" SOA | grep -q hostmaster
}

# k8s_node_up: the node, its upstream and four pods:
#   kube-system/coredns-*  systemd-containerd guaranteed, container coredns (unbound)
#   default/client-a       systemd-containerd besteffort, container app
#   default/client-b       cgroupfs-containerd burstable, container app
#   batch/client-c         systemd-crio burstable, containers app and sidecar
# Returns once a client pod gets an answer through the ClusterIP.
k8s_node_up() {
	local c cg2
	cg2=$(k8s_cgroup2_mount)
	[ -n "$cg2" ] || { log "k8s_node_up: no cgroup2 mount in /proc/mounts"; return 1; }
	K8S_CGROUP2=$cg2
	K8S_CGROUP_BASE=$cg2${K8S_CGROUP_PARENT:+/$K8S_CGROUP_PARENT}
	K8S_NODE_NS=${T_PREFIX}k8s K8S_UPSTREAM_NS=${T_PREFIX}ups
	K8S_BRIDGE=${T_PREFIX}cni0 K8S_UPLINK=${T_PREFIX}up0
	K8S_TMP=$T_TMP/k8s K8S_ROOT=$T_TMP/k8s/root
	K8S_UP=1
	on_exit k8s_node_down
	mkdir -p "$K8S_TMP" "$K8S_ROOT/var/log/pods" "$K8S_ROOT/var/log/containers"
	# The sandbox process is a copy of sleep named pause, so it shows as pause in ps and /proc.
	cp "$(command -v sleep)" "$K8S_TMP/pause"
	ip netns add "$K8S_NODE_NS" && ip netns add "$K8S_UPSTREAM_NS" || return 1
	k8s_node_exec sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.forwarding=1 \
		net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 || return 1
	ip netns exec "$K8S_UPSTREAM_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0
	ip -n "$K8S_NODE_NS" link set lo up
	ip -n "$K8S_UPSTREAM_NS" link set lo up
	ip -n "$K8S_NODE_NS" link add "$K8S_BRIDGE" type bridge || return 1
	ip -n "$K8S_NODE_NS" addr add "$K8S_GW4/24" dev "$K8S_BRIDGE"
	ip -n "$K8S_NODE_NS" addr add "$K8S_GW6/64" dev "$K8S_BRIDGE" nodad
	ip -n "$K8S_NODE_NS" link set "$K8S_BRIDGE" up
	ip -n "$K8S_NODE_NS" link add "$K8S_UPLINK" type veth peer name eth0 netns "$K8S_UPSTREAM_NS" || return 1
	ip -n "$K8S_NODE_NS" addr add "$K8S_NODE_UP4/24" dev "$K8S_UPLINK"
	ip -n "$K8S_NODE_NS" addr add "$K8S_NODE_UP6/64" dev "$K8S_UPLINK" nodad
	ip -n "$K8S_NODE_NS" link set "$K8S_UPLINK" up
	ip -n "$K8S_UPSTREAM_NS" addr add "$K8S_UPSTREAM4/24" dev eth0
	ip -n "$K8S_UPSTREAM_NS" addr add "$K8S_UPSTREAM6/64" dev eth0 nodad
	ip -n "$K8S_UPSTREAM_NS" link set eth0 up
	# The node's default gateway is upstream; the upstream has no route to the pod network, so
	# pods reach it only through the SNAT.
	ip -n "$K8S_NODE_NS" route add default via "$K8S_UPSTREAM4"
	ip -n "$K8S_NODE_NS" -6 route add default via "$K8S_UPSTREAM6"
	k8s_upstream_dns || return 1

	K8S_RESOLVER=coredns-$(k8s_suffix 10)-$(k8s_suffix 5)
	K8S_RESOLVER4=${K8S_GW4%.*}.$K8S_RESOLVER_HOST K8S_RESOLVER6=${K8S_GW6%::*}::$K8S_RESOLVER_HOST
	k8s_nft_rules >"$K8S_TMP/nft.rules"
	k8s_node_exec nft -f "$K8S_TMP/nft.rules" || return 1
	K8S_POD_HOST=$K8S_RESOLVER_HOST k8s_pod_add "$K8S_RESOLVER" kube-system systemd-containerd \
		guaranteed coredns || return 1
	mkdir -p "$K8S_TMP/unbound"
	k8s_unbound_conf "$K8S_TMP/unbound"
	k8s_exec_bg k8s-unbound "$K8S_RESOLVER" coredns unbound -d -c "$K8S_TMP/unbound/unbound.conf" ||
		return 1
	k8s_pod_add client-a default systemd-containerd besteffort app || return 1
	k8s_pod_add client-b default cgroupfs-containerd burstable app || return 1
	k8s_pod_add client-c batch systemd-crio burstable app,sidecar || return 1
	K8S_CLIENTS=(client-a client-b client-c)
	if ! wait_for 20 k8s_resolver_answers; then
		log "k8s_node_up: no answer through the ClusterIP; unbound says:"
		sed 's/^/# unbound: /' "$T_TMP/k8s-unbound.err" >&2
		return 1
	fi
	for c in "${K8S_CLIENTS[@]}"; do
		k8s_log_line "$K8S_ROOT/var/log/pods/${K8S_POD_NS[$c]}_${c}_${K8S_POD_UID[$c]}/app/0.log" \
			"resolver $K8S_CLUSTER_IP4 answers"
	done
}

# k8s_node_down: every pod, both namespaces, knot, the cgroup levels this run made.
k8s_node_down() {
	local p
	[ -n "$K8S_UP" ] || return 0
	for p in "${K8S_PODS[@]}"; do k8s_pod_del "$p"; done
	[ -n "${DNS_PID:-}" ] && kill "$DNS_PID" 2>/dev/null && wait "$DNS_PID" 2>/dev/null
	ip netns del "$K8S_NODE_NS" 2>/dev/null
	ip netns del "$K8S_UPSTREAM_NS" 2>/dev/null
	[ -n "$K8S_CGROUP_PARENT" ] && k8s_rmdir_up "$K8S_CGROUP_BASE" "$K8S_CGROUP2"
	rm -rf "$K8S_TMP"
	K8S_UP=
}

# k8s_web_up: (source web.sh first) two more pods after k8s_node_up: default/web, whose
# container web runs openssl s_server (TLS 1.2 and 1.3, ALPN h2,http/1.1, -www) on 443 and the
# HTTP/1.1 server of web.sh on 80, and default/web-client (container app) for the clients. The
# certificates (web_pki, in $K8S_TMP/web-pki) are for $K8S_WEB_NAME, the pod's headless-service
# name; clients reach the pod at its address (curl --resolve), not through a ClusterIP, whose
# DNAT the node's hooks would see as two connections. Returns once both servers listen.
K8S_WEB_NAME=web.default.svc.cluster.local
k8s_web_up() {
	local ip
	k8s_pod_add web default systemd-containerd burstable web || return 1
	k8s_pod_add web-client default systemd-containerd besteffort app || return 1
	ip=${K8S_POD_IP4[web]}
	web_pki "$K8S_TMP/web-pki" "$K8S_WEB_NAME" || return 1
	web_docroot "$K8S_TMP/web-www" 65536 || return 1
	web_tls_cmd "$ip" 443 any -www || return 1
	k8s_exec_bg k8s-web-tls web web "${WEB_CMD[@]}" || return 1
	web_http_cmd "$ip" 80 "$K8S_TMP/web-www"
	k8s_exec_bg k8s-web-http web web "${WEB_CMD[@]}" || return 1
	wait_for 10 web_listening "${K8S_POD_NETNS[web]}" "$ip" 443 &&
		wait_for 10 web_listening "${K8S_POD_NETNS[web]}" "$ip" 80 || {
		log "k8s_web_up: the web pod's servers did not start: $(tail -2 "$T_TMP"/k8s-web-*.err)"
		return 1
	}
}
