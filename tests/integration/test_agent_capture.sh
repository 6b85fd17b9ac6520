#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_capture.sh - pano-agent against tcpdump on a real interface.
#
# knot serves a zone in the server namespace; pano-agent (TC) and tcpdump both capture the
# server's pod veth on the node. dig and kdig query over UDP and TCP, IPv4 and IPv6, including
# answers that are IP-fragmented. Then:
#   - the agent's --write file holds exactly tcpdump's frames (port 53 plus IP fragments), byte
#     for byte, as multisets, with queries and replies, fragments and TCP among them;
#   - two PCAP-over-TCP clients (tcpdump -r - and tshark -r -) read the live stream: the same
#     frames again;
#   - SIGINT stops the agent with status 0 and leaves no filter or clsact qdisc;
#   - in XDP mode (ingress only) the agent's frames are tcpdump's inbound frames (-Q in), and
#     stopping it removes the XDP program;
#   - after the test, no namespace, process or temporary directory of it remains (this script
#     runs itself as an inner test and checks that from outside).
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"

# ---- outer: run the test, then look for leftovers ------------------------------------------
if [ "${1:-}" != --inner ]; then
	need_root agent_capture
	need_cmd agent_capture knotd kdig dig tcpdump tshark python3 tc
	[ -x "$PANO_AGENT" ] || { fail "agent_capture: $PANO_AGENT is not built"; t_done; }
	track=$T_TMP/track
	: >"$track"
	"$0" --inner "$track" &
	inner=$!
	wait "$inner"
	rc=$?
	left=""
	ip netns list | grep -q "^pt${inner}" && left+=" namespaces:$(ip netns list | grep "^pt${inner}" | tr '\n' ' ')"
	while read -r what val; do
		case $what in
		pid) [ -d "/proc/$val" ] && left+=" process:$val($(tr '\0' ' ' <"/proc/$val/cmdline"))" ;;
		dir) [ -e "$val" ] && left+=" dir:$val" ;;
		esac
	done <"$track"
	[ -z "$left" ] && pass "agent_capture_nothing_left" || fail "agent_capture_nothing_left:$left"
	[ "$rc" -eq 0 ] || T_FAILED=1
	t_done
fi

# ---- inner ---------------------------------------------------------------------------------
E2E_PIDFILE=$T_TMP/pids
track=$2
echo "dir $T_TMP" >>"$track"
record_pids() { local p; for p in $(cat "$E2E_PIDFILE" 2>/dev/null); do echo "pid $p" >>"$track"; done; }
on_exit record_pids

netns_up || { fail "agent_capture: netns_up failed"; t_done; }
dns_up || { fail "agent_capture: knot did not start"; t_done; }
echo "pid $DNS_PID" >>"$track"

# Both captures see port 53 and every IP fragment (later fragments carry no port).
FILTER='port 53 or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] = 44)'
bg_start TD_PID "$T_TMP/tcpdump.log" "$NS_NODE" tcpdump -i "$IF_SRV" --immediate-mode -n -U -s 0 -B 8192 \
	-w "$T_TMP/tcpdump.pcap" "$FILTER"
wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log" ||
	{ fail "agent_capture: tcpdump did not start: $(cat "$T_TMP/tcpdump.log")"; t_done; }

PORT=$(free_port)
agent_up "$NS_NODE" "$IF_SRV" "$PORT" --write "$T_TMP/agent.pcap" --snaplen 9216 ||
	{ fail "agent_capture: pano-agent did not start"; t_done; }
pass "agent_attached"

# Two live PCAP-over-TCP readers.
bg_start RD1_PID "$T_TMP/stream-tcpdump.log" "$NS_NODE" bash -c \
	"exec tcpdump -n -r - -w '$T_TMP/stream.pcap' </dev/tcp/127.0.0.1/$PORT"
# tshark refuses a socket on standard input: the stream goes through a FIFO.
mkfifo "$T_TMP/stream.fifo"
bg_start RD2_PID "$T_TMP/stream-cat.log" "$NS_NODE" bash -c \
	"exec cat </dev/tcp/127.0.0.1/$PORT >'$T_TMP/stream.fifo'"
