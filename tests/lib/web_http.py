#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""web_http.py - the tests' HTTP/1.1 server (tests/lib/web.sh): keep-alive, files, bodies.

usage: web_http.py ADDR PORT DOCROOT

GET and HEAD serve files from DOCROOT (Python's SimpleHTTPRequestHandler, speaking HTTP/1.1 so
that a client may send several requests on one connection). POST and PUT read the request body
(Content-Length, or chunked transfer coding) and answer 200 with "received N bytes\\n". Logs
one line per request on stderr.
"""
import http.server
import socketserver
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            n = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return n
                n += len(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after the chunk
        return len(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def do_POST(self):
        body = b"received %d bytes\n" % self.read_body()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def handler(*a, **kw):
        return Handler(*a, directory=root, **kw)

    Server((addr, port), handler).serve_forever()


if __name__ == "__main__":
    main()
