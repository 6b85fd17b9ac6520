# SPDX-License-Identifier: Apache-2.0
# zeek.sh - helpers for tests that hold pano-analyzer's records against Zeek's baselines in
# $PANO_CORPUS/zeek. Source it after lib.sh: . "$(dirname "$0")/../lib/zeek.sh"
A=${A:-$PANO_BUILD/pano-analyzer}
Z=${Z:-$PANO_CORPUS/zeek}

# analyze NAME ARGS...: runs the analyzer into $T_TMP/NAME.json (stats in NAME.stats);
# fails (returns 1, the reason on stdout) on a crash, a hang (60 s) or a line that is not JSON.
analyze() {
	local n=$1; shift
	timeout 60 "$A" --stats ${ANALYZE_ARGS:-} "$@" >"$T_TMP/$n.json" 2>"$T_TMP/$n.stats"
	local rc=$?
	if [ $rc -ne 0 ]; then echo "exit status $rc"; return 1; fi
	jq -e . "$T_TMP/$n.json" >/dev/null 2>&1 || [ ! -s "$T_TMP/$n.json" ] ||
		{ echo "output is not JSON lines"; return 1; }
	return 0
}
