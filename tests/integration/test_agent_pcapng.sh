#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_pcapng.sh - pano-agent --write X.pcapng on a node built from namespaces, read by
# tshark, capinfos and tcpdump.
#
# knot serves in the server namespace; dig queries it from the client namespace, run by
# processes placed in two cgroup v2 directories made for the test: a plain one (a host
# process: no pod) and one laid out as the kubelet's cgroupfs driver does
# (.../pod<uid>/<container id>) with a matching /var/log/pods tree under --k8s-root. One agent
# (--iface all, in the node's network namespace but with the host's mounts, so it sees the
# cgroup2 mount) writes rotated pcapng files and classic pcap on standard output at once. Then:
#   - every rotated file is a complete pcapng file (capinfos: pcapng, interfaces named);
#   - each query's comment is exactly "cgroup=<inode of the dig's directory> pid=<dig's pid>
#     [pod=<ns>/<pod> container=<name>] comm=dig", taken at the client's veth, inbound;
#   - each reply's comment names knotd's cgroup and pid, taken at the server's veth, inbound;
#   - the pcapng files and the classic pcap hold the same frames and timestamps (tcpdump -tt
#     -xx), the classic one is still classic pcap, and the agent's sent counts match both.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"

need_root agent_pcapng
need_cmd agent_pcapng knotd dig tshark capinfos tcpdump nsenter tc
[ -x "$PANO_AGENT" ] || { fail "agent_pcapng: $PANO_AGENT is not built"; t_done; }
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG" ] || { skip "agent_pcapng: no cgroup2 mount in /proc/mounts"; t_done; }

netns_up || { fail "agent_pcapng: netns_up failed"; t_done; }
dns_up || { fail "agent_pcapng: knot did not start"; t_done; }

# ---- the cgroups and the kubelet log tree ---------------------------------------------------
HOSTCG=$CG/${T_PREFIX}-host
PODUID=5e1f0c2a-7d3b-4c9e-9a61-$(printf '%012d' $$)
CID=$(printf '%s' "$T_PREFIX-container" | sha256sum | cut -c1-64)
PODCG=$CG/${T_PREFIX}-kubepods/pod$PODUID/$CID
on_exit "rmdir '$HOSTCG' '$PODCG' '$CG/${T_PREFIX}-kubepods/pod$PODUID' '$CG/${T_PREFIX}-kubepods'"
mkdir -p "$HOSTCG" "$PODCG" || { fail "agent_pcapng: mkdir under $CG failed"; t_done; }
K8S=$T_TMP/k8s
mkdir -p "$K8S/var/log/pods/team-a_client-a_$PODUID/app" "$K8S/var/log/containers"
ln -s "../pods/team-a_client-a_$PODUID/app/0.log" "$K8S/var/log/containers/client-a_team-a_app-$CID.log"

# ---- the agent ------------------------------------------------------------------------------
# nsenter --net keeps the host's mounts (ip netns exec would remount /sys and hide cgroup2).
ip -n "$NS_NODE" link set lo up
nsenter --net="/run/netns/$NS_NODE" "$PANO_AGENT" --iface all --k8s-root "$K8S" \
	--write "$T_TMP/x.pcapng" --rotate-size 4k --stdout \
	>"$T_TMP/stdout.pcap" 2>"$T_TMP/agent.log" &
AGENT_PID=$!
on_exit "kill -KILL $AGENT_PID; wait $AGENT_PID"
if ! wait_for 15 tc_has_bpf "$NS_NODE" "$IF_CLI" || ! wait_for 5 tc_has_bpf "$NS_NODE" "$IF_SRV"; then
	fail "agent_pcapng: pano-agent did not attach: $(tail -5 "$T_TMP/agent.log")"
	t_done
fi
pass "agent_attached"

# dig_in PIDFILE CGDIR NAME: asks for NAME from the client namespace in a process placed in
# CGDIR, whose pid is appended to PIDFILE (ip netns exec execs, so the shell's pid is dig's).
dig_in() {
	sh -c 'echo $$ >>"$0"; echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" \
		dig +tries=1 +time=2 @"$3" "$4" A' "$1" "$2" "$NS_CLI" "$SRV4" "$3" >/dev/null 2>&1
}
N=4
for i in $(seq 1 $N); do
	dig_in "$T_TMP/host.pids" "$HOSTCG" "h$i.pano.test"
	dig_in "$T_TMP/pod.pids" "$PODCG" "p$i.pano.test"
done
# Enough traffic to rotate more than once (each file holds at most 4 KiB).
for i in $(seq 1 12); do nsx "$NS_CLI" dig +tries=1 +time=2 @"$SRV4" many.pano.test A >/dev/null 2>&1; done
sleep 1
bg_stop "$AGENT_PID" INT 10
check_eq agent_exit_status "$BG_RC" 0

