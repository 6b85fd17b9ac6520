#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_agent_tcp_head.sh - pano-agent --tcp-head on real TLS and HTTP traffic.
#
# openssl s_server (TLS 1.2, -WWW) and a Python HTTP server run in the server namespace; curl in
# the client namespace downloads a 4 MiB file over TLS from the head port and a 1 MiB file over
# plain HTTP from a port captured whole. pano-agent (TC) and tcpdump both capture the server's
# veth on the node. Checked:
#   - the agent's file holds the whole TLS 1.2 handshake (tshark decodes Client Hello, Server
#     Hello, Certificate with the server's name, Server Key Exchange, Server Hello Done, Client
#     Key Exchange), the SYNs and FINs, and a small fraction of the transfer's bytes;
#   - an oracle (this script's own model of the rule, run on tcpdump's frames) picks exactly the
#     frames the agent kept, and what tcpdump saw beyond them is exactly the agent's
#     tcp_head_skipped count and bytes; matched = captured + copies + head skipped + drops;
#   - the port captured whole is: the agent's frames are tcpdump's;
#   - the head table's counters (connections, closed, no mid-stream start) and the stats line;
#   - --config: tcp-head changed at run time moves the head to the other port (then captured for
#     its head only) and the old head port out of the filter.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"

need_root agent_tcp_head
need_cmd agent_tcp_head openssl curl tshark tcpdump
[ -x "$PANO_AGENT" ] || { fail "agent_tcp_head: $PANO_AGENT is not built"; t_done; }
PY=/usr/bin/python3
HEAD=16384
BIG=$((4 << 20)) MID=$((1 << 20))

netns_up || { fail "agent_tcp_head: netns_up failed"; t_done; }
ip -n "$NS_NODE" link set lo up
"$PANO_ROOT/scripts/make-certs.sh" "$T_TMP/certs" >/dev/null ||
	{ fail "agent_tcp_head: make-certs.sh failed"; t_done; }
mkdir -p "$T_TMP/www"
head -c "$BIG" /dev/urandom >"$T_TMP/www/big.bin"
head -c "$MID" /dev/urandom >"$T_TMP/www/mid.bin"

TLSP=$(free_port) HTTPP=$(free_port)
while [ "$HTTPP" = "$TLSP" ]; do HTTPP=$(free_port); done
(cd "$T_TMP/www" && exec ip netns exec "$NS_SRV" openssl s_server -quiet -WWW -tls1_2 \
	-accept "$TLSP" -cert "$T_TMP/certs/server.crt" -key "$T_TMP/certs/server.key") \
	>"$T_TMP/s_server.log" 2>&1 &
SSL_PID=$!
on_exit "kill -KILL $SSL_PID"
bg_start HTTP_PID "$T_TMP/http.log" "$NS_SRV" "$PY" -m http.server "$HTTPP" --bind "$SRV4" \
	--directory "$T_TMP/www"
wait_for 10 listening "$NS_SRV" "$TLSP" && wait_for 10 listening "$NS_SRV" "$HTTPP" ||
	{ fail "agent_tcp_head: the servers did not start: $(cat "$T_TMP/s_server.log" "$T_TMP/http.log")"; t_done; }

