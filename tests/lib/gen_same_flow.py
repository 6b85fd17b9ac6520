#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# gen_same_flow.py OUT.pcap N: N DNS queries on one UDP 5-tuple with one transaction id and no
# reply (198.18.0.10:40000 -> 198.18.0.2:53), a thousand per second of packet time: the worst
# case for pairing, which scans a connection's waiting transactions.
import struct, sys
n = int(sys.argv[2])
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x01a\x04test\x00" + struct.pack("!HH", 1, 1)
for i in range(n):
    udp = struct.pack("!HHHH", 40000, 53, 8 + len(q), 0) + q
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, bytes([198,18,0,10]), bytes([198,18,0,2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    fr = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
    out.write(struct.pack("<IIII", 1000 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)) + fr)
