#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pcap_frames.py - compare the frames of pcap files as multisets of bytes (an oracle for the
agent's capture: the same frames as tcpdump's, whatever the order they were written in).

  pcap_frames.py count FILE          prints the number of frames
  pcap_frames.py cmp A B             exit 0 when A and B hold the same frames (bytes of each
                                     frame, counted with multiplicity), 1 otherwise; prints a
                                     one-line summary and up to five differing frames
  pcap_frames.py full FILE           exit 0 when every frame was kept whole (caplen == len)

Reads classic pcap (either byte order, micro- or nanosecond magic) and nothing else; a
truncated last record is an error (exit 2), as is any other file format.
"""
import collections
import struct
import sys


def read_frames(path):
    """Returns a list of (caplen, origlen, bytes) for every record of a classic pcap file."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f'{path}: {len(data)} bytes, shorter than a pcap header')
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        endian = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        endian = '>'
    else:
        raise ValueError(f'{path}: not a classic pcap file (magic {magic:#x})')
    frames = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError(f'{path}: truncated record header at offset {off}')
        _, _, caplen, origlen = struct.unpack(endian + 'IIII', data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError(f'{path}: truncated record at offset {off}')
        frames.append((caplen, origlen, data[off:off + caplen]))
        off += caplen
    return frames


def describe(frame):
    """A short text for a frame: length and the first bytes after the Ethernet header."""
    return f'{len(frame)} bytes: {frame[12:60].hex()}'


def main(argv):
    if len(argv) == 3 and argv[1] == 'count':
        print(len(read_frames(argv[2])))
        return 0
    if len(argv) == 3 and argv[1] == 'full':
        bad = [f for f in read_frames(argv[2]) if f[0] != f[1]]
        print(f'{len(bad)} frames cut short')
        return 1 if bad else 0
    if len(argv) == 4 and argv[1] == 'cmp':
        a = collections.Counter(f[2] for f in read_frames(argv[2]))
        b = collections.Counter(f[2] for f in read_frames(argv[3]))
        only_a, only_b = a - b, b - a
        print(f'{sum(a.values())} frames vs {sum(b.values())}; '
              f'{sum(only_a.values())} only in the first, {sum(only_b.values())} only in the second')
        for name, diff in (('first', only_a), ('second', only_b)):
            for frame in list(diff)[:5]:
                print(f'  only in {name}: {describe(frame)}')
        return 0 if not only_a and not only_b else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError) as e:
        sys.stderr.write(f'pcap_frames.py: {e}\n')
        sys.exit(2)
