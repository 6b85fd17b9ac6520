#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_deploy.sh: checks of deploy/ that need no Docker engine and no cluster:
#  - the compose file parses and resolves (docker-compose config);
#  - every Kubernetes manifest validates against the Kubernetes schemas (npm kubernetes-models);
#  - Prometheus config is valid (promtool check config);
#  - every PromQL expression in the Grafana dashboard parses (wrapped in a rules file for
#    promtool check rules), and every metric it names is one PANO or flowlogs-pipeline exports;
#  - the flowlogs-pipeline config is valid YAML and every record field it reads exists in a real
#    analyzer record from a test capture;
#  - Dockerfiles lint clean (npm dockerfilelint);
#  - each runtime stage installs exactly the packages of the libraries its binary links (ldd).
. "$(dirname "$0")/../lib/lib.sh"
cd "$PANO_ROOT"
need_cmd deploy docker-compose promtool node npm jq python3 curl
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
	img=$(sed -n 's/^ *image: *apache\/kafka:\([^ ]*\).*/\1/p' deploy/compose/compose.yaml)
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
dash=deploy/grafana/pano-dns-dashboard.json
rules=$T_TMP/dashboard-rules.yml
if jq -e . "$dash" >/dev/null; then
	pass "dashboard_json"
	python3 - "$dash" >"$rules" <<'PY'
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
		pass "dashboard_promql: $n expressions parse"
	else
		fail "dashboard_promql: $n expressions; $out"
	fi
else
	fail "dashboard_json: not valid JSON"
fi

# 4b. Every metric the dashboard names is exported: pano_flp_dns_* by the flowlogs-pipeline
#     config, pano_agent_* by a real agent (on lo in a namespace of ours), the rest by a real
#     analyzer. Both serve /metrics for the duration of the check.
metric_names() { curl -s "$1" | sed -n 's/^# TYPE \([a-zA-Z0-9_:]*\) \(.*\)/\1 \2/p'; }
known=$T_TMP/known-metrics
: >"$known"
python3 - deploy/flowlogs-pipeline/pano-kafka-dns.yaml >>"$known" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
prefix = re.search(r"^\s+prefix: (pano_flp_\S+)", text, re.M).group(1)
for name, kind in re.findall(r"- name: (\S+)\n\s+type: (\S+)", text):
    print(prefix + name, kind)
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
for m in $(jq -r '.panels[].targets[].expr' "$dash" | grep -oE 'pano_[a-z0-9_]+' | sort -u); do
	base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$m")
	grep -q "^$base " "$known" || grep -q "^$m " "$known" || missing+=" $m"
done
check_eq "dashboard_metrics_exist" "${missing:-none}" "none"
kill $apid $gpid 2>/dev/null

# 5. flowlogs-pipeline: valid YAML, and every field it reads exists in a real record.
flp=deploy/flowlogs-pipeline/pano-kafka-dns.yaml
cap=$PANO_CORPUS/zeek/Traces/wikipedia.pcap
recs=$T_TMP/records.json
if [ -x "$PANO_BUILD/pano-analyzer" ] && [ -r "$cap" ]; then
	"$PANO_BUILD/pano-analyzer" --read "$cap" --node test-node >"$recs" 2>"$T_TMP/an.err" ||
		fail "flp_fields: analyzer failed: $(tail -n 2 "$T_TMP/an.err")"
	fields=$(cd "$NPM_DIR" && node -e '
		const y = require("js-yaml"), fs = require("fs");
		const c = y.load(fs.readFileSync(process.argv[1], "utf8"));
		const f = new Set();
		for (const p of c.parameters) {
			const m = p.encode && p.encode.prom && p.encode.prom.metrics;
			for (const x of m || []) {
				(x.labels || []).forEach((l) => f.add(l));
				if (x.valueKey) f.add(x.valueKey);
				(x.filters || []).forEach((k) => f.add(k.key));
			}
		}
		console.log([...f].join(" "));' "$PANO_ROOT/$flp")
	if [ -z "$fields" ]; then
		fail "flp_yaml: no metric fields found in $flp"
	else
		pass "flp_yaml: reads fields $fields"
		missing=""
		for f in $fields; do
			# who fields are only in records of a node's own pods (test_k8s_who checks them);
			# the analyzer's record writer must still know their names
			case $f in orig_k8s_* | resp_k8s_*)
				grep -aq "$f" "$PANO_BUILD/pano-analyzer" || missing+=" $f"
				continue ;;
			esac
			[ -n "$(jq -c --arg f "$f" 'select(has($f)) | 1' "$recs" | head -1)" ] || missing+=" $f"
		done
		check_eq "flp_fields_exist_in_records" "${missing:-none}" "none"
	fi
else
	fail "flp_fields: needs $PANO_BUILD/pano-analyzer and $cap"
fi

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
