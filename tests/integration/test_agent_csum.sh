#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_csum.sh - checksum offload is known, not guessed: a real pano-agent on the client's
# bridge port (a veth) streams to pano-analyzer --listen while dig asks knot over UDP and TCP.
# Every such frame leaves its socket with CHECKSUM_PARTIAL (the veth offloads checksums). With
# the checksum state (Linux 6.3+): the agent flags them, the analyzer counts exactly the flagged
# frames as l4_csum_offload and none as l4_csum_bad. With the state turned off
# (PANO_NO_CSUM_STATE=1, what an older kernel gets) the programs still load, flag nothing, and
# the analyzer's own pseudo-header test keeps the weird count at 0.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"

A=$PANO_BUILD/pano-analyzer
G=$PANO_BUILD/pano-agent
need_root agent_csum
need_cmd agent_csum dig knotd curl
for b in "$A" "$G"; do [ -x "$b" ] || { fail "agent_csum: $b is not built"; t_done; }; done

netns_up || { fail "agent_csum_netns: could not build the test hosts"; t_done; }
dns_up || { fail "agent_csum_dns: knotd did not start"; t_done; }
ip -n "$NS_NODE" link set lo up

stop() {	# stop NAME: SIGTERM and wait up to 10 s
	local p i; p=$(cat "$T_TMP/$1.pid")
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
# stat FILE NAME: a counter from an analyzer's --stats (0 when not listed)
stat() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }
# metric URL NAME: a sample from a /metrics page
metric() {
	nsx "$NS_NODE" curl -s "$1/metrics" | awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}

# run TAG [ENV...]: an agent (with ENV) and an analyzer; 20 UDP and 5 TCP queries; both
# stopped once the analyzer has every frame the agent sent. Sets CAPTURED, PARTIAL (frames the
# agent flagged), FRAMES, OFFLOAD, BAD (the analyzer's).
run() {
	local tag=$1 port gm i; shift
	port=$(free_port) gm=$(free_port)
	ns_start "an-$tag" "$A" -v --stats -o "$T_TMP/$tag.json" --listen "127.0.0.1:$port"
	ns_start "ag-$tag" env "$@" "$G" -i "$IF_CLI" --connect "127.0.0.1:$port" \
		--metrics "127.0.0.1:$gm"
	wait_for 10 grep -q "agent .* connected" "$T_TMP/an-$tag.err" ||
		{ fail "agent_csum_${tag}_connect: no agent connected"; return 1; }
	for i in $(seq 20); do
		nsx "$NS_CLI" dig +tries=1 +timeout=2 @"$SRV4" "u$i.$tag.pano.test" A >/dev/null
	done
	for i in $(seq 5); do
		nsx "$NS_CLI" dig +tcp +tries=1 +timeout=2 @"$SRV4" "t$i.$tag.pano.test" A >/dev/null
	done
	sleep 0.5
	CAPTURED=$(metric "127.0.0.1:$gm" pano_agent_bpf_packets_captured_total)
	PARTIAL=$(metric "127.0.0.1:$gm" pano_agent_frames_csum_partial_total)
	# the stream delivers within a batch interval; wait for every captured frame
	wait_for 10 sh -c "kill -USR1 $(cat "$T_TMP/an-$tag.pid"); sleep 0.2;
		awk '\$1 == \"frames\" { v = \$2 } END { exit !(v + 0 >= $CAPTURED) }' \
		$T_TMP/an-$tag.err"
	stop "ag-$tag"
	stop "an-$tag"
	FRAMES=$(awk '$1 == "frames" { v = $2 } END { print v + 0 }' "$T_TMP/an-$tag.err")
	OFFLOAD=$(stat "$T_TMP/an-$tag.err" l4_csum_offload)
	BAD=$(stat "$T_TMP/an-$tag.err" l4_csum_bad)
	log "$tag: captured $CAPTURED, flagged partial $PARTIAL; analyzer frames $FRAMES," \
		"l4_csum_offload $OFFLOAD, l4_csum_bad $BAD"
}

# 1. with the checksum state
if [ -z "$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
	grep -m1 "FUNC 'bpf_cast_to_kern_ctx'")" ]; then
	skip "agent_csum_state: this kernel has no bpf_cast_to_kern_ctx (6.3+)"
elif run state; then
	check "agent_csum_frames_captured" test "$CAPTURED" -ge 50
	check_eq "agent_csum_analyzer_has_all" "$FRAMES" "$CAPTURED"
	# queries from the client and knot's answers were all sent through a veth
	check_eq "agent_csum_all_partial" "$PARTIAL" "$CAPTURED"
	check_eq "agent_csum_offload_is_flagged" "$OFFLOAD" "$PARTIAL"
	check_eq "agent_csum_no_bad" "$BAD" 0
	check "agent_csum_records" test "$(grep -c '"query":"[ut][0-9]*\.state\.pano\.test"' \
		"$T_TMP/state.json")" -eq 25
fi

# 2. without it (the fallback programs)
if run nostate PANO_NO_CSUM_STATE=1; then
	check "agent_csum_fallback_captured" test "$CAPTURED" -ge 50
	check_eq "agent_csum_fallback_analyzer_has_all" "$FRAMES" "$CAPTURED"
	check_eq "agent_csum_fallback_none_flagged" "$PARTIAL" 0
	check_eq "agent_csum_fallback_no_bad" "$BAD" 0
	# the analyzer still knows them by their pseudo-header-only checksums. A segment the
	# kernel itself completed (a RST to a socket already gone, a retransmission checksummed in
	# software: both happen under load) is right and neither offload nor bad: at most a few.
	check "agent_csum_fallback_offload_by_content ($OFFLOAD of $CAPTURED)" \
		test "$OFFLOAD" -le "$CAPTURED" -a "$OFFLOAD" -ge $((CAPTURED - 3))
fi
t_done