# get_tls FILE, get_http FILE: download through the client namespace; prints the bytes received.
get_tls() {
	nsx "$NS_CLI" curl -sS --max-time 30 --cacert "$T_TMP/certs/ca.crt" --tlsv1.2 --tls-max 1.2 \
		-o /dev/null -w '%{size_download}' "https://$SRV4:$TLSP/$1"
}
get_http() {
	nsx "$NS_CLI" curl -sS --max-time 30 -o /dev/null -w '%{size_download}' "http://$SRV4:$HTTPP/$1"
}
metric() { nsx "$NS_NODE" curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'; }
# tcpdump_up NAME: tcpdump on the server's veth, both ports, cut where the agent cuts (9216).
tcpdump_up() {
	bg_start TD_PID "$T_TMP/$1.log" "$NS_NODE" tcpdump -i "$IF_SRV" --immediate-mode -n -U -s 9216 \
		-B 16384 -w "$T_TMP/$1.pcap" "tcp port $TLSP or tcp port $HTTPP"
	wait_for 10 grep -q 'listening on' "$T_TMP/$1.log"
}
# td_dropped NAME: packets the kernel dropped on tcpdump (it says so when it stops).
td_dropped() { awk '/packets dropped by kernel/ { print $1 }' "$T_TMP/$1.log"; }
# fields FILE PORT: one line per frame of PORT: src sport dst dport seq ack flags tcp.len frame.len
fields() {
	tshark -n -r "$1" -Y "tcp.port == $2" -T fields -E separator=' ' -e ip.src -e tcp.srcport \
		-e ip.dst -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags -e tcp.len \
		-e frame.len 2>/dev/null
}

# The oracle: the head rule of bpf/tcphead.bpf.h written again, run on tcpdump's frames in the
# order tcpdump saw them. Prints "kept N skipped N skipped_bytes N differ N", then up to five
# frames where the agent's choice differs from the rule's.
cat >"$T_TMP/oracle.py" <<'EOF'
import collections, sys
ALL, AGENT, LIMIT = sys.argv[1], sys.argv[2], int(sys.argv[3])
M = 1 << 32
FIN, SYN, RST, ACK = 1, 2, 4, 16

def frames(path):
    out = []
    for line in open(path):
        f = line.split()
        if len(f) == 9:
            out.append((f[0], int(f[1]), f[2], int(f[3]), int(f[4]), int(f[5]), int(f[6], 16),
                        int(f[7]), int(f[8])))
    return out

table = {}  # connection -> {"base": [b0, b1], "known": [..], "fin": [..]}
def decide(fr):
    src, sport, dst, dport, seq, ack, flags, tlen, flen = fr
    ends = sorted([(src, sport), (dst, dport)])
    key, side = tuple(ends), ends.index((src, sport))
    c = table.get(key)
    if flags & RST:
        table.pop(key, None)
        return True
    if flags & SYN:
        if c is None:
            c = table[key] = {"base": [0, 0], "known": [False, False], "fin": [False, False]}
        elif not flags & ACK:
            c["known"][1 - side] = False
            c["fin"] = [False, False]
        c["base"][side], c["known"][side] = (seq + 1) % M, True
        return True
    if flags & FIN:
        if c is not None:
            c["fin"][side] = True
            if c["fin"][1 - side]:
                del table[key]
        return True
    if tlen == 0:
        return not (c and flags & ACK and c["known"][1 - side] and
                    (ack - c["base"][1 - side]) % M > LIMIT)
    if c is None:
        c = table[key] = {"base": [0, 0], "known": [False, False], "fin": [False, False]}
    if not c["known"][side]:
        c["base"][side], c["known"][side] = seq, True
        return True
    return (seq - c["base"][side]) % M < LIMIT

kept, skipped, skipped_bytes = collections.Counter(), 0, 0
for fr in frames(ALL):
    if decide(fr):
        kept[fr] += 1
    else:
        skipped += 1
        skipped_bytes += fr[8]
agent = collections.Counter(frames(AGENT))
differ = (kept - agent) + (agent - kept)
print("kept %d skipped %d skipped_bytes %d differ %d" %
      (sum(kept.values()), skipped, skipped_bytes, sum(differ.values())))
for fr in list(differ)[:5]:
    print("  %s: rule keeps %d, agent kept %d" % (fr, kept[fr], agent[fr]))
EOF

# ---- phase 1: --tcp-head on the command line -------------------------------------------------
tcpdump_up td1 || { fail "agent_tcp_head: tcpdump did not start: $(cat "$T_TMP/td1.log")"; t_done; }
PORT=$(free_port) MP=$(free_port)
agent_up "$NS_NODE" "$IF_SRV" "$PORT" --write "$T_TMP/agent1.pcap" --ports "$HTTPP" \
	--tcp-head "$TLSP:16K" --metrics "127.0.0.1:$MP" ||
	{ fail "agent_tcp_head: pano-agent did not start"; t_done; }
check_eq tls_transfer_complete "$(get_tls big.bin)" "$BIG"
check_eq http_transfer_complete "$(get_http mid.bin)" "$MID"
sleep 1
declare -A m
for k in packets_matched packets_captured dedup_copies ring_full_drops copy_errors tcp_head_skipped \
	tcp_head_skipped_bytes tcp_head_connections tcp_head_midstream tcp_head_closed; do
	m[$k]=$(metric "$MP" "pano_agent_bpf_${k}_total")
done
bg_stop "$AGENT_PID" INT 10
check_eq agent_exit_status "$BG_RC" 0
bg_stop "$TD_PID" INT 10
check_eq tcpdump_dropped_none "$(td_dropped td1)" 0

# The handshake, decoded by tshark from the agent's file.
hs() { tshark -n -r "$T_TMP/agent1.pcap" -d "tcp.port==$TLSP,tls" -Y "$1" 2>/dev/null | wc -l; }
for t in "1:client_hello" "2:server_hello" "11:certificate" "12:server_key_exchange" \
	"14:server_hello_done" "16:client_key_exchange"; do
	n=$(hs "tls.handshake.type == ${t%%:*}")
	[ "$n" -ge 1 ] && pass "tls_${t#*:}_captured" || fail "tls_${t#*:}_captured: tshark finds none in the agent's file"
done
n=$(hs 'x509sat.uTF8String == "pano-analyzer" || x509sat.printableString == "pano-analyzer"')
[ "$n" -ge 1 ] && pass tls_server_certificate_decoded || fail "tls_server_certificate_decoded: no certificate naming pano-analyzer"
n=$(hs "tcp.port == $TLSP && tcp.flags.syn == 1")
[ "$n" -eq 2 ] && pass "tls_syns_captured" || fail "tls_syns_captured: $n SYN segments, want SYN and SYN-ACK"
n=$(hs "tcp.port == $TLSP && tcp.flags.fin == 1")
[ "$n" -ge 2 ] && pass "tls_fins_captured ($n)" || fail "tls_fins_captured: $n FIN segments, want both"

# Far fewer bytes than the transfer: the head and at most a segment (GSO frame) past it each way.
fields "$T_TMP/agent1.pcap" "$TLSP" >"$T_TMP/agent1.tls"
fields "$T_TMP/td1.pcap" "$TLSP" >"$T_TMP/td1.tls"
abytes=$(awk '{ s += $9 } END { print s + 0 }' "$T_TMP/agent1.tls")
tbytes=$(awk '{ s += $9 } END { print s + 0 }' "$T_TMP/td1.tls")
log "TLS port: agent kept $(wc -l <"$T_TMP/agent1.tls") frames, $abytes bytes; tcpdump saw $(wc -l <"$T_TMP/td1.tls") frames, $tbytes bytes"
[ "$tbytes" -gt "$BIG" ] && [ "$abytes" -gt 0 ] && [ "$abytes" -lt $((BIG / 16)) ] &&
	pass "tls_head_only ($abytes of $tbytes bytes)" ||
	fail "tls_head_only: the agent kept $abytes frame bytes of tcpdump's $tbytes (want under $((BIG / 16)))"

# The rule, applied to tcpdump's frames, keeps exactly the agent's; the rest is the skip count.
read -r _ okept _ oskip _ oskipb _ odiff < <($PY "$T_TMP/oracle.py" "$T_TMP/td1.tls" "$T_TMP/agent1.tls" "$HEAD" | tee "$T_TMP/oracle1.txt")
check_eq tls_oracle_same_frames "$odiff" 0
[ "$odiff" = 0 ] || sed 's/^/# /' "$T_TMP/oracle1.txt" >&2
check_eq tls_skipped_count "${m[tcp_head_skipped]}" "$oskip"
check_eq tls_skipped_bytes "${m[tcp_head_skipped_bytes]}" "$oskipb"
[ "$oskip" -gt 0 ] && pass "tls_bulk_skipped ($oskip segments)" || fail "tls_bulk_skipped: nothing was left out"
check_eq accounting_matched \
	"${m[packets_matched]}" \
	"$((m[packets_captured] + m[dedup_copies] + m[tcp_head_skipped] + m[ring_full_drops] + m[copy_errors]))"
check_eq head_table_connections "${m[tcp_head_connections]}" 1
check_eq head_table_closed "${m[tcp_head_closed]}" 1
check_eq head_table_midstream "${m[tcp_head_midstream]}" 0
line=$(grep 'stats:' "$T_TMP/agent.log")
case $line in
*"head skipped ${m[tcp_head_skipped]} (${m[tcp_head_skipped_bytes]} bytes)"*) pass stats_line_head_skipped ;;
*) fail "stats_line_head_skipped: '$line'" ;;
esac

