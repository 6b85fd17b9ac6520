# SPDX-License-Identifier: Apache-2.0
# kafka.sh - the real Kafka broker for shell tests (scripts/kafka.sh). Source it after lib.sh:
#   . "$(dirname "$0")/../lib/kafka.sh"
# tests/run.sh starts one broker for the whole run when a selected test calls kafka_shared,
# and exports PANO_KAFKA (its bootstrap address) and PANO_KAFKA_DIR (its KAFKA_DIR); a test run
# on its own (or after the shared broker died) starts a broker of its own and stops it at exit.
# Tests share the broker, so each uses topic names of its own (kafka_topic). A test that needs
# a broker elsewhere (in a network namespace) or with other settings starts its own with
# kafka_private.

KAFKA_SH=$PANO_ROOT/scripts/kafka.sh

# kafka_shared: sets KAFKA_BOOT (plaintext), KAFKA_BOOT_SSL, KAFKA_CA (the CA that signed the SSL
# listener's certificate), KAFKA_BOOT_SASL (SASL PLAIN, user pano, password pano-secret) and
# KAFKA_RUN_DIR for the run's broker. False, with the reason on stderr, when no broker could
# be started.
kafka_shared() {
	if [ -n "${PANO_KAFKA_DIR:-}" ] && KAFKA_DIR=$PANO_KAFKA_DIR "$KAFKA_SH" status >/dev/null 2>&1; then
		KAFKA_RUN_DIR=$PANO_KAFKA_DIR
	else
		KAFKA_RUN_DIR=$T_TMP/kafka
		on_exit "KAFKA_DIR=$KAFKA_RUN_DIR $KAFKA_SH stop"
		KAFKA_DIR=$KAFKA_RUN_DIR KAFKA_TLS=1 KAFKA_SASL=1 "$KAFKA_SH" start >/dev/null 2>"$T_TMP/kafka-start.err" || {
			log "scripts/kafka.sh start failed: $(tail -n 5 "$T_TMP/kafka-start.err")"
			return 1
		}
	fi
	KAFKA_BOOT=$(cat "$KAFKA_RUN_DIR/bootstrap")
	KAFKA_BOOT_SSL=$(cat "$KAFKA_RUN_DIR/bootstrap-ssl" 2>/dev/null)
	KAFKA_CA=$KAFKA_RUN_DIR/certs/ca.crt
	KAFKA_BOOT_SASL=$(cat "$KAFKA_RUN_DIR/bootstrap-sasl" 2>/dev/null)
}

# kafka_ctl CMD...: scripts/kafka.sh CMD on the run's broker (stop, start, kill, pause,
# resume, topic create ...); its standard output (the bootstrap address) is dropped.
kafka_ctl() { KAFKA_DIR=$KAFKA_RUN_DIR "$KAFKA_SH" "$@" >/dev/null; }

# kafka_topic NAME: a topic name no other test or run uses.
kafka_topic() { echo "$T_PREFIX-$1"; }

# kafka_consume TOPIC OUT [BOOTSTRAP]: every message of TOPIC, from the beginning to the end of
# every partition, as "partition<TAB>key<TAB>value" lines, read by kcat (an independent
# consumer: librdkafka's high-level reader, not the analyzer's producer code).
kafka_consume() {
	timeout 60 kcat -C -q -b "${3:-$KAFKA_BOOT}" -t "$1" -o beginning -e \
		-f '%p\t%k\t%s\n' >"$2"
}

# kafka_private DIR NS [VAR=value...]: starts a broker of the test's own, its files in DIR, in
# network namespace NS ("-": this one), with scripts/kafka.sh settings given as VAR=value
# (e.g. KAFKA_AUTO_CREATE=0), and sets KAFKA_PRIVATE to its bootstrap address; it is stopped
# at exit. Call it in the test's own shell (not in $(...)), so that the stop is registered.
kafka_private() {
	local dir=$1 ns=$2 run=()
	shift 2
	on_exit "KAFKA_DIR=$dir $KAFKA_SH stop"
	[ "$ns" = - ] || run=(ip netns exec "$ns")
	if ! "${run[@]}" env KAFKA_DIR="$dir" "$@" "$KAFKA_SH" start >"$dir.boot" 2>"$dir.err"; then
		log "scripts/kafka.sh start failed: $(tail -n 5 "$dir.err")"
		return 1
	fi
	KAFKA_PRIVATE=$(cat "$dir.boot")
}
