#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_analyzer_live_pipe.sh - `pano-agent --stdout | pano-analyzer --read -` is live: records
# of the part of a capture that has come through a pipe are written while the pipe stays open,
# not held until its end (a read that waits for a full buffer, or a sink that flushes only
# after more frames, would hold them). Classic pcap and pcapng, fed half, then the rest after a
# pause; the same records in the end as from the whole file.
. "$(dirname "$0")/../lib/lib.sh"

ANALYZER=$PANO_BUILD/pano-analyzer
CAP=$PANO_CORPUS/zeek/Traces/wikipedia.pcap
need_cmd live_pipe editcap jq
[ -r "$CAP" ] || { fail "live_pipe: $CAP missing"; t_done; }
editcap -F pcapng "$CAP" "$T_TMP/w.pcapng" || { fail "live_pipe: editcap"; t_done; }
"$ANALYZER" --read "$CAP" >"$T_TMP/whole.json" 2>/dev/null
total=$(grep -c . "$T_TMP/whole.json")

# live FORMAT FILE: feed the first 12000 bytes, wait, count the records, feed the rest.
live() {
	local name=$1 file=$2 fifo=$T_TMP/$1.fifo n
	mkfifo "$fifo"
	"$ANALYZER" --read - <"$fifo" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err" &
	local an=$!
	exec 7>"$fifo"
	head -c 12000 "$file" >&7
	# the part's transactions are written within a second (the sink flushes after 100 ms)
	wait_for 5 sh -c "[ \$(grep -c . '$T_TMP/$name.json') -gt 0 ]"
	n=$(grep -c . "$T_TMP/$name.json")
	tail -c +12001 "$file" >&7
	exec 7>&-
	wait "$an"
	check "live_pipe_${name}_before_end" test "$n" -gt 0
	check "live_pipe_${name}_part_only" test "$n" -lt "$total"
	check_eq "live_pipe_${name}_all_in_the_end" "$(grep -c . "$T_TMP/$name.json")" "$total"
}
live pcap "$CAP"
live pcapng "$T_TMP/w.pcapng"
t_done
