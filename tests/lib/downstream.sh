# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# downstream.sh - PANO's real downstream for tests and `make demo-pipeline`: flowlogs-pipeline
# (scripts/flp.sh) and Prometheus (Debian's) on the configs from deploy/, fed by a real Kafka
# broker (tests/lib/kafka.sh). Source it after lib.sh and e2e.sh.
#
# FLP and Prometheus run in a network namespace of the caller's (its node namespace), where the
# configs' own ports (9401 for FLP, 9090 for Prometheus, 9102/9103 for agent and analyzer) are
# free whatever else runs on the machine; only the broker address and the scrape targets change.
#
#   ds_kafka_relay NS BOOT  makes a broker of this namespace (BOOT, 127.0.0.1:PORT: the run's
#                           shared one from kafka_shared) reachable from NS at the same address,
#                           DS_BROKER, through a relay (socat) in NS
#   ds_flp NS [CONFIG ADDR] flowlogs-pipeline on CONFIG (default deploy/flowlogs-pipeline/
#                           pano-kafka-dns.yaml, metrics on ADDR, default DS_FLP_METRICS) with
#                           the broker changed to DS_BROKER; waits for its /metrics
#   ds_flp_consuming NS [TOPIC METRIC ADDR]
#                           publishes probe records (node "$T_PREFIX-probe", _path from the
#                           topic pano-PATH) on TOPIC (default pano-dns) until the FLP serving
#                           ADDR counts one in METRIC (default pano_flp_dns_transactions_total),
#                           so that what is sent afterwards is consumed (it starts at the
#                           topic's end)
#   ds_probe NS TOPIC       one probe record on TOPIC, creating it: a topic must exist before
#                           the FLP that reads it starts
#   ds_prometheus NS SECONDS JOB=TARGET[,TARGET...]...
#                           Prometheus on deploy/prometheus/prometheus.yml with the scrape and
#                           evaluation interval set to SECONDS and each JOB's targets replaced;
#                           serves its API on 127.0.0.1:9090 in NS
#   ds_query NS EXPR        an instant query; prints the value of a one-number result
# Logs: $T_TMP/kafka-relay.log, flp.log (flp-NAME.log for another CONFIG), prometheus.log. Each runs in a session of its own
# (setsid, same pid), so that a Ctrl-C meant for the caller leaves them to its cleanup: the
# demo still reads Prometheus after the Ctrl-C that ends it.

DS_FLP_CONFIG=${DS_FLP_CONFIG:-$PANO_ROOT/deploy/flowlogs-pipeline/pano-kafka-dns.yaml}
DS_PROM_CONFIG=${DS_PROM_CONFIG:-$PANO_ROOT/deploy/prometheus/prometheus.yml}
DS_PROM=127.0.0.1:9090
DS_FLP_METRICS=127.0.0.1:9401

