#!/usr/bin/env python3
"""Stands in for a llama.cpp server or the LiteLLM gateway in StackScriptTests: listens on
the --port it is given and answers every GET with 200, so that scripts/stack can start,
probe and stop it as it does the real services (whose command lines it copies: scripts/stack
finds its processes by them)."""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
print(f"fake service on 127.0.0.1:{port}", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
