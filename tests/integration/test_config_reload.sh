#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_config_reload.sh - --config FILE changed under a running pano-agent and pano-analyzer.
#
# knot answers on port 53 in the server namespace; a generator in the client namespace sends
# UDP queries without pause to ports 53, 5300 and 5301 (the last two have no listener: the
# queries are captured all the same), each name saying its port, the phase and a sequence
# number. The agent captures the server's veth (--write, and PCAP-over-TCP to the analyzer);
# both programs read their port lists from a file laid out like a Kubernetes ConfigMap volume
# (FILE -> ..data/FILE, ..data -> ..TIMESTAMP). Between phases only port 53 is queried while a
# change is made and applied (a symlink swap as the kubelet does it, or an edit in place and
# SIGHUP). Checked, exactly, from the agent's file and the analyzer's records:
#   - every query to port 53, kept in every port set, is captured and logged once: nothing is
#     lost while the filter changes;
#   - in each phase, a port in the set has all its queries captured (or logged), a port out of it
#     none;
#   - a bad file (unknown key, bad value; by swap and by SIGHUP) is refused with one line naming
#     the file, the line and the problem, and the ports in force stay;
#   - config_reloads and config_rejected on /metrics; the snap length changes with no restart.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/dns.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"

need_root config_reload
need_cmd config_reload knotd kdig tshark curl
[ -x "$PANO_AGENT" ] && [ -x "$PANO_ANALYZER" ] ||
	{ fail "config_reload: the binaries are not built"; t_done; }

netns_up || { fail "config_reload: netns_up failed"; t_done; }
dns_up || { fail "config_reload: knot did not start"; t_done; }

# ---- ConfigMap-style directories -------------------------------------------------------------
# cm_init DIR FILE TEXT: the layout the kubelet makes; cm_swap DIR FILE TEXT: its update.
CM_N=0
cm_init() {
	mkdir -p "$1/..t0"
	printf '%b' "$3" >"$1/..t0/$2"
	ln -s ..t0 "$1/..data"
	ln -s "..data/$2" "$1/$2"
}
cm_swap() {
	local old new
	old=$(readlink "$1/..data")
	CM_N=$((CM_N + 1))
	new=..t$CM_N
	mkdir "$1/$new"
	printf '%b' "$3" >"$1/$new/$2"
	ln -sfn "$new" "$1/..data_tmp"
	mv -T "$1/..data_tmp" "$1/..data"
	rm -rf "${1:?}/$old"
}
ACM=$T_TMP/agent-cm ZCM=$T_TMP/analyzer-cm
mkdir -p "$ACM" "$ZCM"
cm_init "$ACM" agent.conf '# pano-agent\nports = 53,5300\n'
cm_init "$ZCM" analyzer.conf 'ports = 53,5300,5301\n'

# ---- the programs ------------------------------------------------------------------------------
PORT=$(free_port)
AMPORT=$(free_port)
ZMPORT=$(free_port)
agent_up "$NS_NODE" "$IF_SRV" "$PORT" --write "$T_TMP/agent.pcap" --config "$ACM/agent.conf" \
	--metrics "127.0.0.1:$AMPORT" -v || { fail "config_reload: pano-agent did not start"; t_done; }
bg_start ZPID "$T_TMP/analyzer.log" "$NS_NODE" "$PANO_ANALYZER" --pcap-connect "127.0.0.1:$PORT" \
	--config "$ZCM/analyzer.conf" --metrics "127.0.0.1:$ZMPORT" -o "$T_TMP/records.json" -v
wait_for 10 established "$NS_NODE" "$PORT" 1 || { fail "config_reload: the analyzer did not connect"; t_done; }

