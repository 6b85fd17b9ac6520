#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_deploy.sh: checks of deploy/ that need no Docker engine and no cluster:
#  - the compose file parses and resolves (docker-compose config);
#  - every Kubernetes manifest validates against the Kubernetes schemas (npm kubernetes-models);
#  - Prometheus config is valid (promtool check config);
#  - the compose file runs every flowlogs-pipeline config (the Kubernetes one aside), publishes
#    its metrics port, which Prometheus scrapes, and mounts every Grafana dashboard;
#  - every PromQL expression in each Grafana dashboard (DNS, TLS/HTTP) parses (wrapped in a
#    rules file for promtool check rules), and every metric it names is one PANO or a
#    flowlogs-pipeline config exports;
#  - each flowlogs-pipeline config is valid YAML and every record field it reads exists in a
#    real analyzer record from a test capture (DNS and HTTP: a Zeek trace; TLS: a JA4 one);
#  - Dockerfiles lint clean (npm dockerfilelint);
#  - each runtime stage installs exactly the packages of the libraries its binary links (ldd).
. "$(dirname "$0")/../lib/lib.sh"
cd "$PANO_ROOT"
need_cmd deploy docker-compose promtool node npm jq curl
PY=/usr/bin/python3
need_root deploy

# 1. compose
if out=$(docker-compose -f deploy/compose/compose.yaml config -q 2>&1); then
	pass "compose_config"
else
	fail "compose_config: $out"
fi

# The compose file's Kafka is the tests' Kafka: the apache/kafka image at the release
# scripts/kafka/pom.xml pins, and every broker setting scripts/kafka.sh shares with it.
kafka_compose_same() {
	local img want kv key var got bad=""
	img=$(sed -n 's/^ *image: *apache\/kafka:\([^ ]*\).*/\1/p' deploy/compose/compose.yaml | sort -u)
	want=$(scripts/kafka.sh version)
	[ -n "$want" ] && [ "$img" = "$want" ] || bad="image apache/kafka:$img, pom $want;"
	for kv in $(scripts/kafka.sh settings); do
		key=${kv%%=*}
		var=KAFKA_$(echo "$key" | tr '[:lower:].' '[:upper:]_')
		got=$(sed -n "s/^ *$var: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *\$/\1/p" deploy/compose/compose.yaml)
		[ "$got" = "${kv#*=}" ] || bad="$bad $var=${got:-(unset)}, kafka.sh ${kv#*=};"
	done
	[ -z "$bad" ] && return 0
	log "$bad"
	return 1
}
check compose_kafka_same_as_tests kafka_compose_same

# The compose file runs every flowlogs-pipeline config (the Kubernetes one needs a cluster) from
# deploy/ with its metrics port published, Prometheus scrapes that port, and Grafana gets every
# dashboard of deploy/grafana in the folder its provisioning reads.
$PY - <<'PY' || T_FAILED=1
import glob, os, sys, yaml
c = yaml.safe_load(open("deploy/compose/compose.yaml"))["services"]
prom = yaml.safe_load(open("deploy/prometheus/prometheus.yml"))
targets = {t: j["job_name"] for j in prom["scrape_configs"]
           for sc in j.get("static_configs", []) for t in sc["targets"]}
failed = False
def res(name, bad, good):
    global failed
    failed |= bool(bad)
    print(f"FAIL {name}: {'; '.join(bad)}" if bad else f"PASS {name}: {good}")
for f in sorted(glob.glob("deploy/flowlogs-pipeline/*.yaml")):
    name = os.path.basename(f)
    if name.endswith("-k8s.yaml"):
        continue
    port = yaml.safe_load(open(f))["metricsSettings"]["port"]
    svc = [(k, s) for k, s in c.items()
           if any(v.split(":")[0] == f"../flowlogs-pipeline/{name}" for v in s.get("volumes", []))
           and any(a.endswith("/" + name) for a in s.get("command", []))]
    bad = []
    if len(svc) != 1:
        bad.append(f"{len(svc)} services run it")
    elif f"127.0.0.1:{port}:{port}" not in svc[0][1].get("ports", []):
        bad.append(f"service {svc[0][0]} does not publish 127.0.0.1:{port}")
    if f"127.0.0.1:{port}" not in targets:
        bad.append(f"no Prometheus job scrapes 127.0.0.1:{port}")
    res(f"compose_runs_{name}", bad,
        f"service {svc[0][0] if svc else '?'}, port {port}, job {targets.get(f'127.0.0.1:{port}')}")