# The port without a head limit is captured whole.
fields "$T_TMP/agent1.pcap" "$HTTPP" | sort >"$T_TMP/agent1.http"
fields "$T_TMP/td1.pcap" "$HTTPP" | sort >"$T_TMP/td1.http"
hb=$(awk '{ s += $8 } END { print s + 0 }' "$T_TMP/agent1.http")
if cmp -s "$T_TMP/agent1.http" "$T_TMP/td1.http" && [ "$hb" -ge "$MID" ]; then
	pass "whole_port_captured_whole ($(wc -l <"$T_TMP/agent1.http") frames, $hb payload bytes)"
else
	fail "whole_port_captured_whole: agent $(wc -l <"$T_TMP/agent1.http") frames, tcpdump $(wc -l <"$T_TMP/td1.http"), $hb payload bytes"
fi

# ---- phase 2: tcp-head in --config, changed at run time -------------------------------------
printf 'ports = %s\ntcp-head = %s:16K\n' "$HTTPP" "$TLSP" >"$T_TMP/agent.conf"
tcpdump_up td2 || { fail "agent_tcp_head: tcpdump did not start again"; t_done; }
PORT=$(free_port) MP=$(free_port)
agent_up "$NS_NODE" "$IF_SRV" "$PORT" --write "$T_TMP/agent2.pcap" --config "$T_TMP/agent.conf" \
	--metrics "127.0.0.1:$MP" -v || { fail "agent_tcp_head: pano-agent did not start with --config"; t_done; }