# ---- the files ------------------------------------------------------------------------------
files=()
for k in $(seq 1 100); do [ -e "$T_TMP/x.pcapng.$k" ] && files+=("$T_TMP/x.pcapng.$k"); done
files+=("$T_TMP/x.pcapng")
if [ ${#files[@]} -ge 3 ]; then pass "pcapng_rotated (${#files[@]} files)"; else fail "pcapng_rotated: ${#files[@]} files"; fi
bad=""
for f in "${files[@]}"; do
	info=$(capinfos -M "$f" 2>&1)
	echo "$info" | grep -Eq '^File type:.*pcapng$' || bad+=" ${f##*/}:not-pcapng"
	for n in $(echo "$info" | awk '/^ +Name = / { print $3 }'); do
		case $n in "$IF_CLI" | "$IF_SRV" | br0) ;; *) bad+=" ${f##*/}:interface-$n" ;; esac
	done
	echo "$info" | grep -q 'Name = ' || bad+=" ${f##*/}:no-named-interface"
done
[ -z "$bad" ] && pass "pcapng_files_complete" || fail "pcapng_files_complete:$bad"

fields() {
	local f
	for f in "${files[@]}"; do
		tshark -n -r "$f" -Y "$1" -T fields -E separator='|' -e dns.qry.name \
			-e frame.interface_name -e frame.packet_flags_direction -e frame.comment 2>/dev/null
	done
}
fields 'dns.flags.response == 0' >"$T_TMP/queries.txt"
fields 'dns.flags.response == 1' >"$T_TMP/replies.txt"

# Every query: one copy (dedup), at the client's veth, inbound, with its dig's comment.
host_id=$(stat -c %i "$HOSTCG")
pod_id=$(stat -c %i "$PODCG")
want=""
mapfile -t hpids <"$T_TMP/host.pids"
mapfile -t ppids <"$T_TMP/pod.pids"
for i in $(seq 1 $N); do
	want+="h$i.pano.test|$IF_CLI|0x00000001|cgroup=$host_id pid=${hpids[$((i - 1))]} comm=dig"$'\n'
	want+="p$i.pano.test|$IF_CLI|0x00000001|cgroup=$pod_id pid=${ppids[$((i - 1))]} pod=team-a/client-a container=app comm=dig"$'\n'
done
got=$(grep -E '^[hp][0-9]+\.pano\.test\|' "$T_TMP/queries.txt")
check_eq "pcapng_query_comments" "$got" "${want%$'\n'}"

# Every reply: at the server's veth, inbound, sent by knotd from its own cgroup.
knot_id=$(stat -c %i "$CG$(sed -n 's/^0:://p' "/proc/$DNS_PID/cgroup")")
got=$(grep -E '^[hp][0-9]+\.pano\.test\|' "$T_TMP/replies.txt" | cut -d'|' -f2-4 | sort | uniq -c | awk '{$1 = $1; print}')
check_eq "pcapng_reply_comments" "$got" "$((2 * N)) $IF_SRV|0x00000001|cgroup=$knot_id pid=$DNS_PID comm=knotd"

# The classic pcap on stdout: still classic, and the same frames and timestamps.
capinfos -M "$T_TMP/stdout.pcap" 2>&1 | grep -Eq '^File type:.* pcap$' &&
	pass "stdout_is_classic_pcap" || fail "stdout_is_classic_pcap: $(capinfos -M "$T_TMP/stdout.pcap" 2>&1 | grep 'File type')"
for f in "${files[@]}"; do tcpdump -nn -S -tt -xx -r "$f" 2>/dev/null; done >"$T_TMP/ng.txt"
tcpdump -nn -S -tt -xx -r "$T_TMP/stdout.pcap" 2>/dev/null >"$T_TMP/classic.txt"
frames=$(grep -c '^[0-9]' "$T_TMP/classic.txt")
if [ "$frames" -gt $((4 * N)) ] && cmp -s "$T_TMP/ng.txt" "$T_TMP/classic.txt"; then
	pass "pcapng_same_frames_as_pcap ($frames frames)"
else
	fail "pcapng_same_frames_as_pcap: $frames classic frames, $(grep -c '^[0-9]' "$T_TMP/ng.txt") pcapng frames differ"
fi

# The agent's accounting: both outputs sent every frame, dropped none.
stats=$(grep 'pano-agent: stats:' "$T_TMP/agent.log")
check_eq "agent_file_counts" "$(echo "$stats" | grep -o 'file: sent [0-9]*, dropped [0-9]*')" "file: sent $frames, dropped 0"
check_eq "agent_stdout_counts" "$(echo "$stats" | grep -o 'stdout: sent [0-9]*, dropped [0-9]*')" "stdout: sent $frames, dropped 0"
t_done