prov = yaml.safe_load(open("deploy/grafana/provisioning/dashboards/pano.yaml"))
folder = prov["providers"][0]["options"]["path"]
mounts = c["grafana"].get("volumes", [])
for f in sorted(glob.glob("deploy/grafana/*.json")):
    name = os.path.basename(f)
    want = f"../grafana/{name}:{folder}/{name}:ro"
    res(f"compose_grafana_mounts_{name}", [] if want in mounts else [f"no volume {want}"], folder)
sys.exit(1 if failed else 0)
PY

# npm tools, installed once into the build directory (the registry is reachable in CI).
NPM_DIR=$PANO_BUILD/deploy-check
if [ ! -d "$NPM_DIR/node_modules/kubernetes-models" ] || [ ! -d "$NPM_DIR/node_modules/dockerfilelint" ]; then
	mkdir -p "$NPM_DIR"
	(cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error \
		kubernetes-models@5 js-yaml@4 dockerfilelint@1 >npm.log 2>&1) ||
		{ fail "npm_install: $(tail -n 3 "$NPM_DIR/npm.log")"; t_done; }
fi

# 2. Kubernetes manifests (the script must sit beside node_modules for ES module resolution)
cp tests/deploy/validate-k8s.js "$NPM_DIR/"
(cd "$NPM_DIR" && node validate-k8s.js "$PANO_ROOT"/deploy/k8s/*.yaml) | sed 's/^\(PASS\|FAIL\) /\1 k8s:/' |
	while read -r line; do echo "$line"; done
[ "${PIPESTATUS[0]}" -eq 0 ] || T_FAILED=1

# 2b. The config files the ConfigMaps carry are ones the binaries accept, at the path the
#     DaemonSet and the Deployment mount them and pass with --config.
for f in agent analyzer; do
	(cd "$NPM_DIR" && node -e '
		const d = require("js-yaml").load(require("fs").readFileSync(process.argv[1], "utf8"));
		process.stdout.write(d.data[process.argv[2]] || "");' \
		"$PANO_ROOT/deploy/k8s/$f-configmap.yaml" "$f.conf") >"$T_TMP/$f.conf"
	grep -q "^ports = " "$T_TMP/$f.conf" || fail "k8s_${f}_conf: no ports in $f-configmap.yaml's $f.conf"
done
grep -q -- "--config=/etc/pano/config/agent.conf" deploy/k8s/agent-daemonset.yaml &&
	grep -q -- "--config=/etc/pano/config/analyzer.conf" deploy/k8s/analyzer-deployment.yaml &&
	pass "k8s_config_passed" || fail "k8s_config_passed: --config missing from the DaemonSet or Deployment"
if out=$("$PANO_BUILD/pano-analyzer" --config "$T_TMP/analyzer.conf" \
	--read "$PANO_CORPUS/zeek/Traces/wikipedia.pcap" -o /dev/null 2>&1); then
	pass "k8s_analyzer_conf_accepted"
else
	fail "k8s_analyzer_conf_accepted: $out"
fi

# 3. Prometheus config
check "prometheus_config" promtool check config deploy/prometheus/prometheus.yml

# 4. Dashboard PromQL: Grafana's variables replaced by values, each expr wrapped as a rule.
DASHBOARDS="deploy/grafana/pano-dns-dashboard.json deploy/grafana/pano-l7-dashboard.json"
for dash in $DASHBOARDS; do
	tag=$(basename "$dash" .json)
	rules=$T_TMP/$tag-rules.yml
	if ! jq -e . "$dash" >/dev/null; then
		fail "dashboard_json_$tag: not valid JSON"
		continue
	fi
	pass "dashboard_json_$tag"
	$PY - "$dash" >"$rules" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", []) if t.get("expr")]
subst = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$node": "x"}
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    for k, v in subst.items():
        e = e.replace(k, v)
    e = re.sub(r"\$\{?[A-Za-z_]+\}?", "x", e)
    print(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(e)}")
PY
	n=$(grep -c 'record:' "$rules")
	if [ "$n" -gt 0 ] && out=$(promtool check rules "$rules" 2>&1); then
		pass "dashboard_promql_$tag: $n expressions parse"
	else
		fail "dashboard_promql_$tag: $n expressions; $out"
	fi
done

# 4b. Every metric a dashboard names is exported: pano_flp_* by a flowlogs-pipeline config
#     (each encoder's prefix and its metrics), pano_agent_* by a real agent (on lo in a
#     namespace of ours), the rest by a real analyzer. Both serve /metrics for the duration of
#     the check.
metric_names() { curl -s "$1" | sed -n 's/^# TYPE \([a-zA-Z0-9_:]*\) \(.*\)/\1 \2/p'; }
known=$T_TMP/known-metrics
: >"$known"
$PY - deploy/flowlogs-pipeline/pano-kafka-dns.yaml deploy/flowlogs-pipeline/pano-kafka-ssl-http.yaml \
	>>"$known" <<'PY'
import sys, yaml
for f in sys.argv[1:]:
    for p in yaml.safe_load(open(f))["parameters"]:
        prom = (p.get("encode") or {}).get("prom")
        for m in (prom or {}).get("metrics", []):
            print(prom["prefix"] + m["name"], m["type"])
PY
ap=$(free_port)
"$PANO_BUILD/pano-analyzer" --read "$PANO_CORPUS/zeek/Traces/wikipedia.pcap" -o /dev/null \
	--metrics 127.0.0.1:$ap --linger 2>/dev/null &
apid=$!
on_exit "kill $apid"
NSM=${T_PREFIX}met
on_exit "ip netns del $NSM"
ip netns add "$NSM" && ip -n "$NSM" link set lo up
gp=$(free_port)
ip netns exec "$NSM" "$PANO_BUILD/pano-agent" --iface lo --stdout --metrics 127.0.0.1:$gp \
	--pcap-listen 127.0.0.1:$(free_port) --config "$T_TMP/agent.conf" \
	>/dev/null 2>"$T_TMP/agent.err" &
gpid=$!
on_exit "kill $gpid"
wait_for 10 curl -sf 127.0.0.1:$ap/metrics
wait_for 10 ip netns exec "$NSM" curl -sf 127.0.0.1:$gp/metrics
kill -0 $gpid 2>/dev/null && pass "k8s_agent_conf_accepted" ||
	fail "k8s_agent_conf_accepted: $(cat "$T_TMP/agent.err")"
metric_names "127.0.0.1:$ap/metrics" >>"$known"
ip netns exec "$NSM" bash -c "$(declare -f metric_names); metric_names 127.0.0.1:$gp/metrics" >>"$known"
missing=""
for m in $(jq -r '.panels[].targets[].expr' $DASHBOARDS | grep -oE 'pano_[a-z0-9_]+' | sort -u); do
	base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$m")
	grep -q "^$base " "$known" || grep -q "^$m " "$known" || missing+=" $m"
done
check_eq "dashboard_metrics_exist" "${missing:-none}" "none"
kill $apid $gpid 2>/dev/null

# 5. flowlogs-pipeline: valid YAML, and every field an encoder reads exists in a real record
#    of the topic its ingest stage reads (pano-PATH: records with _path PATH; DNS records
#    carry no _path). Records: DNS and HTTP from a Zeek trace, TLS from a JA4 capture (a
#    TLS 1.2 handshake with SNI and ALPN, so every TLS field is there).
recs=$T_TMP/records.json
: >"$recs"
for cap in "$PANO_CORPUS/zeek/Traces/wikipedia.pcap" "$PANO_CORPUS/ja4/badcurveball.pcap"; do
	"$PANO_BUILD/pano-analyzer" --read "$cap" --node test-node >>"$recs" 2>"$T_TMP/an.err" ||
		fail "flp_fields: the analyzer failed on $cap: $(tail -n 2 "$T_TMP/an.err")"
done
for flp in deploy/flowlogs-pipeline/pano-kafka-dns.yaml deploy/flowlogs-pipeline/pano-kafka-ssl-http.yaml; do
	# who fields (orig_k8s_*, resp_k8s_*) are only in records of a node's own pods
	# (test_k8s_who checks them); the analyzer's record writer must still know their names
	$PY - "$flp" "$recs" "$PANO_BUILD/pano-analyzer" <<'PY' || T_FAILED=1
import json, os, sys, yaml
conf, recs, analyzer = sys.argv[1:]
c = yaml.safe_load(open(conf))
name = os.path.basename(conf)
stages = {p["name"]: p for p in c["parameters"]}
follows = {s["name"]: s.get("follows") for s in c["pipeline"]}
records = [json.loads(l) for l in open(recs) if l.strip()]
binary = open(analyzer, "rb").read()
failed = False
for st, p in stages.items():
    prom = (p.get("encode") or {}).get("prom")
    if not prom:
        continue
    up = follows.get(st)
    while up and "ingest" not in stages[up]:
        up = follows.get(up)
    topic = stages[up]["ingest"]["kafka"]["topic"] if up else None
    path = topic[len("pano-"):] if topic else None
    mine = [r for r in records if r.get("_path", "dns") == path]
    fields = set()
    for m in prom["metrics"]:
        fields.update(m.get("labels", []))
        fields.update([m["valueKey"]] if m.get("valueKey") else [])
        fields.update(f["key"] for f in m.get("filters", []))
    missing = sorted(f for f in fields
                     if ((f.encode() not in binary) if f.startswith(("orig_k8s_", "resp_k8s_"))
                         else not any(f in r for r in mine)))
    tag = f"flp_fields_exist_in_records[{name}:{st}]"
    if not fields or not mine:
        failed = True
        print(f"FAIL {tag}: {len(fields)} fields, {len(mine)} {path} records")
    elif missing:
        failed = True
        print(f"FAIL {tag}: not in {len(mine)} {path} records: {' '.join(missing)}")
    else:
        print(f"PASS {tag}: {' '.join(sorted(fields))} in {len(mine)} {path} records")
sys.exit(1 if failed else 0)
PY
done

# 5b. The Kubernetes flowlogs-pipeline config (add_kubernetes) loads in the real FLP: with no
# API server here it must get as far as asking for one, and no config error before that.
k8sflp=deploy/flowlogs-pipeline/pano-kafka-dns-k8s.yaml
if flpbin=$("$PANO_ROOT/scripts/flp.sh" build 2>"$T_TMP/flp-build.err"); then
	( cd "$T_TMP" && KUBECONFIG=/nonexistent KUBERNETES_SERVICE_HOST= timeout 20 "$flpbin" \
		--config "$PANO_ROOT/$k8sflp" >"$T_TMP/flp-k8s.out" 2>&1 )
	if grep -q "can't access kubenetes\|can't access kubernetes" "$T_TMP/flp-k8s.out" &&
		! grep -qi "yaml\|unknown field\|invalid" "$T_TMP/flp-k8s.out"; then
		pass "flp_k8s_config_loads"
	else
		fail "flp_k8s_config_loads: $(grep -i 'level=error\|fatal' "$T_TMP/flp-k8s.out" | head -2)"
	fi
else
	fail "flp_k8s_config_loads: scripts/flp.sh build failed: $(tail -2 "$T_TMP/flp-build.err")"
fi

# 6. Dockerfile lint
if out=$("$NPM_DIR/node_modules/.bin/dockerfilelint" deploy/docker/*.Dockerfile 2>&1) &&
	! grep -q 'Issues: [1-9]' <<<"$out"; then
	pass "dockerfile_lint"
else
	fail "dockerfile_lint: $out"
fi

# 7. Runtime libraries: the packages a runtime stage installs are exactly those providing the
#    libraries the binary needs (NEEDED entries resolved with ldd), libc6 and libgcc aside
#    (part of the base image).
runtime_pkgs() {	# the "# runtime-libs:" line of a Dockerfile
	sed -n 's/^# runtime-libs: //p' "$1" | tr ' ' '\n' | sort -u
}
linked_pkgs() {	# Debian packages that provide the binary's direct NEEDED libraries
	local bin=$1 so path
	for so in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
		path=$(ldd "$bin" | awk -v s="$so" '$1 == s {print $3}')
		[ -n "$path" ] || { echo "UNRESOLVED:$so"; continue; }
		dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1 ||
			dpkg -S "$path" | head -1 | cut -d: -f1
	done | grep -vxE 'libc6|libgcc-s1' | sort -u
}
# The images ship release binaries: under the sanitizer build (SAN=1), check a release build
# made for the purpose instead of the instrumented binaries (which link libasan/libubsan).
RELBUILD=$PANO_BUILD
if [ "${SAN:-}" = 1 ]; then
	RELBUILD=$PANO_BUILD/release-check
	make -s -C "$PANO_ROOT" SAN= BUILD="$RELBUILD" "$RELBUILD/pano-agent" "$RELBUILD/pano-analyzer" \
		>"$T_TMP/relbuild.log" 2>&1 || fail "release_build: $(tail -n 3 "$T_TMP/relbuild.log")"
fi
for b in agent analyzer; do
	df=deploy/docker/$b.Dockerfile bin=$RELBUILD/pano-$b
	if [ ! -x "$bin" ]; then fail "runtime_libs_$b: $bin not built"; continue; fi
	want=$(linked_pkgs "$bin" | tr '\n' ' ')
	have=$(runtime_pkgs "$df" | tr '\n' ' ')
	inst=$(sed -n '/^FROM debian:bookworm-slim/,/^COPY/{/^#/d;p}' "$df")
	check_eq "runtime_libs_$b" "$have" "$want"
	for p in $have; do
		grep -qw -- "$p" <<<"$inst" || fail "runtime_install_$b: $p not in the apt-get install line"
	done
done
t_done
