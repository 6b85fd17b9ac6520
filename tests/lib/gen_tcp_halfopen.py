#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen_tcp_halfopen.py OUT.pcap N [HAVE [CLAIM [KIND]]] - N half-open TCP connections, one
segment each: no handshake, a client 198.19.x.y:port sends to 198.18.0.2 one PSH|ACK segment
holding the first HAVE bytes (default 300) of a message that claims CLAIM bytes (default 600),
and never anything more. KIND (default dns) is what the message is:
  dns   to port 53: a DNS-over-TCP length prefix, then a query header and padding
  tls   to port 443: a TLS handshake record holding a ClientHello (record and handshake
        lengths claim CLAIM bytes)
  http  to port 80: a request line "GET /aaa..." of HAVE bytes with no end of line
Each connection leaves the analyzer holding a partial message. Segments are 10 us apart in
packet time (200k in 2 s: none expires). Prints the bytes of messages left partial (N * HAVE).
"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, n = argv[1], int(argv[2])
    have = int(argv[3]) if len(argv) > 3 else 300
    claim = int(argv[4]) if len(argv) > 4 else 600
    kind = argv[5] if len(argv) > 5 else "dns"
    if kind not in ("dns", "tls", "http"):
        print("KIND is dns, tls or http", file=sys.stderr)
        return 2
    dport = {"dns": 53, "tls": 443, "http": 80}[kind]
    if not 12 <= have < claim <= 65535:
        print("want 12 <= HAVE < CLAIM <= 65535", file=sys.stderr)
        return 2
    dst = bytes([198, 18, 0, 2])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = bytes([198, 19, (i >> 8) & 0xff, i & 0xff])
            sport = 1024 + (i >> 16)
            if kind == "dns":
                msg = struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
                payload = struct.pack("!H", claim) + msg + b"\x07" * (have - len(msg))
            elif kind == "tls":
                hs = claim - 5 - 4
                payload = struct.pack("!BHH", 0x16, 0x0301, claim - 5) + struct.pack(
                    "!BBH", 1, hs >> 16, hs & 0xffff) + b"\x03\x03"
                payload += b"\x5a" * (have - len(payload))
            else:
                payload = b"GET /" + b"a" * (have - 5)
            tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000 + i, 1, 5 << 4, 0x18, 65535, 0, 0)
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
            tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), i & 0xffff,
                             0x4000, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            fr = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + tcp + payload
            t_us = i * 10
            f.write(struct.pack("<IIII", 1000 + t_us // 1000000, t_us % 1000000, len(fr), len(fr)))
            f.write(fr)
    print(n * have)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
