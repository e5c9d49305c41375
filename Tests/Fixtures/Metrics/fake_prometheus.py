#!/usr/bin/env python3
"""Answers Prometheus HTTP API requests with recorded answers, for aish's tests and
benchmark. Python 3 standard library only.

    python3 fake_prometheus.py --dir PrometheusAPI [--port 0] [--delay S]
        [--route FILE STATUS PROMQL]...   # answer PROMQL (or * for any) with FILE and STATUS
        [--big BYTES]                     # answer every query with a matrix of about BYTES

GET /-/healthy answers "Prometheus Server is Healthy."; /api/v1/targets and
/api/v1/alerts answer DIR/targets.json and DIR/alerts.json; /api/v1/query and
/api/v1/query_range (GET or form POST) answer the first route whose PromQL matches, else
DIR/vector-empty.json or DIR/matrix-empty.json. --delay holds every API answer back.
GET /_fake/requests lists what was asked (method, path, form parameters) as JSON.

Prints "PORT n" once listening; exits when its stdin closes.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer_file(self, name, status=200):
        with open(os.path.join(self.server.opts.dir, name), "rb") as f:
            self.send(status, f.read().strip())

    def handle_request(self, method):
        opts = self.server.opts
        parts = urlsplit(self.path)
        form = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            form.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        if parts.path == "/_fake/requests":
            return self.send(200, json.dumps(self.server.requests))
        with self.server.lock:
            self.server.requests.append({"method": method, "path": parts.path, "form": form,
                                         "authorization": self.headers.get("Authorization")})
        if parts.path == "/-/healthy":
            return self.send(200, "Prometheus Server is Healthy.\n", "text/plain; charset=utf-8")
        if not parts.path.startswith("/api/v1/"):
            return self.send(404, "404 page not found\n", "text/plain; charset=utf-8")
        if opts.delay:
            time.sleep(opts.delay)
        if parts.path == "/api/v1/targets":
            return self.answer_file("targets.json")
        if parts.path == "/api/v1/alerts":
            return self.answer_file("alerts.json")
        if parts.path in ("/api/v1/query", "/api/v1/query_range"):
            promql = form.get("query")
            if promql is None:
                err = {"status": "error", "errorType": "bad_data", "error": "invalid parameter \"query\": parse error: no expression found in input"}
                return self.send(400, json.dumps(err))
            if opts.big:
                return self.send(200, self.server.big_answer())
            for file, status, expr in opts.route or []:
                if expr == "*" or expr == promql:
                    return self.answer_file(file, int(status))
            return self.answer_file("matrix-empty.json" if parts.path.endswith("range") else "vector-empty.json")
        return self.send(404, "404 page not found\n", "text/plain; charset=utf-8")

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--route", nargs=3, action="append", metavar=("FILE", "STATUS", "PROMQL"))
    p.add_argument("--big", type=int, default=0)
    opts = p.parse_args()
    # aish sends every query of `metrics --prom` at once (33 connections); socketserver's
    # default listen backlog of 5 drops the rest, and each dropped SYN costs a 1 s, 3 s, 7 s
    # retransmit: the wait then measured the backlog, not aish. Prometheus (Go) uses somaxconn.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    server.requests = []
    server.lock = threading.Lock()
    big = []

    def big_answer():
        # Series of 721 points as Prometheus writes them, until the answer is BYTES long.
        with server.lock:
            if not big:
                points = ",".join('[%d.5,"%d.123456789"]' % (1795969912 + 5 * i, i) for i in range(721))
                series, size, n = [], 80, 0
                while size < opts.big:
                    s = '{"metric":{"__name__":"x","instance":"127.0.0.1:%d","job":"big"},"values":[%s]}' % (n, points)
                    series.append(s)
                    size += len(s) + 1
                    n += 1
                big.append(('{"status":"success","data":{"resultType":"matrix","result":[%s]}}' % ",".join(series)).encode())
        return big[0]
    server.big_answer = big_answer
    print("PORT %d" % server.server_address[1], flush=True)

    def watch():
        while sys.stdin.buffer.read(1024):
            pass
        server.shutdown()
    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
