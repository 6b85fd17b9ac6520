# SPDX-License-Identifier: Apache-2.0
# demo-setup.sh - what both demos (scripts/demo.sh, scripts/demo-pipeline.sh) do first; sourced.
#
# demo_setup NAME TARGET ARGS...: reads --duration/--qps/--help from ARGS into DURATION and QPS
# (whose defaults the caller set; --help prints the caller's header), refuses a non-root user
# (naming `make TARGET`), sets PANO_BUILD (PANO_BUILD, else make's BUILD relative to the tree,
# else build/), and unless DEMO_BUILD=0 installs missing packages and builds. Exits on an error
# (2 for bad usage).
demo_setup() {
	local name=$1 target=$2
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		-d | --duration) DURATION=${2:?--duration needs a number of seconds}; shift 2 ;;
		--duration=*) DURATION=${1#*=}; shift ;;
		-q | --qps) QPS=${2:?--qps needs a rate}; shift 2 ;;
		-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) echo "$name.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
		esac
	done
	case $DURATION$QPS in *[!0-9]*) echo "$name.sh: --duration and --qps take whole numbers" >&2; exit 2 ;; esac
	if [ "$(id -u)" -ne 0 ]; then
		echo "$name.sh: needs root (network namespaces, eBPF); try: sudo make $target" >&2
		exit 1
	fi
	local b
	case ${BUILD:-build} in /*) b=$BUILD ;; *) b=$ROOT/${BUILD:-build} ;; esac
	export PANO_BUILD=${PANO_BUILD:-$b}
	if [ "${DEMO_BUILD:-1}" != 0 ]; then
		"$ROOT/scripts/install-deps.sh" || exit 1
		echo "$name: building (make BUILD=$PANO_BUILD)"
		make -C "$ROOT" -s BUILD="$PANO_BUILD" all || exit 1
	fi
}
