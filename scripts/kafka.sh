#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kafka.sh - a real Apache Kafka broker (KRaft, broker and controller in one JVM) on loopback,
# for tests, benchmarks and the demo. Its jars come from Maven Central at the release pinned in
# scripts/kafka/pom.xml (fetched once into build/kafka/lib; Maven keeps them in ~/.m2 for every
# other tree on the machine).
#
#   kafka.sh start            start (or resume) the broker in the background, wait until it
#                             answers, print its bootstrap address 127.0.0.1:PORT on stdout
#   kafka.sh stop             stop it (SIGTERM, a controlled shutdown) and wait; data is kept,
#                             so a later start resumes the same cluster on the same ports
#   kafka.sh kill             stop it at once (SIGKILL), as a crash would
#   kafka.sh pause | resume   SIGSTOP / SIGCONT the broker (it holds its sockets but answers
#                             nothing), for outage tests
#   kafka.sh status           print the bootstrap address and exit 0 if it runs, else exit 3
#   kafka.sh clean            stop, then remove KAFKA_DIR
#   kafka.sh topic create NAME PARTITIONS [key=value...]   a topic (replication 1) with
#                             optional topic configs, e.g. max.message.bytes=2000
#   kafka.sh fetch            only fetch the jars
#   kafka.sh version          the pinned Kafka release
#   kafka.sh settings         the broker settings the compose file shares (key=value lines)
#
# Environment:
#   KAFKA_DIR               data, logs, config, pid (default build/kafka-run). Files in it:
#                           bootstrap, bootstrap-ssl, bootstrap-sasl, kafka.pid, kafka.log,
#                           server.properties, certs/ (KAFKA_TLS=1: ca.crt trusts the broker)
#   KAFKA_PORT              plaintext port (default: a free one; kept across stop/start)
#   KAFKA_TLS=1             also an SSL listener (certificates from scripts/make-certs.sh, or
#                           KAFKA_TLS_CERTS=DIR holding ca.crt server.crt server.key)
#   KAFKA_SASL=1            also a SASL_PLAINTEXT listener, mechanism PLAIN, one user
#                           KAFKA_SASL_USER (default pano) with KAFKA_SASL_PASSWORD (default
#                           pano-secret); its address goes to $KAFKA_DIR/bootstrap-sasl
#   KAFKA_AUTO_CREATE=0     no automatic topic creation (default 1, as the compose file)
#   KAFKA_MESSAGE_MAX_BYTES the broker's message.max.bytes (default Kafka's, 1048588)
#   KAFKA_PARTITIONS        partitions of an automatically created topic (default 3)
#   KAFKA_HEAP              maximum heap (default 512m)
#   KAFKA_START_TIMEOUT     seconds to wait for the broker to answer (default 90)
#   KAFKA_LIB               where the jars go (default build/kafka/lib)
# Settings that change the broker (TLS, SASL, auto-create, message size, partitions) apply
# when the data directory is first made; `clean` first to change them.
# Exit status: 0 ok, 1 failure (one line on stderr says why), 2 bad usage, 3 status: not running.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POM=$ROOT/scripts/kafka/pom.xml
KAFKA_DIR=${KAFKA_DIR:-$ROOT/build/kafka-run}
KAFKA_LIB=${KAFKA_LIB:-$ROOT/build/kafka/lib}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() {
	if [ "${1:-2}" = 0 ]; then help; else help >&2; fi
	exit "${1:-2}"
}
help() { sed -n '3,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"; }

# need_java: java 17 or later, as Kafka 4 brokers need.
need_java() {
	command -v "$JAVA" >/dev/null 2>&1 ||
		die "java not found: install a JDK 17 or later (Debian: openjdk-17-jre-headless)"
	local v
	v=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
	[ "${v:-0}" -ge 17 ] 2>/dev/null ||
		die "java $v is too old: Kafka $(kafka_version) needs 17 or later"
}

# fetch: the jars of the pinned release into KAFKA_LIB, unless they are there for this pom.
# A lock keeps two runs from fetching into the same place at once.
fetch() {
	local sum
	sum=$(sha256sum "$POM" | cut -d' ' -f1)
	[ "$(cat "$KAFKA_LIB/.pom.sha256" 2>/dev/null)" = "$sum" ] && return 0
	command -v mvn >/dev/null 2>&1 ||
		die "mvn not found: install Maven (Debian: maven) to fetch Kafka's jars"
	need_java
	mkdir -p "$(dirname "$KAFKA_LIB")"
	exec 8>"$KAFKA_LIB.lock"
	flock 8
	if [ "$(cat "$KAFKA_LIB/.pom.sha256" 2>/dev/null)" != "$sum" ]; then
		local tmp=$KAFKA_LIB.tmp.$$
		rm -rf "$tmp"
		echo "kafka.sh: fetching Kafka $(kafka_version) from Maven Central into $KAFKA_LIB" >&2
		if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
			-DoutputDirectory="$tmp" >"$KAFKA_LIB.fetch.log" 2>&1; then
			tail -n 20 "$KAFKA_LIB.fetch.log" >&2
			rm -rf "$tmp"
			die "mvn dependency:copy-dependencies failed (log: $KAFKA_LIB.fetch.log)"
		fi
		echo "$sum" >"$tmp/.pom.sha256"
		rm -rf "$KAFKA_LIB"
		mv "$tmp" "$KAFKA_LIB"
	fi
	exec 8>&-
}

# free_port: a TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# running: true when kafka.pid names a live broker of this KAFKA_DIR (not a reused pid).
running() {
	local pid
	pid=$(cat "$KAFKA_DIR/kafka.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF "kafka.Kafka $KAFKA_DIR/server.properties"
}

java_run() {	# java_run MAINCLASS ARGS...: a Kafka tool on the fetched class path
	"$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
		-cp "$KAFKA_LIB/*" "$@"
}

# settings: the broker settings deploy/compose/compose.yaml's kafka service has too (as
# KAFKA_<NAME> variables; tests/deploy checks that they agree), after KAFKA_* overrides. The
# internal topics have one partition: on a fresh broker the first idempotent producer waits
# for the transaction coordinator, which takes seconds with Kafka's 50 partitions.
settings() {
	cat <<EOF
num.partitions=${KAFKA_PARTITIONS:-3}
auto.create.topics.enable=$([ "${KAFKA_AUTO_CREATE:-1}" = 0 ] && echo false || echo true)
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
}

# configure: server.properties, log4j2.properties, certificates and formatted storage for a
# new KAFKA_DIR. Settings mirror deploy/compose/compose.yaml's kafka service.
configure() {
	local port=${KAFKA_PORT:-$(free_port)} cport sport="" aport="" listeners adv map
	cport=$(free_port)
	while [ "$cport" = "$port" ]; do cport=$(free_port); done
	mkdir -p "$KAFKA_DIR/data"
	listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
	adv="PLAINTEXT://127.0.0.1:$port"
	map="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
	if [ "${KAFKA_TLS:-0}" = 1 ]; then
		sport=$(free_port)
		while [ "$sport" = "$port" ] || [ "$sport" = "$cport" ]; do sport=$(free_port); done
		if [ -n "${KAFKA_TLS_CERTS:-}" ]; then
			mkdir -p "$KAFKA_DIR/certs"
			cp "$KAFKA_TLS_CERTS"/ca.crt "$KAFKA_TLS_CERTS"/server.crt \
				"$KAFKA_TLS_CERTS"/server.key "$KAFKA_DIR/certs/" || die "no certificates in $KAFKA_TLS_CERTS"
		else
			"$ROOT/scripts/make-certs.sh" "$KAFKA_DIR/certs" >/dev/null || die "make-certs.sh failed"
		fi
		# A PEM key store: the private key (PKCS#8, unencrypted) followed by its certificate.
		cat "$KAFKA_DIR/certs/server.key" "$KAFKA_DIR/certs/server.crt" >"$KAFKA_DIR/certs/server.pem"
		listeners="$listeners,SSL://127.0.0.1:$sport"
		adv="$adv,SSL://127.0.0.1:$sport"
		map="$map,SSL:SSL"
	fi
	if [ "${KAFKA_SASL:-0}" = 1 ]; then
		aport=$(free_port)
		while [ "$aport" = "$port" ] || [ "$aport" = "$cport" ] || [ "$aport" = "$sport" ]; do
			aport=$(free_port)
		done
		listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$aport"
		adv="$adv,SASL_PLAINTEXT://127.0.0.1:$aport"
		map="$map,SASL_PLAINTEXT:SASL_PLAINTEXT"
	fi
	cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/kafka.sh; the same settings as deploy/compose/compose.yaml's kafka service.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listeners=$listeners
advertised.listeners=$adv
listener.security.protocol.map=$map
log.dirs=$KAFKA_DIR/data
EOF
	settings >>"$KAFKA_DIR/server.properties"
	[ -n "${KAFKA_MESSAGE_MAX_BYTES:-}" ] &&
		echo "message.max.bytes=$KAFKA_MESSAGE_MAX_BYTES" >>"$KAFKA_DIR/server.properties"
	if [ -n "$sport" ]; then
		cat >>"$KAFKA_DIR/server.properties" <<EOF
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_DIR/certs/server.pem
ssl.client.auth=none
EOF
	fi
	if [ -n "$aport" ]; then
		cat >>"$KAFKA_DIR/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${KAFKA_SASL_USER:-pano}="${KAFKA_SASL_PASSWORD:-pano-secret}";
EOF
	fi
	cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
	echo "127.0.0.1:$port" >"$KAFKA_DIR/bootstrap"
	rm -f "$KAFKA_DIR/bootstrap-ssl" "$KAFKA_DIR/bootstrap-sasl"
	[ -z "$sport" ] || echo "127.0.0.1:$sport" >"$KAFKA_DIR/bootstrap-ssl"
	[ -z "$aport" ] || echo "127.0.0.1:$aport" >"$KAFKA_DIR/bootstrap-sasl"
	# A cluster id is 16 random bytes in URL-safe base64 without padding (what
	# `kafka-storage random-uuid` prints), made here to save a JVM start. Like Kafka's own,
	# it never starts with "-", which the tool's argument parser would take for an option.
	local id=-
	while [ "${id#-}" != "$id" ]; do
		id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	done
	java_run kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" \
		>"$KAFKA_DIR/format.log" 2>&1 ||
		{ cat "$KAFKA_DIR/format.log" >&2; die "kafka-storage format failed"; }
}

# close_fds: closes every descriptor above 2 in this shell.
close_fds() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
	done 2>/dev/null
	return 0
}

# answers ADDR: the broker answers a metadata request on ADDR (plaintext).
answers() { kcat -L -b "$1" -m 2 -t __pano_probe 2>/dev/null | grep -q '^ *1 brokers:'; }

start() {
	command -v kcat >/dev/null 2>&1 || die "kcat not found: install it (Debian: kcat)"
	if running; then
		cat "$KAFKA_DIR/bootstrap"
		return 0
	fi
	fetch
	need_java
	mkdir -p "$KAFKA_DIR"
	[ -f "$KAFKA_DIR/data/meta.properties" ] || { rm -rf "$KAFKA_DIR/data"; configure; }
	local boot pid t
	boot=$(cat "$KAFKA_DIR/bootstrap")
	ss -Htln "sport = :${boot##*:}" | grep -q . &&
		die "port ${boot##*:} is in use (KAFKA_DIR=$KAFKA_DIR)"
	# setsid: the broker leaves the caller's process group, so only `stop` ends it; it keeps
	# none of the caller's other descriptors (a pipe's write end held by the broker would
	# never let its reader see the end of input).
	close_fds
	setsid "$JAVA" -Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
		-cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
		</dev/null >>"$KAFKA_DIR/kafka.log" 2>&1 &
	pid=$!
	echo "$pid" >"$KAFKA_DIR/kafka.pid"
	t=$((${KAFKA_START_TIMEOUT:-90} * 10))
	until answers "$boot"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 15 "$KAFKA_DIR/kafka.log" >&2
			rm -f "$KAFKA_DIR/kafka.pid"
			die "the broker exited while starting (log: $KAFKA_DIR/kafka.log)"
		fi
		t=$((t - 1))
		if [ "$t" -le 0 ]; then
			kill -9 "$pid" 2>/dev/null
			rm -f "$KAFKA_DIR/kafka.pid"
			die "the broker did not answer on $boot within" \
				"${KAFKA_START_TIMEOUT:-90} s (log: $KAFKA_DIR/kafka.log)"
		fi
		sleep 0.1
	done
	echo "$boot"
}

# stop SIGNAL: signal the broker and wait until it has gone (SIGKILL after 60 s).
stop() {
	local pid t=600
	running || { rm -f "$KAFKA_DIR/kafka.pid"; return 0; }
	pid=$(cat "$KAFKA_DIR/kafka.pid")
	kill -CONT "$pid" 2>/dev/null # a paused broker cannot shut down
	kill -"$1" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		echo "kafka.sh: broker $pid still running 60 s after SIG$1; killing it" >&2
		kill -9 "$pid" 2>/dev/null
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	fi
	rm -f "$KAFKA_DIR/kafka.pid"
}

signal() {	# signal SIG: SIGSTOP/SIGCONT a running broker
	running || die "no broker running in $KAFKA_DIR"
	kill -"$1" "$(cat "$KAFKA_DIR/kafka.pid")"
}

topic() {
	[ "${1:-}" = create ] && [ $# -ge 3 ] || usage
	local name=$2 parts=$3 kv cfg=()
	shift 3
	for kv in "$@"; do cfg+=(--config "$kv"); done
	running || die "no broker running in $KAFKA_DIR"
	java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$(cat "$KAFKA_DIR/bootstrap")" \
		--create --topic "$name" --partitions "$parts" --replication-factor 1 "${cfg[@]}" \
		>"$KAFKA_DIR/topic.log" 2>&1 ||
		{ cat "$KAFKA_DIR/topic.log" >&2; die "creating topic $name failed"; }
}

case "${1:-}" in
start) start ;;
stop) stop TERM ;;
kill) stop KILL ;;
pause) signal STOP ;;
resume) signal CONT ;;
status)
	running || { echo "kafka.sh: not running ($KAFKA_DIR)" >&2; exit 3; }
	cat "$KAFKA_DIR/bootstrap" ;;
clean) stop TERM; rm -rf "$KAFKA_DIR" ;;
topic) shift; topic "$@" ;;
fetch) fetch ;;
version) kafka_version ;;
settings) settings ;;
-h | --help) usage 0 ;;
*) usage ;;
esac
