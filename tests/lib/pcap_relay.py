#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pcap_relay.py PORTFILE - a PCAP-over-TCP server for tests whose input arrives in parts:
listens on 127.0.0.1 (a free port, written to PORTFILE), takes one client (pano-analyzer
--pcap-connect), and sends it what arrives on standard input, as it arrives (a pcap stream:
the global header first). After the end of standard input it keeps the connection open until
the client closes it, so the client sees no end of stream. Prints "sent N" (the bytes sent so
far) on standard output after each piece. Exit 0, 1 on a socket error.
"""
import os
import socket
import sys


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    tmp = sys.argv[1] + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.getsockname()[1])
    os.rename(tmp, sys.argv[1])
    conn, _ = srv.accept()
    sent = 0
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        conn.sendall(data)
        sent += len(data)
        print('sent %d' % sent, flush=True)
    while conn.recv(4096):
        pass
    conn.close()


if __name__ == '__main__':
    try:
        main()
    except OSError as e:
        sys.stderr.write('pcap_relay.py: %s\n' % e)
        sys.exit(1)
