#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""soak-halfopen.py HOST PORT N SECONDS - keeps about N DNS-over-TCP connections to HOST:PORT
that each send part of a query (a length prefix claiming 600 bytes, then the first 300: a DNS
header and padding) and stall, for SECONDS seconds. A connection the server closes is replaced
by a new one, at most N/2 new ones a second, so the set is renewed all the time (the server times
stalled connections out). Prints how many it opened at the end. Part of scripts/soak.sh.
"""
import selectors
import socket
import struct
import sys
import time


def partial_query(i):
    hdr = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0)
    body = hdr + b"\x05stall\x04pano\x04test" + b"\x00" * 300
    return struct.pack("!H", 600) + body[:300]


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, n, seconds = argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    sel = selectors.DefaultSelector()
    opened = connected = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        # open up to n/2 a second, without waiting for the handshakes
        for _ in range(max(1, n // 2)):
            if len(sel.get_map()) >= n:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE, "connecting")
            opened += 1
        while time.monotonic() - t0 < 1.0:
            for key, ev in sel.select(timeout=max(0.0, 1.0 - (time.monotonic() - t0))):
                s = key.fileobj
                if key.data == "connecting":
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        try:
                            s.send(partial_query(opened))
                            sel.modify(s, selectors.EVENT_READ, "stalled")
                            connected += 1
                            continue
                        except OSError:
                            pass
                # refused, answered or closed by the server: let it go
                sel.unregister(s)
                s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print(f"opened {opened} connected {connected}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
