#!/usr/bin/env python3
"""Serves a Prometheus text file the way a LiteLLM gateway serves /metrics, for aish's tests:
GET /metrics answers 307 to /metrics/ (as LiteLLM's mounted prometheus app does), and
/metrics/ needs "Authorization: Bearer KEY". Python 3 standard library only.

    python3 litellm_metrics_server.py --file litellm.prom --key sk-test [--port 0]

Prints "PORT n" once listening; exits when its stdin closes.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, ctype, extra=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        opts = self.server.opts
        if self.path == "/metrics":
            return self.send(307, "", "text/plain", [("Location", "/metrics/")])
        if self.path != "/metrics/":
            return self.send(404, json.dumps({"detail": "Not Found"}), "application/json")
        if self.headers.get("Authorization") != "Bearer " + opts.key:
            err = {"error": {"message": "Authentication Error, No api key passed in.", "type": "auth_error",
                             "param": "None", "code": "401"}}
            return self.send(401, json.dumps(err), "application/json")
        with open(opts.file, encoding="utf-8") as f:
            self.send(200, f.read(), "text/plain; version=0.0.4; charset=utf-8")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--file", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=0)
    opts = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    print("PORT %d" % server.server_address[1], flush=True)

    def watch():
        while sys.stdin.buffer.read(1024):
            pass
        server.shutdown()
    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
