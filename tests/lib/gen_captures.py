#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gen_captures.py - small captures with exactly known content for the analyzer's input and DNS
tests (run with /usr/bin/python3; no modules beyond the standard library).

  gen_captures.py KIND OUT [N]

KIND:
  pairs         N (default 3000) query/reply pairs from 100 clients, 1 ms apart
  ts2038        classic pcap (microseconds): three query/reply pairs at 2147483647.5,
                2147483648.25 and 4294967295.75 s (the last second a pcap file can hold)
  ts2038-ns     the same with the nanosecond magic
  pcapng-multi  pcapng, two sections: the first little-endian with an Ethernet interface
                "eth0" (ns timestamps), a raw-IP interface "tun0" (default us) and a Linux
                cooked (SLL) interface "any"; Enhanced Packet Blocks with direction flags and
                comments, a Simple Packet Block, a block of an unknown type; the second
                big-endian with an Ethernet interface "br0" (2^-20 s units and a time offset),
                a Name Resolution Block and an obsolete Packet Block. One query/reply pair per
                interface.
  nbns          NetBIOS name service on udp/137: a name query (NB) for WORKSTATION1 and its
                positive answer, a node status (NBSTAT) query and its answer
  offload       four UDP queries to port 53: checksum right, checksum left to the NIC (the
                field holds the pseudo header's sum only), checksum zero (none), checksum
                wrong; and a TCP SYN with its checksum left to the NIC
  short         an 11-byte DNS message (shorter than a header), and a query cut by the
                capture inside its header (snaplen 48: 6 bytes of DNS kept)
  lenshort      one query whose record says incl_len 74 > orig_len 60
  snaplen       a query and its 224-byte reply, the reply cut by the capture at 98 bytes
  corrupt-pcap  two query/reply pairs, then a record header with caplen 0xffffff00
  reuse         one UDP 5-tuple (client port 40000) in three conversations: query/reply
                pairs at 0 s and 10 s (one conversation), at 100 s (after 60 s idle: a new
                one) and at 200 s; a pair on port 40001 at 150 s. Times from 1700002000 s.
"""
import struct
import sys

SRV = bytes([198, 18, 0, 53])
CLI = bytes([198, 18, 0, 10])


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def ip4(src, dst, proto, l4, ipid=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ipid, 0, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", ~csum16(h) & 0xffff) + h[12:]
    return h + l4


def pseudo(src, dst, proto, n):
    return src + dst + struct.pack("!BBH", 0, proto, n)


def udp(src, dst, sport, dport, payload, csum="good"):
    n = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, n, 0) + payload
    if csum == "good":
        c = ~csum16(pseudo(src, dst, 17, n) + seg) & 0xffff
        c = c or 0xffff
    elif csum == "partial":  # what the kernel leaves for the NIC: the pseudo header's sum
        c = csum16(pseudo(src, dst, 17, n))
    elif csum == "bad":
        c = (~csum16(pseudo(src, dst, 17, n) + seg) & 0xffff) ^ 0x5555
    else:
        c = 0
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp_syn_partial(src, dst, sport, dport):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = csum16(pseudo(src, dst, 6, len(seg)))
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def eth(l3, ethertype=0x0800):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", ethertype) + l3


def sll(l3):  # Linux cooked v1: packet type, ARPHRD, address length, address, protocol
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", 0x0800) + l3


def name(n):
    out = b""
    for lab in n.split("."):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


def query(tid, qname, qtype=1):
    return struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + name(qname) + \
        struct.pack("!HH", qtype, 1)


def reply(tid, qname, addr, qtype=1, pad=0):
    r = struct.pack("!HHHHHH", tid, 0x8180, 1, 1, 0, 0) + name(qname) + \
        struct.pack("!HH", qtype, 1) + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + addr
    if pad:  # a TXT-free way to make a long reply: an additional record of type 65280
        r = r[:10] + struct.pack("!H", 1) + r[12:]
        r += b"\0" + struct.pack("!HHIH", 65280, 1, 0, pad) + b"\xab" * pad
    return r


def pair(tid, qname, addr, sport):
    """A query frame and its reply frame (IPv4 + UDP, no link header)."""
    q = ip4(CLI, SRV, 17, udp(CLI, SRV, sport, 53, query(tid, qname)), tid)
    r = ip4(SRV, CLI, 17, udp(SRV, CLI, 53, sport, reply(tid, qname, addr)), tid)
    return q, r


class Pcap:
    def __init__(self, path, ns=False, snaplen=65535):
        self.f = open(path, "wb")
        self.ns = ns
        magic = 0xa1b23c4d if ns else 0xa1b2c3d4
        self.f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, 1))

    def rec(self, t, frame, caplen=None, origlen=None):
        sec = int(t)
        frac = round((t - sec) * (1e9 if self.ns else 1e6))
        cap = frame if caplen is None else frame[:caplen]
        ol = len(frame) if origlen is None else origlen
        self.f.write(struct.pack("<IIII", sec, frac, len(cap), ol) + cap)

    def close(self):
        self.f.close()


def gen_ts2038(out, ns):
    p = Pcap(out, ns)
    for i, t in enumerate((2147483647.5, 2147483648.25, 4294967295.75)):
        q, r = pair(0x100 + i, "t%d.pano.test" % i, bytes([198, 18, 1, i]), 40000 + i)
        p.rec(t, eth(q))
        p.rec(t + (0.000125 if i < 2 else 0.0), eth(r))
    p.close()


# ---- pcapng ----------------------------------------------------------------------------------
def opt(code, val, e):
    pad = (4 - len(val) % 4) % 4
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * pad


def block(btype, body, e):
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e):
    return block(0x0a0d0d0a, struct.pack(e + "IHHq", 0x1a2b3c4d, 1, 0, -1) +
                 opt(0, b"", e), e)


def idb(linktype, ifname, e, tsresol=None, tsoffset=None):
    opts = opt(2, ifname.encode(), e)
    if tsresol is not None:
        opts += opt(9, bytes([tsresol]), e)
    if tsoffset is not None:
        opts += opt(14, struct.pack(e + "q", tsoffset), e)
    return block(1, struct.pack(e + "HHI", linktype, 0, 0) + opts + opt(0, b"", e), e)


def epb(ifid, units, frame, e, flags=None, comment=None):
    pad = (4 - len(frame) % 4) % 4
    body = struct.pack(e + "IIIII", ifid, units >> 32, units & 0xffffffff, len(frame),
                       len(frame)) + frame + b"\0" * pad
    opts = b""
    if comment is not None:
        opts += opt(1, comment.encode(), e)
    if flags is not None:
        opts += opt(2, struct.pack(e + "I", flags), e)
    if opts:
        body += opts + opt(0, b"", e)
    return block(6, body, e)


def gen_pcapng_multi(out):
    t0 = 1700000000
    data = b""
    e = "<"
    data += shb(e)
    data += idb(1, "eth0", e, tsresol=9)        # Ethernet, ns
    data += idb(101, "tun0", e)                 # raw IP, us (default)
    data += idb(113, "any", e)                  # Linux cooked
    q, r = pair(0x2001, "eth.pano.test", bytes([198, 18, 2, 1]), 41001)
    data += epb(0, t0 * 10**9 + 1000, eth(q), e, flags=2, comment="pod=client-a")
    data += epb(0, t0 * 10**9 + 51000, eth(r), e, flags=1)
    q, r = pair(0x2002, "tun.pano.test", bytes([198, 18, 2, 2]), 41002)
    data += epb(1, (t0 + 1) * 10**6, q, e, flags=1)
    data += block(0x0BAD, b"\x01\x02\x03\x04" * 3, e)   # an unknown block: skipped
    data += epb(1, (t0 + 1) * 10**6 + 250, r, e, flags=2, comment="x" * 2000)
    q, r = pair(0x2003, "sll.pano.test", bytes([198, 18, 2, 3]), 41003)
    data += epb(2, (t0 + 2) * 10**6, sll(q), e)
    data += epb(2, (t0 + 2) * 10**6 + 500, sll(r), e)
    # A Simple Packet Block: interface 0 (Ethernet), no time of its own
    q, r = pair(0x2004, "spb.pano.test", bytes([198, 18, 2, 4]), 41004)
    f = eth(q)
    data += block(3, struct.pack(e + "I", len(f)) + f + b"\0" * ((4 - len(f) % 4) % 4), e)
    # Section two: big-endian, 2^-20 s units, time offset of 1000 s
    e = ">"
    data += shb(e)
    data += block(4, struct.pack(e + "HH", 0, 0), e)   # Name Resolution Block, empty
    data += idb(1, "br0", e, tsresol=0x80 | 20, tsoffset=1000)
    q, r = pair(0x2005, "br.pano.test", bytes([198, 18, 2, 5]), 41005)
    data += epb(0, ((t0 + 3 - 1000) << 20), eth(q), e, flags=1)
    # the obsolete Packet Block (type 2): interface id 16 bits, drops 16 bits, pack_flags 2
    f = eth(r)
    units = ((t0 + 3 - 1000) << 20) + (1 << 19)   # + 0.5 s
    body = struct.pack(e + "HHIIII", 0, 0, units >> 32, units & 0xffffffff, len(f), len(f)) + \
        f + b"\0" * ((4 - len(f) % 4) % 4) + opt(2, struct.pack(e + "I", 2), e) + opt(0, b"", e)
    data += block(2, body, e)
    open(out, "wb").write(data)


def gen_nbns(out):
    def nb_encode(n, suffix=0x00):
        raw = n.upper().ljust(15).encode()[:15] + bytes([suffix])
        enc = b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw)
        return bytes([32]) + enc + b"\0"
    nbq = struct.pack("!HHHHHH", 0x8001, 0x0110, 1, 0, 0, 0) + nb_encode("WORKSTATION1") + \
        struct.pack("!HH", 32, 1)
    nbr = struct.pack("!HHHHHH", 0x8001, 0x8500, 0, 1, 0, 0) + nb_encode("WORKSTATION1") + \
        struct.pack("!HHIH", 32, 1, 300000, 6) + b"\x00\x00" + bytes([198, 18, 0, 77])
    star = b"\x20CK" + b"A" * 30 + b"\0"  # "*", the wildcard name, encoded
    stq = struct.pack("!HHHHHH", 0x8002, 0x0000, 1, 0, 0, 0) + star + struct.pack("!HH", 33, 1)
    names = b"WORKSTATION1   \x00\x04\x00" + b"WORKGROUP      \x00\x84\x00"
    rd = bytes([2]) + names + b"\x02\x00\x00\x00\x00\x77" + b"\0" * 40
    str_ = struct.pack("!HHHHHH", 0x8002, 0x8400, 0, 1, 0, 0) + star + \
        struct.pack("!HHIH", 33, 1, 0, len(rd)) + rd
    nb_srv = bytes([198, 18, 0, 77])
    p = Pcap(out)
    p.rec(1700000100.0, eth(ip4(CLI, nb_srv, 17, udp(CLI, nb_srv, 137, 137, nbq))))
    p.rec(1700000100.001, eth(ip4(nb_srv, CLI, 17, udp(nb_srv, CLI, 137, 137, nbr))))
    p.rec(1700000101.0, eth(ip4(CLI, nb_srv, 17, udp(CLI, nb_srv, 40137, 137, stq))))
    p.rec(1700000101.002, eth(ip4(nb_srv, CLI, 17, udp(nb_srv, CLI, 137, 40137, str_))))
    p.close()


def gen_offload(out):
    p = Pcap(out)
    for i, how in enumerate(("good", "partial", "none", "bad")):
        seg = udp(CLI, SRV, 42000 + i, 53, query(0x3000 + i, "%s.pano.test" % how), how)
        p.rec(1700000200.0 + i, eth(ip4(CLI, SRV, 17, seg, i + 1)))
    p.rec(1700000205.0, eth(ip4(CLI, SRV, 6, tcp_syn_partial(CLI, SRV, 42100, 53), 9)))
    p.close()


def gen_short(out):
    p = Pcap(out)
    p.rec(1700000300.0, eth(ip4(CLI, SRV, 17, udp(CLI, SRV, 43000, 53, b"\x12\x34\x01\x00" +
                                                   b"\0" * 7))))
    f = eth(ip4(CLI, SRV, 17, udp(CLI, SRV, 43001, 53, query(0x4001, "cut.pano.test"))))
    p.rec(1700000301.0, f, caplen=14 + 20 + 8 + 6)
    p.close()


def gen_lenshort(out):
    p = Pcap(out)
    f = eth(ip4(CLI, SRV, 17, udp(CLI, SRV, 44000, 53, query(0x5001, "ls.pano.test"))))
    p.rec(1700000400.0, f, origlen=60)
    p.close()


def gen_snaplen(out):
    p = Pcap(out, snaplen=98)
    q = ip4(CLI, SRV, 17, udp(CLI, SRV, 45000, 53, query(0x6001, "big.pano.test")))
    base = len(reply(0x6001, "big.pano.test", bytes([198, 18, 6, 1])))
    r = reply(0x6001, "big.pano.test", bytes([198, 18, 6, 1]), pad=224 - base - 11)
    assert len(r) == 224
    r = ip4(SRV, CLI, 17, udp(SRV, CLI, 53, 45000, r))
    p.rec(1700000500.0, eth(q))
    p.rec(1700000500.002, eth(r), caplen=98)
    p.close()


def gen_corrupt_pcap(out):
    p = Pcap(out)
    for i in range(2):
        q, r = pair(0x7001 + i, "c%d.pano.test" % i, bytes([198, 18, 7, i]), 46000 + i)
        p.rec(1700000600.0 + i, eth(q))
        p.rec(1700000600.0 + i + 0.001, eth(r))
    p.f.write(struct.pack("<IIII", 1700000610, 0, 0xffffff00, 0xffffff00) + b"\0" * 64)
    p.close()


def gen_pairs(out, n):
    p = Pcap(out)
    for i in range(n):
        c = bytes([198, 18, 10 + i % 100 // 50, i % 50 + 1])
        sport = 20000 + i % 30000
        tid = i & 0xffff
        qn = "h%d.pano.test" % i
        q = ip4(c, SRV, 17, udp(c, SRV, sport, 53, query(tid, qn)), tid)
        r = ip4(SRV, c, 17, udp(SRV, c, 53, sport, reply(tid, qn, bytes([198, 19, i >> 8 & 255,
                                                                         i & 255]))), tid)
        p.rec(1700001000 + i / 1000, eth(q))
        p.rec(1700001000 + i / 1000 + 0.0002, eth(r))
    p.close()


def gen_reuse(out):
    p = Pcap(out)
    for i, (t, sport) in enumerate(((0, 40000), (10, 40000), (100, 40000), (150, 40001),
                                    (200, 40000))):
        q, r = pair(100 + i, "r%d.pano.test" % i, bytes([198, 19, 0, i + 1]), sport)
        p.rec(1700002000 + t, eth(q))
        p.rec(1700002000 + t + 0.001, eth(r))
    p.close()


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    kind, out = argv[1], argv[2]
    gens = {
        "pairs": lambda: gen_pairs(out, int(argv[3]) if len(argv) == 4 else 3000),
        "ts2038": lambda: gen_ts2038(out, False),
        "ts2038-ns": lambda: gen_ts2038(out, True),
        "pcapng-multi": lambda: gen_pcapng_multi(out),
        "nbns": lambda: gen_nbns(out),
        "offload": lambda: gen_offload(out),
        "short": lambda: gen_short(out),
        "lenshort": lambda: gen_lenshort(out),
        "snaplen": lambda: gen_snaplen(out),
        "corrupt-pcap": lambda: gen_corrupt_pcap(out),
        "reuse": lambda: gen_reuse(out),
    }
    if kind not in gens:
        sys.stderr.write("gen_captures.py: unknown kind %s\n" % kind)
        return 2
    gens[kind]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