check_eq config_tls_transfer "$(get_tls big.bin)" "$BIG"
sleep 0.5
s1=$(metric "$MP" pano_agent_bpf_tcp_head_skipped_total)
[ "$s1" -gt 0 ] && pass "config_tcp_head_applied ($s1 skipped)" || fail "config_tcp_head_applied: nothing skipped"
# The head moves to the HTTP port; the TLS port leaves the filter.
printf 'ports = 53\ntcp-head = %s:8K\n' "$HTTPP" >"$T_TMP/agent.conf.new"
mv "$T_TMP/agent.conf.new" "$T_TMP/agent.conf"
wait_for 10 grep -q "tcp-head $HTTPP:8192" "$T_TMP/agent.log" && pass config_reloaded ||
	fail "config_reloaded: no reload line naming tcp-head $HTTPP:8192: $(tail -3 "$T_TMP/agent.log")"
check_eq config_http_transfer "$(get_http mid.bin)" "$MID"
check_eq config_tls_transfer_after "$(get_tls big.bin)" "$BIG"
sleep 0.5
s2=$(metric "$MP" pano_agent_bpf_tcp_head_skipped_total)
bg_stop "$AGENT_PID" INT 10
bg_stop "$TD_PID" INT 10
streams() { tshark -n -r "$1" -Y "tcp.port == $2 && tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l; }
check_eq config_tls_port_left_filter "$(streams "$T_TMP/agent2.pcap" "$TLSP")/$(streams "$T_TMP/td2.pcap" "$TLSP")" 1/2
fields "$T_TMP/agent2.pcap" "$HTTPP" >"$T_TMP/agent2.http"
fields "$T_TMP/td2.pcap" "$HTTPP" >"$T_TMP/td2.http"
read -r _ _ _ oskip _ _ _ odiff < <($PY "$T_TMP/oracle.py" "$T_TMP/td2.http" "$T_TMP/agent2.http" 8192)
check_eq config_http_head_oracle "$odiff" 0
check_eq config_http_skipped "$((s2 - s1))" "$oskip"
hb=$(awk '{ s += $9 } END { print s + 0 }' "$T_TMP/agent2.http")
[ "$hb" -lt $((MID / 4)) ] && [ "$oskip" -gt 0 ] && pass "config_http_head_only ($hb bytes)" ||
	fail "config_http_head_only: $hb bytes kept of a $MID-byte transfer, $oskip skipped"
t_done
