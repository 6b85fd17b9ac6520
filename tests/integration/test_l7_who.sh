#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_l7_who.sh - http.log and ssl.log name who made each connection, and an unanswered HTTP
# request is written after --http-timeout, on live traffic through the real agent.
#
# curl runs in the client namespace from a cgroup laid out as the kubelet's cgroupfs driver does
# (.../pod<uid>/<container id>, with a matching /var/log/pods tree under --k8s-root); the servers
# run in the server namespace as host processes: the HTTP/1.1 server of web.sh (Python, port 80),
# openssl s_server (443), and on 8080 a server that reads requests and never answers. One agent
# (--iface all in the node's network namespace, with the host's mounts so that it sees the
# cgroup2 mount) writes pcapng, whose packet comments carry each frame's sender; the analyzer
# reads it. Exact outcomes:
#   - the http and the ssl records of curl's requests: orig_k8s_namespace/_pod/_container of the
#     pod, orig_pid and orig_comm of that curl; resp_pid and resp_comm of the server process,
#     no resp_k8s_* (a host process);
#   - a request to the silent server, its connection held open 4 s while another request is
#     answered 2 s in: with --http-timeout 0.5 its record (method and uri, no status_code or
#     version, the pod's curl as orig_*) comes before the answered one's and is counted
#     http_txn_timeout; with --http-timeout 0 the same record comes at its connection's end,
#     after it, and nothing is counted.
. "$(dirname "$0")/../lib/lib.sh"
. "$PANO_ROOT/tests/lib/e2e.sh"
. "$PANO_ROOT/tests/lib/web.sh"

need_root l7_who
need_cmd l7_who curl openssl jq nsenter tc
for b in "$PANO_AGENT" "$PANO_ANALYZER"; do
	[ -x "$b" ] || { fail "l7_who: $b is not built"; t_done; }
done
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG" ] || { skip "l7_who: no cgroup2 mount in /proc/mounts"; t_done; }

netns_up || { fail "l7_who: netns_up failed"; t_done; }

# ---- the pod's cgroup and the kubelet log tree ----------------------------------------------
PODUID=7a2c41e0-5b9d-4f3e-8c21-$(printf '%012d' $$)
CID=$(printf '%s' "$T_PREFIX-web-client" | sha256sum | cut -c1-64)
PODCG=$CG/${T_PREFIX}-kubepods/pod$PODUID/$CID
on_exit "rmdir '$PODCG' '$CG/${T_PREFIX}-kubepods/pod$PODUID' '$CG/${T_PREFIX}-kubepods'"
mkdir -p "$PODCG" || { fail "l7_who: mkdir under $CG failed"; t_done; }
K8S=$T_TMP/k8s
mkdir -p "$K8S/var/log/pods/shop_web-client_$PODUID/app" "$K8S/var/log/containers"
ln -s "../pods/shop_web-client_$PODUID/app/0.log" \
	"$K8S/var/log/containers/web-client_shop_app-$CID.log"

# ---- the agent (before the servers: their sockets are named from the start) -----------------
ip -n "$NS_NODE" link set lo up
bg_start AGENT_PID "$T_TMP/agent.log" - nsenter --net="/run/netns/$NS_NODE" -- "$PANO_AGENT" \
	--iface all --ports 80,443,8080 --k8s-root "$K8S" --write "$T_TMP/x.pcapng"
if ! wait_for 15 tc_has_bpf "$NS_NODE" "$IF_CLI" || ! wait_for 5 tc_has_bpf "$NS_NODE" "$IF_SRV"; then
	fail "l7_who: pano-agent did not attach: $(tail -5 "$T_TMP/agent.log")"
	t_done
fi

# ---- the servers ----------------------------------------------------------------------------
web_pki "$T_TMP/pki" "$WEB_NAME" || { fail "l7_who: web_pki failed"; t_done; }
web_docroot "$T_TMP/www" 65536 || { fail "l7_who: web_docroot failed"; t_done; }
web_http_server HTTP_PID "$NS_SRV" "$SRV4" 80 "$T_TMP/www" &&
	web_tls_server TLS_PID "$NS_SRV" "$SRV4" 443 1.3 ||
	{ fail "l7_who: a server did not start"; t_done; }
bg_start SILENT_PID "$T_TMP/silent.log" "$NS_SRV" /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080))
s.listen()
while True:  # read each request, answer nothing, close when the client does
    c, _ = s.accept()
    while c.recv(4096):
        pass
    c.close()
' "$SRV4"
wait_for 10 web_listening "$NS_SRV" "$SRV4" 8080 || { fail "l7_who: the silent server did not start"; t_done; }

