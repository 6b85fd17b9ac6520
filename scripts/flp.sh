#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# flp.sh - flowlogs-pipeline (FLP), the real one, for tests and the demo: built from its Go
# module at the release pinned below, with no patches, and run with a config from deploy/.
#
#   flp.sh build              build once and print the binary's path (build/flp/...)
#   flp.sh config YAML BROKER write YAML to stdout with only its Kafka broker lists changed
#                             to BROKER (host:port): every ingest's (a config may read several
#                             topics, each with an ingest of its own)
#   flp.sh run YAML BROKER WORKDIR [FLP-ARGS...]
#                             build if needed, write the changed config to WORKDIR/flp.yaml and
#                             exec FLP on it (the pid stays the caller's)
#   flp.sh version            the pinned release
#
# The module's go.mod carries a `replace` directive, which `go install module@version`
# refuses, so the module is downloaded from the Go module proxy (`go mod download`) and
# ./cmd/flowlogs-pipeline is built inside a writable copy of it, the way FLP's own Makefile
# builds (CGO off). The binary is kept as build/flp/flowlogs-pipeline-VERSION and also in a
# per-machine cache (FLP_CACHE, default ~/.cache/pano), so that another tree on the same
# machine (CI's fresh clone) copies it instead of building again. A lock keeps two runs from
# building at once.
#
# Environment: FLP_VERSION (default the pinned one), FLP_DIR (default build/flp), FLP_CACHE.
# Exit status: 0 ok, 1 failure (one line on stderr says why), 2 bad usage.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The pinned release. To move it: pick a version the Go module proxy serves
# (`go mod download -json github.com/netobserv/flowlogs-pipeline@vX.Y.Z-community`), change
# it here, run `make test TESTS=downstream` (the new binary is built on first use) and update
# the README's table.
FLP_MODULE=github.com/netobserv/flowlogs-pipeline
FLP_VERSION=${FLP_VERSION:-v1.11.0-community}
FLP_DIR=${FLP_DIR:-$ROOT/build/flp}
FLP_CACHE=${FLP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pano}
BIN=$FLP_DIR/flowlogs-pipeline-$FLP_VERSION

die() { echo "flp.sh: $*" >&2; exit 1; }
usage() { sed -n '3,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0" >&2; exit "${1:-2}"; }

# runs: true when the binary at $1 exists and starts (--help answers).
runs() { [ -x "$1" ] && "$1" --help >/dev/null 2>&1; }

# build: the binary, from the machine cache or built from the module.
build() {
	runs "$BIN" && return 0
	command -v go >/dev/null 2>&1 || die "go not found: FLP $FLP_VERSION is built with the Go toolchain"
	mkdir -p "$FLP_DIR" "$FLP_CACHE" || die "mkdir $FLP_DIR $FLP_CACHE failed"
	exec 8>"$FLP_CACHE/flowlogs-pipeline-$FLP_VERSION.lock"
	flock 8
	local cached=$FLP_CACHE/flowlogs-pipeline-$FLP_VERSION
	if ! runs "$cached"; then
		local log=$FLP_DIR/build-$FLP_VERSION.log dir src t0=$SECONDS
		echo "flp.sh: building flowlogs-pipeline $FLP_VERSION from its Go module (once per machine; a few minutes)" >&2
		dir=$(go mod download -json "$FLP_MODULE@$FLP_VERSION" 2>"$log" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
		[ -n "$dir" ] && [ -f "$dir/go.mod" ] ||
			die "go mod download $FLP_MODULE@$FLP_VERSION failed (log: $log)"
		src=$FLP_DIR/src-$FLP_VERSION
		rm -rf "$src"
		cp -r "$dir" "$src" && chmod -R u+w "$src" || die "copying the module to $src failed"
		if ! (cd "$src" && CGO_ENABLED=0 go build -trimpath \
			-ldflags "-X main.buildVersion=$FLP_VERSION -X main.buildDate=module" \
			-o "$cached.tmp" ./cmd/flowlogs-pipeline) >>"$log" 2>&1; then
			tail -n 20 "$log" >&2
			die "go build ./cmd/flowlogs-pipeline failed (log: $log)"
		fi
		mv "$cached.tmp" "$cached"
		rm -rf "$src"
		echo "flp.sh: built in $((SECONDS - t0)) s" >&2
	fi
	cp "$cached" "$BIN.tmp" && mv "$BIN.tmp" "$BIN" || die "copying $cached to $BIN failed"
	exec 8>&-
	runs "$BIN" || die "$BIN does not start"
}

# config YAML BROKER: the config with its ingest brokers lists replaced, nothing else. Fails
# unless at least one `brokers:` line was there to change.
config() {
	local yaml=$1 broker=$2 n
	[ -r "$yaml" ] || die "cannot read $yaml"
	n=$(grep -c '^[[:space:]]*brokers:' "$yaml")
	[ "$n" -ge 1 ] || die "$yaml: no 'brokers:' line"
	sed "s|^\([[:space:]]*brokers:\).*|\1 [\"$broker\"]|" "$yaml"
}

case ${1:-} in
build)
	build
	echo "$BIN"
	;;
config)
	[ $# -eq 3 ] || usage
	config "$2" "$3"
	;;
run)
	[ $# -ge 4 ] || usage
	yaml=$2 broker=$3 work=$4
	shift 4
	build
	mkdir -p "$work" || die "mkdir $work failed"
	config "$yaml" "$broker" >"$work/flp.yaml" || exit 1
	exec "$BIN" --config "$work/flp.yaml" "$@"
	;;
version) echo "$FLP_VERSION" ;;
-h | --help) usage 0 ;;
*) usage ;;
esac