# ---- the generator -----------------------------------------------------------------------------
# Reads the phase from $PH each round: a phase ending in x (a change under way) queries port 53
# only. Logs "port name" for every query sent; writes the phase it is in to $PH.ack.
PH=$T_TMP/phase
echo 1 >"$PH"
cat >"$T_TMP/gen.py" <<'EOF'
import os, socket, struct, sys, time
ph, log, srv = sys.argv[1:4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
out = open(log, "w", buffering=1)
seq, cur = 0, None
def query(port, name):
    q = struct.pack(">HHHHHH", seq & 0xFFFF, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s.sendto(q, (srv, port))
    out.write("%d %s\n" % (port, name))
while True:
    p = open(ph).read().strip() or cur
    if p == "stop":
        break
    if p != cur:
        cur = p
        open(ph + ".ack", "w").write(p + "\n")
    seq += 1
    for port in ((53,) if p.endswith("x") else (53, 5300, 5301)):
        query(port, "p%d-%s-%d.pano.test" % (port, p, seq))
    try:
        while True:
            s.recv(4096)
    except BlockingIOError:
        pass
    time.sleep(0.003)
EOF
bg_start GEN "$T_TMP/gen.err" "$NS_CLI" /usr/bin/python3 "$T_TMP/gen.py" "$PH" "$T_TMP/sent.txt" "$SRV4"

set_phase() { echo "$1" >"$PH.new" && mv "$PH.new" "$PH"; }
# phase P: the generator moves to P and has sent some queries in it.
phase() {
	set_phase "$1"
	wait_for 10 grep -qx "$1" "$PH.ack" || fail "config_reload: the generator did not reach phase $1"
	local n0
	n0=$(wc -l <"$T_TMP/sent.txt")
	wait_for 10 sent_over $((n0 + 150))
}
sent_over() { [ "$(wc -l <"$T_TMP/sent.txt")" -gt "$1" ]; }
# count_lines FILE PATTERN: lines of FILE matching PATTERN (fixed string).
count_lines() { grep -cF -- "$2" "$1"; }
# wait_lines FILE PATTERN N: until FILE has at least N lines matching PATTERN.
wait_lines() { wait_for 15 lines_ge "$@"; }
lines_ge() { [ "$(count_lines "$1" "$2")" -ge "$3" ]; }
ALOG=$T_TMP/agent.log ZLOG=$T_TMP/analyzer.log
A_RELOADED="$ACM/agent.conf: settings reloaded"
Z_RELOADED="$ZCM/analyzer.conf: settings reloaded"

# Phase 1: agent 53,5300; analyzer 53,5300,5301.
phase 1
# Phase 2: the agent's file swapped to 53,5301 (as the kubelet does it).
phase 1x
cm_swap "$ACM" agent.conf 'ports = 53,5301\n'
wait_lines "$ALOG" "$A_RELOADED" 1 || fail "agent_reload_on_swap: no reload logged"
phase 2
# Phase 3: a file with an unknown key, swapped in: refused, 53,5301 stay.
phase 2x
cm_swap "$ACM" agent.conf 'ports = 53,5300\nbogus = 1\n'
want="pano-agent: error: $ACM/agent.conf:2: unknown key 'bogus'; keeping the settings in force"
if wait_lines "$ALOG" "$want" 1; then pass agent_bad_key_refused_one_line; else
	fail "agent_bad_key_refused_one_line: no '$want' in the log: $(grep -F agent.conf "$ALOG" | tail -2)"; fi
phase 3
# Phase 4: an edit in place with a bad value, then SIGHUP: refused, 53,5301 stay.
phase 3x
printf 'ports = 53,99999\n' >"$ACM/agent.conf"
kill -HUP "$AGENT_PID"
want="pano-agent: error: $ACM/agent.conf:1: ports = 53,99999: expected ports 1-65535, comma separated, at most 64; keeping the settings in force"
if wait_lines "$ALOG" "$want" 1; then pass agent_bad_value_refused_one_line; else
	fail "agent_bad_value_refused_one_line: no '$want' in the log: $(grep -F agent.conf "$ALOG" | tail -2)"; fi
phase 4
# Phase 5: an edit in place to 53,5300,5301, then SIGHUP; the analyzer's file swapped to 53,5301.
phase 4x
printf 'ports = 53,5300,5301\n' >"$ACM/agent.conf"
kill -HUP "$AGENT_PID"
cm_swap "$ZCM" analyzer.conf '# pano-analyzer\nports = 53,5301\n'
wait_lines "$ALOG" "$A_RELOADED (SIGHUP)" 1 || fail "agent_reload_on_sighup: no reload logged"
wait_lines "$ZLOG" "$Z_RELOADED" 1 || fail "analyzer_reload_on_swap: no reload logged"
phase 5
# Phase 6: the analyzer's file with a bad value, swapped in: refused, 53,5301 stay.
phase 5x
cm_swap "$ZCM" analyzer.conf 'ports = 53,5300\ndns-timeout = 3\n'
want="pano-analyzer: error: $ZCM/analyzer.conf:2: dns-timeout cannot be set in the file (it cannot change at run time): give --dns-timeout on the command line; keeping the settings in force"
if wait_lines "$ZLOG" "$want" 1; then pass analyzer_bad_file_refused_one_line; else
	fail "analyzer_bad_file_refused_one_line: no '$want' in the log: $(grep -F analyzer.conf "$ZLOG" | tail -2)"; fi
phase 6
# Phase 7: the analyzer's file edited in place to 53,5300, then SIGHUP.
phase 6x
printf 'ports = 53,5300\n' >"$ZCM/analyzer.conf"
kill -HUP "$ZPID"
wait_lines "$ZLOG" "$Z_RELOADED (SIGHUP)" 1 || fail "analyzer_reload_on_sighup: no reload logged"
phase 7
# Phase 8: the agent's snap length down to 60 bytes (frames cut: the analyzer is not checked).
phase 7x
cm_swap "$ACM" agent.conf 'ports = 53,5300,5301\nsnaplen = 60\n'
wait_lines "$ALOG" "$A_RELOADED" 3 || fail "agent_snaplen_reload: no reload logged"
phase 8
phase 8x
set_phase stop
gen_done() { ! pid_running "$GEN"; }
wait_for 10 gen_done || fail "config_reload: the generator did not stop"
bg_stop "$GEN" TERM 1

metric() { nsx "$NS_NODE" curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { print $2 }'; }
check_eq agent_config_reloads "$(metric "$AMPORT" pano_config_reloads_total)" 3
check_eq agent_config_rejected "$(metric "$AMPORT" pano_config_rejected_total)" 2
check_eq analyzer_config_reloads "$(metric "$ZMPORT" pano_analyzer_config_reloads_total)" 2
check_eq analyzer_config_rejected "$(metric "$ZMPORT" pano_analyzer_config_rejected_total)" 1
check_eq agent_errors_one_per_refusal "$(grep -c 'error:' "$ALOG")" 2
check_eq analyzer_errors_one_per_refusal "$(grep -c 'error:' "$ZLOG")" 1

sleep 1 # the last frames through the ring to the file and the stream
bg_stop "$AGENT_PID" INT 10
check_eq agent_exit_status "$BG_RC" 0
wait_for 10 bash -c "! ip netns exec $NS_NODE ss -Htn state established 'dport = :$PORT' | grep -q ."
bg_stop "$ZPID" INT 10
check_eq analyzer_exit_status "$BG_RC" 0

# ---- the counts --------------------------------------------------------------------------------
tshark -n -r "$T_TMP/agent.pcap" -d udp.port==5300,dns -d udp.port==5301,dns -Y 'udp && !icmp && !icmpv6 && dns.flags.response == 0' -T fields -e udp.dstport \
	-e dns.qry.name -e frame.cap_len >"$T_TMP/captured.txt" 2>/dev/null
/usr/bin/python3 - "$T_TMP/sent.txt" "$T_TMP/captured.txt" "$T_TMP/records.json" >"$T_TMP/counts.txt" <<'EOF'
import collections, json, sys
sent, cap, rec = (collections.Counter() for _ in range(3))
port53 = set()
for line in open(sys.argv[1]):
    port, name = line.split()
    sent[(int(port), name.split("-")[1])] += 1
    if port == "53":
        port53.add(name)
cut, cut_names = collections.Counter(), set()
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    port, name, caplen = int(f[0]), f[1] if len(f) > 1 else "", int(f[2]) if len(f) > 2 else 0
    if caplen == 60:
        cut[port] += 1
        continue
    cap[(port, name.split("-")[1])] += 1
    if port == 53:
        cut_names.add(name)
recnames = collections.Counter()
for line in open(sys.argv[3]):
    r = json.loads(line)
    q = r.get("query", "")
    if not q.startswith("p"):
        continue
    rec[(r["id_resp_p"], q.split("-")[1])] += 1
    recnames[q] += 1
phases = sorted({p for _, p in sent})
for port in (53, 5300, 5301):
    for p in phases:
        print("sent", port, p, sent[(port, p)])
        print("captured", port, p, cap[(port, p)])
        print("logged", port, p, rec[(port, p)])
    print("cut", port, 0, cut[port])
# port 53 in the analyzer: every name once, before the snap length change
early = {n for n in port53 if n.split("-")[1] not in ("7x", "8", "8x")}
print("logged53once", 0, 0, sum(1 for n in early if recnames[n] == 1))
print("logged53want", 0, 0, len(early))
EOF
val() { awk -v k="$1" -v port="$2" -v p="$3" '$1 == k && $2 == port && $3 == p { print $4 }' "$T_TMP/counts.txt"; }

# Port 53 is in every set: every query captured, through every change (phases 8 and 8x: cut).
all=0 got=0
for p in 1 1x 2 2x 3 3x 4 4x 5 5x 6 6x 7 7x; do
	all=$((all + $(val sent 53 "$p"))); got=$((got + $(val captured 53 "$p")))
done
cut53=$(val cut 53 0)
for p in 8 8x; do all=$((all + $(val sent 53 "$p"))); done
got=$((got + cut53))
check_eq "agent_port53_none_lost ($all queries)" "$got" "$all"
[ "$all" -gt 1000 ] && pass "agent_port53_enough_traffic" || fail "agent_port53_enough_traffic: $all"

# The agent: 5300 in phases 1, 5..8; 5301 in 2..8.
for p in 1 2 3 4 5 6 7; do
	for port in 5300 5301; do
		want=$(val sent "$port" "$p")
		case "$port:$p" in 5300:[234]) want=0 ;; 5301:1) want=0 ;; esac
		check_eq "agent_phase${p}_port$port" "$(val captured "$port" "$p")" "$want"
	done
done
check_eq agent_snaplen_5300 "$(val cut 5300 0)" "$(val sent 5300 8)"
check_eq agent_snaplen_5301 "$(val cut 5301 0)" "$(val sent 5301 8)"
check_eq agent_snaplen_nothing_else "$(val captured 5300 8)$(val captured 5301 8)" 00

# The analyzer: 53,5300,5301 in 1..4; 53,5301 in 5, 6; 53,5300 in 7 (of what the agent took).
for p in 1 2 3 4 5 6 7; do
	for port in 5300 5301; do
		want=$(val captured "$port" "$p")
		case "$port:$p" in 5300:[56]) want=0 ;; 5301:7) want=0 ;; esac
		check_eq "analyzer_phase${p}_port$port" "$(val logged "$port" "$p")" "$want"
	done
done
check_eq analyzer_port53_each_once "$(val logged53once 0 0)" "$(val logged53want 0 0)"
t_done
