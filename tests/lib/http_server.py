#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""http_server.py - the HTTP/1.1 server of the HTTP tests: Python's http.server with keep-alive,
GET/HEAD of files under a directory, and POST/PUT that read the body (Content-Length or
chunked) and answer "got N" (N the body's bytes).

usage: http_server.py ADDRESS PORT DIRECTORY
"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            n = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return n
                n += len(self.rfile.read(size))
                self.rfile.readline()
        return len(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def do_POST(self):
        body = b"got %d" % self.read_body()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST

    def log_message(self, *args):
        pass


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    handler = functools.partial(Handler, directory=root)
    http.server.ThreadingHTTPServer((addr, port), handler).serve_forever()


if __name__ == "__main__":
    main()
