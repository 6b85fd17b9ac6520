# SPDX-License-Identifier: Apache-2.0
# http.sh - helpers for the HTTP tests. Source it after lib.sh.

# http_tshark_cmp PCAP RECORDS_JSON [TSHARK_ARGS...]: tshark as an oracle for http records:
# the request methods with their Host, and the final status codes, that tshark decodes in PCAP
# must be those of the records (as multisets; 1xx left out: a record keeps only the last one,
# and HTTP/0.9 replies, code 0, have no status line). Prints the number of messages that agree,
# or the two lists and returns 1.
http_tshark_cmp() {
	local pcap=$1 json=$2 want got; shift 2
	# a frame with several messages gives comma-separated values
	want=$(tshark -r "$pcap" "$@" -Y http -T fields -E separator=/t -e http.request.method \
		-e http.host -e http.response.code 2>/dev/null |
		awk -F'\t' '{ nm = split($1, m, ","); split($2, h, ",")
			for (i = 1; i <= nm; i++) print "req", m[i], h[i]
			nc = split($3, c, ","); for (i = 1; i <= nc; i++) print "resp", c[i] }' |
		sed 's/ $//' | grep -v '^resp 1[0-9][0-9]$' | sort)
	got=$(jq -r 'select(._path == "http") |
		(if .method then "req \(.method) \(.host // "")" else empty end),
		(if .status_code and .status_code > 0 then "resp \(.status_code)" else empty end)' \
		"$json" | sed 's/ $//' | grep -v '^resp 1[0-9][0-9]$' | sort)
	if [ "$want" = "$got" ]; then
		echo "$(echo "$want" | grep -c .) requests/responses agree"
		return 0
	fi
	echo "tshark [$(echo "$want" | tr '\n' ';')] ours [$(echo "$got" | tr '\n' ';')]"
	return 1
}
