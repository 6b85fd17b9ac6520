#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# install-deps.sh: installs every package PANO needs to build, test, benchmark and run its demo,
# from Debian/Ubuntu. Idempotent; prints nothing when everything is already there.
set -eu
PKGS=(
	# build
	make gcc clang llvm libclang-rt-dev bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config
	libpcap-dev librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libcjson-dev
	libmicrohttpd-dev libssl-dev libncurses-dev
	# tests and demo: namespaces, DNS server and clients, oracles, Kafka consumer, metrics
	iproute2 iputils-ping procps nftables conntrack unbound knot knot-dnsutils dnsutils dnsperf
	tcpdump tshark wireshark-common kcat jq prometheus tmux openssl python3 psmisc curl
	protobuf-compiler socat
	# make demo-pipeline and make soak: their charts
	gnuplot-nox
	# benchmarks and profiling
	hyperfine linux-perf valgrind time bc
	# deploy checks (python3-yaml: the compose and flowlogs-pipeline configs)
	docker-compose python3-yaml
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The tests' Kafka broker (scripts/kafka.sh) runs on Java 17 or later and its jars come from
# Maven Central through Maven. Either may come from outside Debian (another JDK, a Maven on
# PATH): only what is not there at all, or too old, is installed.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
if [ "${java_major:-0}" -lt 17 ] 2>/dev/null; then
	echo "install-deps: Java ${java_major:-not found}; Kafka 4 needs 17 or later" >&2
	missing+=(openjdk-17-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || { echo "install-deps: mvn not found" >&2; missing+=(maven); }
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
