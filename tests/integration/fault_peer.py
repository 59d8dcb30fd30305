#!/usr/bin/env python3
"""A misbehaving TAXII 2.1 peer for tests/integration/test_sync.sh.

Serves HTTPS on 127.0.0.1 (certificate and key given on the command line) and answers
GET .../collections/<id>/objects/ according to the collection id's first group:

  00000500  always HTTP 500 with a TAXII error body
  0000007a  truncated JSON
  0000000e  two pages: the first says more=true but gives no `next`, only the
            X-TAXII-Date-Added-Last header; the second (asked with added_after) ends
  00000f1a  flaky: HTTP 503 until the peer has been asked 3 times, then one page
  0000b16e  a page bigger than the client's limit would be if it were small (here:
            one page whose objects list is not a list)

Every object it serves is a valid STIX 2.1 indicator. Usage:
  fault_peer.py CERT KEY PORTFILE      (writes the port it listens on to PORTFILE)
"""
import http.server
import json
import socketserver
import ssl
import sys
import threading

counts = {}
lock = threading.Lock()


def indicator(n):
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--%08x-0000-4000-8000-0000000000%02d" % (0xfa0000 + n, n),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '192.0.2.%d']" % n, "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", "application/taxii+json;version=2.1")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        if len(parts) == 1:  # the API root
            self.send(200, json.dumps({"title": "fault peer", "versions": [
                "application/taxii+json;version=2.1"], "max_content_length": 1048576}))
            return
        if len(parts) < 4 or parts[1] != "collections" or parts[3] != "objects":
            self.send(404, json.dumps({"title": "Not found", "http_status": "404"}))
            return
        mode = parts[2].split("-")[0]
        with lock:
            counts[mode] = counts.get(mode, 0) + 1
            seen = counts[mode]
        if mode == "00000500":
            self.send(500, json.dumps({"title": "Internal error", "http_status": "500",
                                       "description": "the fault peer always fails"}))
        elif mode == "0000007a":
            self.send(200, '{"more":false,"objects":[{"type":"indicator","id":')
        elif mode == "0000000e":
            if "added_after=" not in query:
                self.send(200, json.dumps({"more": True, "objects": [indicator(1), indicator(2)]}),
                          {"X-TAXII-Date-Added-First": "2024-01-01T00:00:01.000000Z",
                           "X-TAXII-Date-Added-Last": "2024-01-01T00:00:02.000000Z"})
            elif "2024-01-01T00%3A00%3A02.000000Z" in query or "2024-01-01T00:00:02.000000Z" in query:
                self.send(200, json.dumps({"more": False, "objects": [indicator(3)]}),
                          {"X-TAXII-Date-Added-First": "2024-01-01T00:00:03.000000Z",
                           "X-TAXII-Date-Added-Last": "2024-01-01T00:00:03.000000Z"})
            else:
                self.send(200, json.dumps({"more": False}))
        elif mode == "00000f1a":
            if seen <= 3:
                self.send(503, json.dumps({"title": "Service unavailable", "http_status": "503"}))
            else:
                self.send(200, json.dumps({"more": False, "objects": [indicator(4)]}),
                          {"X-TAXII-Date-Added-Last": "2024-01-01T00:00:04.000000Z"})
        elif mode == "0000b16e":
            self.send(200, json.dumps({"more": False, "objects": {"not": "a list"}}))
        else:
            self.send(404, json.dumps({"title": "Collection not found", "http_status": "404"}))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    cert, key, portfile = sys.argv[1:4]
    srv = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile, "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