ds_kafka_relay() {
	local ns=$1 port=${2##*:}
	DS_BROKER=$2
	# A listener on the broker's own address inside NS, each connection handed to a socat in
	# this script's namespace (the broker advertises 127.0.0.1:PORT, so clients in NS come
	# back to the same port).
	bg_start DS_RELAY_PID "$T_TMP/kafka-relay.log" "$ns" setsid socat \
		"TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
		"EXEC:nsenter --net=/proc/$$/ns/net socat STDIO TCP\\:127.0.0.1\\:$port"
	on_exit "pkill -KILL -P $DS_RELAY_PID"	# its connections, before it
	wait_for 10 listening "$ns" "$port" || { log "the Kafka relay did not start"; return 1; }
}

ds_flp() {
	local ns=$1 config=${2:-$DS_FLP_CONFIG} addr=${3:-$DS_FLP_METRICS} flp name
	name=flp # the DNS one's log keeps its name (demo-pipeline.sh points to it)
	[ "$config" = "$DS_FLP_CONFIG" ] || name=flp-$(basename "$config" .yaml)
	flp=$("$PANO_ROOT/scripts/flp.sh" build) || return 1
	"$PANO_ROOT/scripts/flp.sh" config "$config" "$DS_BROKER" >"$T_TMP/$name.yaml" || return 1
	bg_start DS_FLP_PID "$T_TMP/$name.log" "$ns" setsid "$flp" --config "$T_TMP/$name.yaml"
	# TERM first (it exits within a second). It does not leave its consumer group on the way
	# out, so the next FLP of the group on the same (shared) broker waits until this member's
	# session times out (about 20 s); ds_flp_consuming allows for that.
	on_exit "bg_stop $DS_FLP_PID TERM 10"
	if ! wait_for 30 ip netns exec "$ns" curl -sf "http://$addr/metrics"; then
		log "flowlogs-pipeline did not serve its metrics; its log:"
		tail -n 15 "$T_TMP/$name.log" | sed 's/^/# flp: /' >&2
		return 1
	fi
}

# ds_probe_seen NS METRIC ADDR: FLP's metrics count a record of the probe node in METRIC.
ds_probe_seen() {
	ip netns exec "$1" curl -sf "http://$3/metrics" |
		grep -q "^$2{.*node=\"$T_PREFIX-probe\""
}

# ds_probe NS TOPIC: one probe record (node "$T_PREFIX-probe") on TOPIC, which creates the
# topic if need be. FLP's Kafka reader (kafka-go's consumer group) takes no partitions of a
# topic created after it joined the group, so a topic must exist before its FLP starts.
ds_probe() {
	printf '{"ts":%s,"_path":"%s","node":"%s","query":"probe.invalid","proto":"udp"}\n' \
		"$(date +%s)" "${2#pano-}" "$T_PREFIX-probe" |
		ip netns exec "$1" kcat -P -b "$DS_BROKER" -t "$2" -q 2>>"$T_TMP/kcat-probe.log"
}

ds_flp_consuming() {
	local ns=$1 topic=${2:-pano-dns} metric=${3:-pano_flp_dns_transactions_total}
	local addr=${4:-$DS_FLP_METRICS} i
	for i in $(seq 60); do
		ds_probe "$ns" "$topic"
		wait_for 1 ds_probe_seen "$ns" "$metric" "$addr" && return 0
	done
	log "flowlogs-pipeline counted no probe record of $topic in 60 s; its $metric:" \
		"$(ip netns exec "$ns" curl -sf "http://$addr/metrics" | grep "^$metric" | head -n 3)"
	log "its logs:"
	tail -n 15 "$T_TMP"/flp*.log | sed 's/^/# flp: /' >&2
	return 1
}

# ds_prom_config SECONDS JOB=TARGETS...: the Prometheus config with only the intervals and the
# named jobs' targets changed; fails if a job is not in the file.
ds_prom_config() {
	local secs=$1 spec="" kv
	shift
	for kv in "$@"; do
		grep -q "job_name: ${kv%%=*}\$" "$DS_PROM_CONFIG" ||
			{ log "no job ${kv%%=*} in $DS_PROM_CONFIG"; return 1; }
		spec+="$kv;"
	done
	awk -v secs="${secs}s" -v spec="$spec" '
		BEGIN {
			n = split(spec, kvs, ";")
			for (i = 1; i <= n; i++) if (kvs[i] != "") {
				eq = index(kvs[i], "=")
				t = substr(kvs[i], eq + 1); gsub(/,/, "\", \"", t)
				targets[substr(kvs[i], 1, eq - 1)] = "[\"" t "\"]"
			}
		}
		/^[[:space:]]*(scrape|evaluation)_interval:/ { sub(/:.*/, ": " secs) }
		/job_name:/ { job = $NF }
		/targets:/ && (job in targets) { sub(/\[.*\]/, targets[job]) }
		{ print }' "$DS_PROM_CONFIG"
}

ds_prometheus() {
	local ns=$1 secs=$2
	shift 2
	ds_prom_config "$secs" "$@" >"$T_TMP/prometheus.yml" || return 1
	promtool check config "$T_TMP/prometheus.yml" >"$T_TMP/promtool.log" 2>&1 ||
		{ log "promtool: $(tail -n 3 "$T_TMP/promtool.log")"; return 1; }
	mkdir -p "$T_TMP/prometheus-data"
	bg_start DS_PROM_PID "$T_TMP/prometheus.log" "$ns" setsid prometheus \
		--config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/prometheus-data" \
		--web.listen-address="$DS_PROM" --log.level=warn
	if ! wait_for 30 ip netns exec "$ns" curl -sf "http://$DS_PROM/-/ready"; then
		log "prometheus did not become ready; its log:"
		tail -n 15 "$T_TMP/prometheus.log" | sed 's/^/# prometheus: /' >&2
		return 1
	fi
}

ds_query() {
	ip netns exec "$1" curl -sf --data-urlencode "query=$2" "http://$DS_PROM/api/v1/query" |
		jq -r 'if (.data.result | length) == 1 then .data.result[0].value[1] else empty end'
}
