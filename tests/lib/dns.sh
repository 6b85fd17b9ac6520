# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# dns.sh - a real authoritative DNS server for the namespace test hosts of lib.sh.
# Source it after lib.sh:   . "$PANO_ROOT/tests/lib/dns.sh"
#
#   dns_up             start knotd in $NS_SRV on $SRV4 and $SRV6 port 53 (after netns_up), serving
#                      the signed zone pano.test. and the reverse zone 0.18.198.in-addr.arpa.;
#                      returns once it answers; on_exit stops it. With DNS_BROKEN_ZONE set (a
#                      name under pano.test.), knot also has that zone configured and never
#                      loaded (no zone file), so it answers SERVFAIL for every name in it.
#   dns_querylist F    write a dnsperf query list (one "name TYPE" per line) to F.
#   DNS_QUERIES        "name TYPE" pairs covering every record type the zone holds, NXDOMAIN and
#                      NODATA. big.pano.test TXT (3.5 kB) and many.pano.test A (2 kB) are
#                      IP-fragmented over UDP when asked with +bufsize=4096, truncated without.
#
# Everything knot writes (config, zone files, keys, journal, socket, pid) lives in $T_TMP/knot.

DNS_ZONE=pano.test
DNS_REV=0.18.198.in-addr.arpa
DNS_QUERIES=(
	"pano.test SOA" "pano.test NS" "pano.test MX" "pano.test TXT" "pano.test CAA"
	"pano.test HTTPS" "pano.test DNSKEY" "www.pano.test A" "www.pano.test AAAA"
	"alias.pano.test A" "chain.pano.test AAAA" "txt.pano.test TXT" "_sip._udp.pano.test SRV"
	"naptr.pano.test NAPTR" "ssh.pano.test SSHFP" "_443._tcp.www.pano.test TLSA"
	"loc.pano.test LOC" "svc.pano.test SVCB" "child.pano.test DS" "child.pano.test NS"
	"ns1.pano.test A" "ns1.pano.test AAAA" "mail.pano.test A" "2.0.18.198.in-addr.arpa PTR"
	"10.0.18.198.in-addr.arpa PTR" "www.pano.test MX" "nothere.pano.test A"
	"deep.nothere.pano.test AAAA" "big.pano.test TXT" "many.pano.test A"
)

# dns_zone_files DIR: writes the zone files into DIR.
dns_zone_files() {
	local d=$1 i s
	{
		echo "\$ORIGIN $DNS_ZONE."
		echo "\$TTL 300"
		echo "@	SOA	ns1 hostmaster 2024010101 3600 900 604800 60"
		echo "@	NS	ns1"
		echo "@	NS	ns2"
		echo "@	MX	10 mail"
		echo "@	MX	20 mail2"
		echo "@	TXT	\"v=spf1 -all\""
		echo "@	CAA	0 issue \"ca.pano.test\""
		echo "@	HTTPS	1 . alpn=h2,h3 ipv4hint=198.18.0.80"
		echo "ns1	A	198.18.0.2"
		echo "ns1	AAAA	2001:2::2"
		echo "ns2	A	198.18.0.3"
		echo "www	A	198.18.0.80"
		echo "www	AAAA	2001:2::80"
		echo "www	A	198.18.0.81"
		echo "alias	CNAME	www"
		echo "chain	CNAME	alias"
		echo "mail	A	198.18.0.25"
		echo "mail2	A	198.18.0.26"
		echo "sip	A	198.18.0.60"
		echo "txt	TXT	\"first string\" \"second string\" \"semi; colon and \\\"quotes\\\"\""
		echo "txt	TXT	\"another record\""
		echo "_sip._udp	SRV	10 60 5060 sip"
		echo "_sip._udp	SRV	20 40 5061 sip"
		echo "naptr	NAPTR	100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp"
		echo "ssh	SSHFP	1 1 0123456789abcdef0123456789abcdef01234567"
		echo "ssh	SSHFP	4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		echo "_443._tcp.www	TLSA	3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		echo "loc	LOC	52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m"
		echo "svc	SVCB	1 www alpn=h2 port=8443"
		echo "child	NS	ns.child"
		echo "ns.child	A	198.18.0.53"
		echo "child	DS	12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		# big: one TXT RRset of about 3.5 kB; many: 120 A records (about 2 kB).
		for i in $(seq 1 14); do
			s=$(printf 'chunk%02d-%0240d' "$i" 0)
			echo "big	TXT	\"$s\""
		done
		for i in $(seq 1 120); do echo "many	A	198.18.1.$i"; done
	} >"$d/$DNS_ZONE.zone"
	{
		echo "\$ORIGIN $DNS_REV."
		echo "\$TTL 300"
		echo "@	SOA	ns1.$DNS_ZONE. hostmaster.$DNS_ZONE. 1 3600 900 604800 60"
		echo "@	NS	ns1.$DNS_ZONE."
		echo "2	PTR	ns1.$DNS_ZONE."
		echo "10	PTR	client.$DNS_ZONE."
		echo "80	PTR	www.$DNS_ZONE."
	} >"$d/$DNS_REV.zone"
}