bg_start RD3_PID "$T_TMP/stream-tshark.txt" - bash -c \
	"exec tshark -n -r '$T_TMP/stream.fifo' -T fields -e frame.len -e dns.qry.name 2>'$T_TMP/stream-tshark.err'"
wait_for 10 established "$NS_NODE" "$PORT" 2 || fail "pcap_over_tcp_connect: readers did not connect"
sleep 1	# let the agent accept both and send them the global header

# The traffic: every query type over UDP v4 (EDNS 4096, so big answers fragment), then v6,
# TCP both ways, the big names with DNSSEC records, and BIND's dig for variety.
q() { nsx "$NS_CLI" kdig +timeout=2 +retry=0 "$@" >/dev/null 2>&1; }
for qq in "${DNS_QUERIES[@]}"; do
	set -- $qq
	q +bufsize=4096 @"$SRV4" "$1" "$2"
done
for qq in "www.pano.test AAAA" "big.pano.test TXT" "many.pano.test A" "nothere.pano.test A"; do
	set -- $qq
	q +bufsize=4096 @"$SRV6" "$1" "$2"
	q +tcp @"$SRV4" "$1" "$2"
	q +tcp @"$SRV6" "$1" "$2"
done
q +bufsize=4096 +dnssec @"$SRV4" big.pano.test TXT
q +bufsize=4096 +dnssec @"$SRV6" pano.test DNSKEY
nsx "$NS_CLI" dig +tries=1 +time=2 +bufsize=4096 @"$SRV4" many.pano.test A >/dev/null 2>&1
nsx "$NS_CLI" dig +tries=1 +time=2 +tcp @"$SRV6" txt.pano.test TXT >/dev/null 2>&1
nsx "$NS_CLI" ping -c 2 -i 0.2 -q "$SRV4" >/dev/null 2>&1	# not DNS: neither capture keeps it
sleep 1

bg_stop "$AGENT_PID" INT 10
check_eq agent_exit_status "$BG_RC" 0
wait_for 5 tc_clean "$NS_NODE" "$IF_SRV" && pass agent_detached ||
	fail "agent_detached: left on $IF_SRV: $(tc -n "$NS_NODE" qdisc show dev "$IF_SRV" | grep clsact) $(tc -n "$NS_NODE" filter show dev "$IF_SRV" ingress)"
bg_stop "$TD_PID" INT 10
bg_stop "$RD1_PID" TERM 10
rd1=$BG_RC
bg_stop "$RD2_PID" TERM 10
bg_stop "$RD3_PID" TERM 10
rd2=$BG_RC

# ---- compare -------------------------------------------------------------------------------
agent_n=$($PCAP_FRAMES count "$T_TMP/agent.pcap") || agent_n=0
td_n=$($PCAP_FRAMES count "$T_TMP/tcpdump.pcap") || td_n=0
log "agent wrote $agent_n frames, tcpdump $td_n"
if out=$($PCAP_FRAMES cmp "$T_TMP/agent.pcap" "$T_TMP/tcpdump.pcap" 2>&1) && [ "$agent_n" -gt 0 ]; then
	pass "capture_matches_tcpdump ($agent_n frames)"
else
	fail "capture_matches_tcpdump: agent vs tcpdump: $out"
fi
check "capture_whole_frames" $PCAP_FRAMES full "$T_TMP/agent.pcap"

