# SPDX-License-Identifier: Apache-2.0
# Demo helpers: a knot DNS server and a dnsperf load generator, from Debian packages.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends knot dnsperf dnsutils \
 && rm -rf /var/lib/apt/lists/*
