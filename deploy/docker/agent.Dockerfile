# SPDX-License-Identifier: Apache-2.0
# pano-agent image: build stage with the toolchain, runtime stage with only the shared
# libraries the binary links (tests/deploy/test_deploy.sh checks this list against ldd).
#
# The agent loads eBPF programs and attaches them to interfaces, so it runs as root in the
# container with these capabilities instead of --privileged (kernel >= 5.8):
#   CAP_BPF, CAP_PERFMON (load programs, BPF ring buffer), CAP_NET_ADMIN (TC/XDP attach,
#   netlink), and CAP_SYS_ADMIN only on kernels older than 5.8, which lack CAP_BPF.
# It also needs the host network namespace and /sys/kernel/btf/vmlinux (read-only).

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc clang llvm bpftool libbpf-dev libelf-dev \
      zlib1g-dev pkg-config libpcap-dev librdkafka-dev libprotobuf-c-dev protobuf-c-compiler \
      libcjson-dev libmicrohttpd-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make build/pano-agent

FROM debian:bookworm-slim
# runtime-libs: libbpf1 libmicrohttpd12 libssl3 libprotobuf-c1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libmicrohttpd12 libssl3 libprotobuf-c1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/pano-agent /usr/local/bin/pano-agent
EXPOSE 57012 9102
HEALTHCHECK --interval=15s --timeout=3s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9102 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ok <&3"]
ENTRYPOINT ["/usr/local/bin/pano-agent"]
CMD ["--iface", "all", "--pcap-listen", "0.0.0.0:57012", "--metrics", "127.0.0.1:9102"]