# pod_curl PIDFILE ARGS...: curl from the client namespace in the pod's cgroup; its pid (sh
# execs ip netns exec, which execs curl) goes to PIDFILE.
pod_curl() {
	sh -c 'echo $$ >"$0"; echo $$ >"$1/cgroup.procs" && ns=$2 && shift 2 &&
		exec ip netns exec "$ns" "$@"' \
		"$1" "$PODCG" "$NS_CLI" curl -sS --http1.1 --max-time 10 -o /dev/null \
		-w '%{http_code}\n' "${@:2}"
}
U=http://$SRV4
check_eq l7_who_client_http "$(pod_curl "$T_TMP/http.pid" "$U/a.txt")" 200
check_eq l7_who_client_tls "$(pod_curl "$T_TMP/tls.pid" --cacert "$WEB_CA" \
	--resolve "$WEB_NAME:443:$SRV4" "https://$WEB_NAME/index.html")" 200
# the unanswered request: curl gives up after 4 s; another request is answered 2 s in
pod_curl "$T_TMP/never.pid" --max-time 4 "$U:8080/never" >"$T_TMP/never.out" 2>&1 &
NEVER=$!
sleep 2
check_eq l7_who_client_answered "$(pod_curl "$T_TMP/late.pid" "$U/b.txt")" 200
wait "$NEVER"
check_eq l7_who_client_unanswered "$? $(tail -1 "$T_TMP/never.out")" "28 000"
sleep 0.5
bg_stop "$AGENT_PID" INT 10
check_eq l7_who_agent_exit_status "$BG_RC" 0

# ---- the records ----------------------------------------------------------------------------
A=$PANO_ANALYZER
# one --uid-seed: the two runs' records are compared whole, uids included
why=$(analyze t05 --uid-seed 1 --read "$T_TMP/x.pcapng" --http-timeout 0.5) ||
	fail "l7_who_analyzer: $why"
why=$(analyze t0 --uid-seed 1 --read "$T_TMP/x.pcapng" --http-timeout 0) ||
	fail "l7_who_analyzer_no_timeout: $why"
R=$T_TMP/t05.json
# who PATH URI_OR_SNI: the who fields of that record, with its _path
who() {
	jq -c --arg p "$1" --arg k "$2" 'select(._path == $p and (.uri == $k or .server_name == $k)) |
		[.orig_k8s_namespace, .orig_k8s_pod, .orig_container, .orig_pid, .orig_comm,
		 .resp_k8s_namespace, .resp_k8s_pod, .resp_container, .resp_pid, .resp_comm]' "$R"
}
pod='"shop","web-client","app"'
check_eq l7_who_http "$(who http /a.txt)" \
	"[$pod,$(cat "$T_TMP/http.pid"),\"curl\",null,null,null,$HTTP_PID,\"python3\"]"
check_eq l7_who_ssl "$(who ssl "$WEB_NAME")" \
	"[$pod,$(cat "$T_TMP/tls.pid"),\"curl\",null,null,null,$TLS_PID,\"openssl\"]"
check_eq l7_who_http_answered "$(who http /b.txt)" \
	"[$pod,$(cat "$T_TMP/late.pid"),\"curl\",null,null,null,$HTTP_PID,\"python3\"]"
# the unanswered request: its client named; its server sent nothing, so it is not
check_eq l7_who_http_unanswered "$(who http /never)" \
	"[$pod,$(cat "$T_TMP/never.pid"),\"curl\",null,null,null,null,null]"

# order: the uris of the two last records, in the order they were written
order() { jq -r 'select(._path == "http" and (.uri == "/never" or .uri == "/b.txt")) | .uri' "$1" | tr '\n' ' '; }
# stat RUN COUNTER: its value in that run's --stats (0: not listed)
stat() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$T_TMP/$1.stats"; }
check_eq l7_who_timeout_order "$(order "$T_TMP/t05.json")" "/never /b.txt "
check_eq l7_who_timeout_counted "$(stat t05 http_txn_timeout)" 1
never() { jq -c 'select(.uri == "/never") | [.method, .status_code, .version, .status_msg,
	.response_body_len, .id_resp_p, .trans_depth]' "$1"; }
check_eq l7_who_timeout_record "$(never "$T_TMP/t05.json")" '["GET",null,null,null,0,8080,1]'
check_eq l7_who_no_timeout_order "$(order "$T_TMP/t0.json")" "/b.txt /never "
got=$(jq -cS 'select(.uri == "/never")' "$T_TMP/t0.json")
if [ -z "$got" ]; then
	fail "l7_who_no_timeout_same_record: no /never record without the timeout"
else
	check_eq l7_who_no_timeout_same_record "$got" "$(jq -cS 'select(.uri == "/never")' "$R")"
fi
check_eq l7_who_no_timeout_not_counted "$(stat t0 http_txn_timeout)" 0
t_done