# What the frames hold, counted by tshark on the agent's file.
count() { tshark -n -r "$T_TMP/agent.pcap" -Y "$1" 2>/dev/null | wc -l; }
for want in "dns.flags.response == 0 && ip:queries_v4" "dns.flags.response == 1 && ip:replies_v4" \
	"dns && ipv6:dns_v6" "tcp.flags.syn == 1:tcp_syn" "tcp.flags.fin == 1:tcp_fin" \
	"dns && tcp:dns_over_tcp" "ip.flags.mf == 1 || ip.frag_offset > 0:fragments_v4" \
	"ipv6.fragment:fragments_v6" "dns.qry.name == \"big.pano.test\" && dns.flags.response == 1:big_answer_reassembled" \
	"icmp:no_icmp"; do
	n=$(count "${want%:*}")
	name=${want##*:}
	if [ "$name" = no_icmp ]; then
		check_eq "capture_$name" "$n" 0
	elif [ "$n" -gt 0 ]; then
		pass "capture_$name ($n)"
	else
		fail "capture_$name: no frame matches '${want%:*}'"
	fi
done

# The live readers saw the same stream.
if out=$($PCAP_FRAMES cmp "$T_TMP/stream.pcap" "$T_TMP/agent.pcap" 2>&1) && [ "$rd1" -eq 0 ]; then
	pass "pcap_over_tcp_tcpdump"
else
	fail "pcap_over_tcp_tcpdump: tcpdump -r - status $rd1: $out $(tail -2 "$T_TMP/stream-tcpdump.log")"
fi
ts_n=$(grep -c . "$T_TMP/stream-tshark.txt")
ts_big=$(grep -c 'big.pano.test' "$T_TMP/stream-tshark.txt")
if [ "$rd2" -eq 0 ] && [ "$ts_n" -eq "$agent_n" ] && [ "$ts_big" -gt 0 ]; then
	pass "pcap_over_tcp_tshark ($ts_n frames)"
else
	fail "pcap_over_tcp_tshark: status $rd2, $ts_n frames (want $agent_n), $ts_big for big.pano.test: $(tail -2 "$T_TMP/stream-tshark.err")"
fi

# ---- XDP mode: ingress only, so compare with tcpdump's inbound frames ---------------------
# (On the node's veth, ingress is what the server sends: the replies and their fragments.)
xdp_attached() { ip -n "$NS_NODE" link show dev "$IF_SRV" | grep -q 'prog/xdp'; }
bg_start TDX_PID "$T_TMP/tcpdump-xdp.log" "$NS_NODE" tcpdump -i "$IF_SRV" -Q in --immediate-mode -n -U \
	-s 0 -B 8192 -w "$T_TMP/tcpdump-xdp.pcap" "$FILTER"
wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump-xdp.log" || fail "xdp: tcpdump did not start"
bg_start AGX_PID "$T_TMP/agent-xdp.log" "$NS_NODE" "$PANO_AGENT" --iface "$IF_SRV" --mode xdp \
	--snaplen 9216 --write "$T_TMP/agent-xdp.pcap"
if wait_for 15 xdp_attached; then
	pass agent_xdp_attached
	for qq in "www.pano.test A" "big.pano.test TXT" "many.pano.test A" "nothere.pano.test AAAA"; do
		set -- $qq
		q +bufsize=4096 @"$SRV4" "$1" "$2"
		q +bufsize=4096 @"$SRV6" "$1" "$2"
		q +tcp @"$SRV4" "$1" "$2"
	done
	sleep 1
	bg_stop "$AGX_PID" INT 10
	check_eq agent_xdp_exit_status "$BG_RC" 0
	bg_stop "$TDX_PID" INT 10
	xn=$($PCAP_FRAMES count "$T_TMP/agent-xdp.pcap" 2>/dev/null) || xn=0
	if out=$($PCAP_FRAMES cmp "$T_TMP/agent-xdp.pcap" "$T_TMP/tcpdump-xdp.pcap" 2>&1) && [ "$xn" -gt 0 ]; then
		pass "capture_xdp_matches_tcpdump_inbound ($xn frames)"
	else
		fail "capture_xdp_matches_tcpdump_inbound: $out"
	fi
	xdp_attached && fail "agent_xdp_detached: an XDP program is left on $IF_SRV" || pass agent_xdp_detached
else
	fail "agent_xdp_attached: no XDP program on $IF_SRV: $(tail -3 "$T_TMP/agent-xdp.log")"
fi
t_done
