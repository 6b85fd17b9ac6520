#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen_dns_clients.py OUT.pcap [CLIENTS [QUERIES [SEED]]] - a pcap of DNS traffic from many
clients to one resolver, made for the Kafka tests: each client (198.18.1.N, every fourth one
2001:2::1:N) asks QUERIES questions one after the other, as a stub resolver does, and the
clients' traffic is interleaved in time. Every reply comes 1-30 ms after its query; a quarter
of the clients get no reply to their last query. Replies vary: 0-20 A records, NXDOMAIN,
SERVFAIL, and one query in 25 a TXT answer of eight 240-byte strings (a record of about 2.3 kB
once logged, every other record is under 1 kB). The same arguments give the same bytes.
Defaults: 40 clients, 50 queries, seed 1.
"""
import random
import struct
import sys

RESOLVER4 = bytes([198, 18, 0, 2])
RESOLVER6 = bytes.fromhex('20010002000000000000000000000002')


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def name(qname):
    return b''.join(bytes([len(l)]) + l.encode() for l in qname.split('.')) + b'\0'


def frame(src, dst, sport, dport, payload):
    """An Ethernet frame with an IPv4 or IPv6 UDP datagram (checksums filled in)."""
    udp_len = 8 + len(payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack('!BBH', 0, 17, udp_len)
    else:
        pseudo = src + dst + struct.pack('!IxxxB', udp_len, 17)
    udp = struct.pack('!HHHH', sport, dport, udp_len, 0) + payload
    udp = udp[:6] + struct.pack('!H', csum(pseudo + udp) or 0xffff) + udp[8:]
    if len(src) == 4:
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        etype = 0x0800
    else:
        ip = struct.pack('!IHBB16s16s', 0x60000000, udp_len, 17, 64, src, dst)
        etype = 0x86dd
    return b'\x02\x00\x00\x00\x00\x01' + b'\x02\x00\x00\x00\x00\x02' + \
        struct.pack('!H', etype) + ip + udp


def query(tid, qname, qtype):
    return struct.pack('!HHHHHH', tid, 0x0100, 1, 0, 0, 0) + name(qname) + \
        struct.pack('!HH', qtype, 1)


def reply(rng, tid, qname, qtype, rcode, nans):
    q = name(qname) + struct.pack('!HH', qtype, 1)
    rrs = b''
    for i in range(nans):
        if qtype == 16:
            txt = b''.join(bytes([240]) + bytes(rng.choice(b'abcdefghijklmnopqrstuvwxyz')
                                                for _ in range(240)) for _ in range(8))
            rrs += b'\xc0\x0c' + struct.pack('!HHIH', 16, 1, 300, len(txt)) + txt
        else:
            rrs += b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60 + i, 4) + \
                bytes([203, 0, 113, (i * 7) % 256])
    return struct.pack('!HHHHHH', tid, 0x8180 | rcode, 1, nans, 0, 0) + q + rrs


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    out = sys.argv[1]
    nclients = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    nq = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    packets = []  # (time in us, sequence, frame)
    seq = 0
    for c in range(nclients):
        if c % 4 == 3:
            src, dst = bytes.fromhex('2001000200000000000000000001%04x' % (c + 1)), RESOLVER6
        else:
            src, dst = bytes([198, 18, 1, c + 1]), RESOLVER4
        t = 1700000000 * 1000000 + rng.randrange(0, 200000)
        sport = 30000 + c
        for i in range(nq):
            tid = rng.randrange(0, 65536)
            qname = 'q%d.c%d.example.test' % (i, c)
            qtype, rcode, nans = 1, 0, rng.randrange(0, 21)
            roll = rng.randrange(25)
            if roll == 0:
                qtype, nans = 16, 1
            elif roll in (1, 2):
                rcode, nans = 3, 0
            elif roll == 3:
                rcode, nans = 2, 0
            packets.append((t, seq, frame(src, dst, sport, 53, query(tid, qname, qtype))))
            seq += 1
            answered = not (i == nq - 1 and c % 4 == 1)
            if answered:
                t += rng.randrange(1000, 30000)
                packets.append((t, seq, frame(dst, src, 53, sport,
                                              reply(rng, tid, qname, qtype, rcode, nans))))
                seq += 1
            t += rng.randrange(10000, 200000)
    packets.sort()
    with open(out, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, _, fr in packets:
            f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(fr), len(fr)) + fr)


if __name__ == '__main__':
    main()
