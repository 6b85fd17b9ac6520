#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hostile_peers.py - many hostile TCP peers at once, for tests of PANO's listeners (loopback or
test namespaces only):

  hostile_peers.py MODE HOST:PORT N [--sources PREFIX/COUNT] [--reconnect SECONDS]
                   [--status FILE] [--seconds S]

MODE (what each of the N connections does, then holds it open without reading):
  idle         nothing
  tls-half     the first bytes of a TLS ClientHello (a record that announces 512 bytes of
               handshake), never the rest
  big-envelope the PANO stream preamble and an envelope length prefix of 4 MiB (the analyzer's
               cap), then as much of the envelope as the socket takes, all but its last byte,
               before any hello
  slow-http    "GET /healthz HTTP/1.1", then one more header line every 5 s, never the end

--sources 127.1.0.0/20 binds the connections to 20 source addresses from 127.1.0.1 on, in
turn (default: the kernel's choice). A connection the server closes is opened again after
--reconnect seconds (default 1; 0: never). Every second the status FILE is rewritten with
"attempts N connected N open N closed_by_server N failed N" (connected: connects that
succeeded; open: held now). Runs for --seconds (default until SIGTERM/SIGINT); prints the
last status line on exit.
"""
import argparse
import os
import errno
import ipaddress
import resource
import selectors
import signal
import socket
import struct
import sys
import time


def payload(mode):
    if mode == "idle" or mode == "slow-http":
        return b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if mode == "slow-http" else b""
    if mode == "tls-half":
        # record header (handshake, TLS 1.0 record version, 512 bytes), then the start of a
        # ClientHello (type 1, 508 bytes, version 3.3, 32 random bytes); never finished
        body = b"\x01\x00\x01\xfc\x03\x03" + b"\x11" * 32
        return b"\x16\x03\x01\x02\x00" + body
    if mode == "big-envelope":
        return b"PANS\x00\x01\x00\x00" + struct.pack(">I", BIG) + b"\x0a"
    raise ValueError(mode)


BIG = 4 << 20  # big-envelope: the length claimed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["idle", "tls-half", "big-envelope", "slow-http"])
    ap.add_argument("target")
    ap.add_argument("n", type=int)
    ap.add_argument("--sources")
    ap.add_argument("--reconnect", type=float, default=1.0)
    ap.add_argument("--status")
    ap.add_argument("--seconds", type=float, default=0)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    port = int(port)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.n + 1024), hard))
    sources = [None]
    if a.sources:
        base, count = a.sources.split("/")
        first = ipaddress.ip_address(base)
        sources = [str(first + 1 + i) for i in range(int(count))]
    data = payload(a.mode)
    sel = selectors.DefaultSelector()
    st = dict(attempts=0, connected=0, open=0, closed_by_server=0, failed=0)
    due = []  # (time, slot) of connections to open
    slots = {}  # slot -> [socket, connected?, next header time, bytes still to push]
    chunk = b"\x00" * 65536
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    def open_slot(i):
        st["attempts"] += 1
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        src = sources[i % len(sources)]
        try:
            if src:
                s.bind((src, 0))
            s.connect_ex((host, port))
        except OSError:
            s.close()
            st["failed"] += 1
            if a.reconnect > 0:
                due.append((time.monotonic() + a.reconnect, i))
            return
        slots[i] = [s, False, 0.0, BIG - 2 if a.mode == "big-envelope" else 0]
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, i)

    def lost(i, failed):
        s = slots.pop(i)[0]
        sel.unregister(s)
        s.close()
        if failed:
            st["failed"] += 1
        else:
            st["open"] -= 1
            st["closed_by_server"] += 1
        if a.reconnect > 0 and not stop:
            due.append((time.monotonic() + a.reconnect, i))

    for i in range(a.n):
        open_slot(i)
    end = time.monotonic() + a.seconds if a.seconds else None
    last_status = 0.0
    while not stop and (end is None or time.monotonic() < end):
        for key, ev in sel.select(timeout=0.2):
            i = key.data
            if i not in slots:
                continue
            s, up, _, left = slots[i]
            if up and left and ev & selectors.EVENT_WRITE:
                try:
                    k = s.send(chunk[:min(left, len(chunk))])
                except OSError as e:
                    k = 0 if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK) else -1
                if k < 0:
                    lost(i, False)
                    continue
                slots[i][3] = left = left - k
                if not left:
                    sel.modify(s, selectors.EVENT_READ, i)
                if not ev & selectors.EVENT_READ:
                    continue
            if not up:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    lost(i, True)
                    continue
                slots[i][1] = True
                slots[i][2] = time.monotonic() + 5
                st["connected"] += 1
                st["open"] += 1
                sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if left else 0), i)
                try:
                    if data:
                        s.send(data)
                except OSError:
                    lost(i, False)
                continue
            try:
                b = s.recv(65536)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    continue
                b = b""
            if not b:
                lost(i, False)
        now = time.monotonic()
        if a.mode == "slow-http":
            for i, v in list(slots.items()):
                if v[1] and now >= v[2]:
                    v[2] = now + 5
                    try:
                        v[0].send(b"X-Slow: %d\r\n" % int(now))
                    except OSError:
                        lost(i, False)
        due.sort()
        while due and due[0][0] <= now and not stop:
            open_slot(due.pop(0)[1])
        if a.status and now - last_status >= 1:
            last_status = now
            with open(a.status + ".tmp", "w") as f:
                f.write(" ".join(f"{k} {v}" for k, v in st.items()) + "\n")
            os.replace(a.status + ".tmp", a.status)
    line = " ".join(f"{k} {v}" for k, v in st.items())
    if a.status:
        with open(a.status, "w") as f:
            f.write(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