# dns_conf DIR: writes knot.conf for a server rooted in DIR.
dns_conf() {
	local d=$1
	cat >"$d/knot.conf" <<-EOF
	server:
	    rundir: "$d/run"
	    pidfile: "$d/run/knot.pid"
	    listen: [ $SRV4@53, $SRV6@53 ]
	    udp-max-payload: 4096
	    udp-workers: ${DNS_WORKERS:-1}
	    tcp-workers: ${DNS_WORKERS:-1}
	    background-workers: 1
	control:
	    listen: "$d/run/knot.sock"
	database:
	    storage: "$d/db"
	log:
	  - target: stderr
	    any: warning
	template:
	  - id: default
	    storage: "$d/zones"
	    file: "%s.zone"
	    zonefile-sync: -1
	    semantic-checks: on
	zone:
	  - domain: $DNS_ZONE
	    dnssec-signing: on
	  - domain: $DNS_REV
	EOF
	[ -n "${DNS_BROKEN_ZONE:-}" ] && printf '  - domain: %s\n    file: "%s"\n' \
		"$DNS_BROKEN_ZONE" "$d/zones/absent.zone" >>"$d/knot.conf"
	return 0
}

# dns_answers: true when the server answers a SOA query for the zone.
dns_answers() {
	nsx "$NS_CLI" kdig +short +timeout=1 +retry=0 @"$SRV4" "$DNS_ZONE" SOA | grep -q hostmaster
}

# dns_up: start knotd in the server namespace and wait until it serves the zone.
dns_up() {
	local d=$T_TMP/knot
	mkdir -p "$d/run" "$d/db" "$d/zones"
	dns_zone_files "$d/zones"
	dns_conf "$d"
	# Not through nsx: a backgrounded function would be a subshell and $! its pid, not knotd's
	# (ip netns exec execs the command in its own process).
	ip netns exec "$NS_SRV" knotd -c "$d/knot.conf" >"$d/knotd.log" 2>&1 &
	DNS_PID=$!
	on_exit "kill $DNS_PID; wait $DNS_PID"
	if ! wait_for 20 dns_answers; then
		log "knotd did not answer; its log:"
		sed 's/^/# knotd: /' "$d/knotd.log" >&2
		return 1
	fi
}

# dns_querylist FILE: the dnsperf input: every DNS_QUERIES pair, the common ones repeated so
# the mix looks like real traffic (mostly A/AAAA, some NXDOMAIN, a few big answers).
dns_querylist() {
	local f=$1 q i
	{
		for i in 1 2 3 4; do
			echo "www.$DNS_ZONE A"; echo "www.$DNS_ZONE AAAA"
			echo "alias.$DNS_ZONE A"; echo "mail.$DNS_ZONE A"
			echo "nx$i.$DNS_ZONE A"
		done
		for q in "${DNS_QUERIES[@]}"; do echo "$q"; done
	} >"$f"
}
