#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make-certs.sh DIR [SAN...]: a throwaway certificate authority and certificates for PANO's TLS
# tests and the demo, made with the openssl CLI. Never use these for anything real.
#
#   ca.crt ca.key              the CA agents and analyzers trust (--tls-ca)
#   server.crt server.key      signed by the CA; SANs: localhost, 127.0.0.1, ::1, 198.18.0.1-3 and
#                              any SAN given (DNS:name or IP:addr)
#   client.crt client.key      signed by the CA, for agents (mutual TLS)
#   other-ca.crt other-ca.key  an unrelated CA
#   other.crt other.key        a client certificate signed by the unrelated CA (must be refused)
#   expired.crt expired.key    signed by the CA but valid only during 2020-01-01 (must be refused)
set -eu
dir=${1:?usage: make-certs.sh DIR [SAN...]}
shift
mkdir -p "$dir"
cd "$dir"
umask 077

sans="DNS:localhost,IP:127.0.0.1,IP:::1,IP:198.18.0.1,IP:198.18.0.2,IP:198.18.0.3"
for s in "$@"; do sans="$sans,$s"; done

q() { "$@" >/dev/null 2>&1 || { echo "make-certs.sh: $* failed" >&2; "$@" >&2; exit 1; }; }

# ca NAME SUBJECT: a self-signed CA.
ca() {
	q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-keyout "$1.key" -out "$1.crt" -subj "$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# leaf NAME CA SUBJECT USAGE [SANS]: a key and a CSR, signed by CA for 30 days.
leaf() {
	local name=$1 ca=$2 subj=$3 usage=$4 san=${5:-}
	q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$name.key" -out "$name.csr" -subj "$subj"
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$usage"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$name.ext"
	q openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
		-days 30 -extfile "$name.ext" -out "$name.crt"
	rm -f "$name.csr" "$name.ext"
}

ca ca "/O=PANO test/CN=PANO test CA"
ca other-ca "/O=Somebody else/CN=Unrelated CA"
leaf server ca "/O=PANO test/CN=pano-analyzer" serverAuth "$sans"
leaf client ca "/O=PANO test/CN=pano-agent" clientAuth
leaf other other-ca "/O=Somebody else/CN=intruder" clientAuth

# The expired certificate needs explicit dates, which only `openssl ca` sets.
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout expired.key -out expired.csr -subj "/O=PANO test/CN=expired agent"
mkdir -p ca.db
: >ca.db/index.txt
cat >ca.db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca.db
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
CNF
echo 1000 >ca.db/serial
q openssl ca -batch -config ca.db/ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
	-out expired.crt -startdate 20200101000000Z -enddate 20200102000000Z -extensions ext \
	-notext
rm -rf ca.db expired.csr ca.srl other-ca.srl
chmod 644 ./*.crt
echo "make-certs.sh: certificates in $(pwd)"
