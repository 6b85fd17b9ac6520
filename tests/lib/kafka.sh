# SPDX-License-Identifier: Apache-2.0
# kafka.sh - the real Kafka broker for shell tests (scripts/kafka.sh). Source it after lib.sh:
#   . "$(dirname "$0")/../lib/kafka.sh"
# tests/run.sh starts one broker for the whole run when a selected test sources this file, and
# exports PANO_KAFKA (its bootstrap address) and PANO_KAFKA_DIR (its KAFKA_DIR); a test run on
# its own (or after the shared broker died) starts a broker of its own and stops it at exit.
# Tests share the broker, so each uses topic names of its own (kafka_topic).

KAFKA_SH=$PANO_ROOT/scripts/kafka.sh

# kafka_up: sets KAFKA_BOOT (plaintext), KAFKA_BOOT_SSL, KAFKA_CA (the CA that signed the SSL
# listener's certificate) and KAFKA_RUN_DIR for the run's broker. False, with the reason on
# stderr, when no broker could be started.
kafka_up() {
	if [ -n "${PANO_KAFKA_DIR:-}" ] && KAFKA_DIR=$PANO_KAFKA_DIR "$KAFKA_SH" status >/dev/null 2>&1; then
		KAFKA_RUN_DIR=$PANO_KAFKA_DIR
	else
		KAFKA_RUN_DIR=$T_TMP/kafka
		on_exit "KAFKA_DIR=$KAFKA_RUN_DIR $KAFKA_SH stop"
		KAFKA_DIR=$KAFKA_RUN_DIR KAFKA_TLS=1 "$KAFKA_SH" start >/dev/null 2>"$T_TMP/kafka-start.err" || {
			log "scripts/kafka.sh start failed: $(tail -n 5 "$T_TMP/kafka-start.err")"
			return 1
		}
	fi
	KAFKA_BOOT=$(cat "$KAFKA_RUN_DIR/bootstrap")
	KAFKA_BOOT_SSL=$(cat "$KAFKA_RUN_DIR/bootstrap-ssl" 2>/dev/null)
	KAFKA_CA=$KAFKA_RUN_DIR/certs/ca.crt
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
