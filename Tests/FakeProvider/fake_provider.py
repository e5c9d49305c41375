#!/usr/bin/env python3
"""A fake LLM provider for aish's tests: speaks the OpenAI-compatible and the Ollama wire
formats and misbehaves on demand. Python 3 standard library only.

Start
-----
    python3 fake_provider.py [--port 0] [options]

It binds 127.0.0.1 (``--host``) on ``--port`` (0 = any free port) and prints the bound port
as the first line of stdout, e.g. ``PORT 43210``, then serves until killed (or, with
``--exit-on-stdin-eof``, until its stdin closes, so a crashed test leaves nothing behind).

Endpoints
---------
OpenAI-compatible (vLLM, llama.cpp, LiteLLM, OpenAI):
    GET  /v1/models                 {"object":"list","data":[{"id":...}]}   (also /models)
    POST /tokenize                  --flavor llamacpp: {"content": TEXT} -> {"tokens": [ids]};
                                    --flavor vllm: {"prompt": TEXT} -> {"count", "tokens", "max_model_len"};
                                    404 otherwise (the tokens are the reply's word-level tokens)
    POST /v1/chat/completions       stream:true -> SSE "data: {chunk}" lines, then "data: [DONE]";
                                    with stream_options.include_usage a last chunk with "usage";
                                    with --flavor llamacpp the finish chunk carries "timings".
                                    stream:false -> one JSON object with "usage".
                                    max_tokens limits the number of reply tokens.
Ollama:
    GET  /api/tags, /api/ps, /api/version   /api/ps lists the models chatted with: size, size_vram
                                    (--vram-share of it), expires_at (--keep-alive S after the last
                                    request; negative: kept loaded, year 2318 as Ollama writes it),
                                    context_length
    POST /api/chat                  NDJSON (stream defaults to true as in Ollama), last object
                                    done:true with eval_count, eval_duration, prompt_eval_count,
                                    prompt_eval_duration, load_duration, total_duration;
                                    options.num_predict limits the tokens. stream:false -> one object.
    POST /api/generate              the same with "response" instead of "message".
Health and metrics:
    GET  /health                    {"status":"ok"} (llama.cpp style; 503 "Loading model" under fault 503-loading)
    GET  /health/liveliness, /health/readiness   (LiteLLM style)
    GET  /metrics                   Prometheus text: vllm:* and llamacpp:* series (or one family,
                                    per --flavor); counters grow with the requests served;
                                    vllm:num_requests_running counts the chat requests in flight,
                                    vllm:num_requests_waiting is --waiting; --vllm-metrics v1 writes
                                    vLLM v1's names (kv_cache_usage_perc, an engine label) and
                                    --kv-cache-usage the KV-cache gauge.
    GET  /slots                     --flavor llamacpp only (llama-server's slot monitor; others 404 as
                                    the Python llama.cpp server does): --slots N slots of --slot-ctx
                                    tokens, busy while a chat request holds one, each holding the
                                    tokens of its last request (n_prompt_tokens, prompt + generated);
                                    --slots 0 answers 501 as llama-server started with --no-slots.
Stand-ins for the services around a stack (only when their option is given):
    GET  /health                    with --litellm-health JSON: LiteLLM's /health answer (that JSON:
                                    healthy_endpoints, unhealthy_endpoints, counts); with --require-key
                                    it needs the key as LiteLLM does (401 otherwise); with
                                    --litellm-health-delay S it answers after S seconds
    GET  /-/healthy                 with --prometheus-targets JSON: "Prometheus Server is Healthy."
    GET  /api/v1/targets            with --prometheus-targets JSON (a list of {job, instance, health,
                                    lastError}): Prometheus's targets API answer
    GET  /api/health                with --grafana-health JSON: Grafana's health answer (that JSON)
    --response-headers JSON         extra headers on every chat completion answer (e.g. LiteLLM's
                                    x-litellm-model-api-base, x-litellm-attempted-fallbacks)
Test control (not part of any real API):
    GET  /_fake/requests            the requests received so far (method, path, headers, json body)
    POST /_fake/reset               forget them and reset counters
    POST /_fake/config              change options at run time, JSON keys as the flags below
                                    without dashes (e.g. {"fail_all": 503, "reply": "hi"})

The reply is ``--reply`` (default "Hello from the fake provider."), split into tokens at
word boundaries ("Hello", " from", ...), one streamed chunk per token. With ``--echo`` the
reply is the last user message instead.

Faults
------
A request picks faults in any of three ways (all may be combined):
  * the model name:   "model": "fault:429:retry=2"   or   "fault:slow-first=2,stall-after=3"
  * a header:         X-Fake-Fault: 500
  * a query string:   GET /health?fault=503-loading
and ``--fault SPEC`` applies SPEC to every request. SPEC is a comma-separated list of items;
an item is NAME, NAME=VALUE, or NAME:KEY=VALUE:... .

  NNN                   answer HTTP NNN (any 4xx/5xx) with an OpenAI-style error body
                        {"error":{"message":"fake provider: injected NNN","type":...,"code":NNN}}
                        (Ollama endpoints: {"error":"fake provider: injected NNN"})
  429:retry=S           429 with "Retry-After: S" (default 1)
  429:retry-date=S      429 with Retry-After as an HTTP date S seconds ahead
  503-loading           llama.cpp's 503 {"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}
  delay-headers=S       wait S seconds before sending the status line
  slow-first=S          send headers, then wait S seconds before the first body byte
  token-delay=S         wait S seconds between tokens
  stall-after=N         send N content chunks, then stall (connection kept open) for stall-for=S
                        seconds (default 300)
  truncate[=N]          send N content chunks (default 2), then close the connection: no [DONE],
                        no done:true, no terminating HTTP chunk
  malformed             one line of invalid JSON after the first content chunk (stream continues)
  bad-utf8              a content chunk containing the invalid bytes FF FE ("bad \xff\xfe bytes")
  split-utf8            reply "héllo wörld 😀 ok"; each multi-byte character is written in two
                        separate writes (20 ms apart), so it arrives split across chunks
  big-line              one content chunk of 1 MiB ("x" * 1048576) on a single line
  big-reply=N           a reply of N bytes, in content chunks of 64 KiB ("0123456789abcde\n" repeated)
  json-reply            answer one JSON object (application/json) even when the request asks for a
                        stream, as a server that ignores "stream": true does
  error-in-stream       after the first content chunk, an in-stream error object
                        (SSE: data: {"error":{"message":"fake in-stream error"}};
                         Ollama: {"error":"fake in-stream error"}), then the connection closes
  no-newline            the stream's last line has no trailing newline
  crlf                  SSE lines end with CRLF
  close                 close the connection without any response
  redirect              307 to the same path without the query (as LiteLLM's /metrics -> /metrics/)
  html                  200 with a text/html page (a captive portal / login proxy), not an API answer
  empty                 200 with an empty body

Flags (server-wide defaults)
----------------------------
  --reply TEXT  --echo  --models a,b  --name NAME  --flavor generic|vllm|llamacpp
  --slots N  --slot-ctx N  --waiting N  --kv-cache-usage X  --vllm-metrics v0|v1
  --vram-share X  --keep-alive S     (the engines' own state, see /slots, /metrics, /api/ps)
  --token-delay S  --first-token-delay S  --fail-all STATUS  --fail-first N [--fail-status STATUS]  --error-message TEXT (of injected errors)
  --require-key KEY (401 unless "Authorization: Bearer KEY")  --strict-models (404 for unknown models)
  --fault SPEC  --exit-on-stdin-eof  --verbose
  --capacity N     serve at most N chat streams at once; the rest wait in the server's queue
                   before their first byte (so queueing starts at a known concurrency)
  --tokens-per-chunk N   OpenAI streams put N tokens in each content chunk (--token-delay
                   between chunks), as servers that batch their output do; usage counts tokens
  --no-usage       never send usage (streamed or not), as a server without stream_options
  ignore_eos       a chat body with "ignore_eos": true and max_tokens gets exactly max_tokens
                   tokens (the reply repeated), as llama.cpp and vLLM generate past EOS
  --gateway JSON   act as a LiteLLM proxy: every chat answer carries its x-litellm-* headers
                   (model group, id, api_base from {"groups": {GROUP: API_BASE}}, attempted
                   fallbacks and retries, overhead_ms, response_ms); a body with
                   "mock_testing_fallbacks": true fails the requested group and answers as its
                   first entry in {"fallbacks": {GROUP: [GROUP...]}} (HTTP 500 when it has none);
                   with "allow_mock": false it is refused with HTTP 400, as LiteLLM does by default;
                   with "cache": true a response cache as LiteLLM 1.108's: a request seen before
                   (same group, messages, max_tokens) answers with x-litellm-cache-key, unless
                   its body has "cache": {"no-cache": true}; "no-store": true does not store it

Connection refused: tests use a port with nothing listening (bind port 0, close it).
"""

import argparse
import collections
import email.utils
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

FAULT_PREFIX = "fault:"


def dumps(obj):
    """Compact JSON as real servers send it; non-ASCII text kept as UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def parse_faults(spec):
    """'429:retry=2,slow-first=1' -> {'429': {'retry': '2'}, 'slow-first': {'': '1'}}"""
    faults = {}
    if not spec:
        return faults
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(":")
        head = parts[0]
        params = {}
        if "=" in head:
            head, value = head.split("=", 1)
            params[""] = value
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k] = v
            else:
                params[p] = ""
        faults[head] = params
    return faults


def fault_value(faults, name, default=None, key=""):
    if name not in faults:
        return default
    return faults[name].get(key, default) or default


class FirstComeFirstServed:
    """At most N holders at once; the others wait and are served in the order they came,
    as a model server's scheduler serves its queue. (threading.Semaphore lets a newcomer
    take a freed slot before a waiter wakes, so under load a request could wait several
    rounds behind later ones.)"""

    def __init__(self, n):
        self.free = n
        self.lock = threading.Lock()
        self.waiting = collections.deque()

    def acquire(self):
        with self.lock:
            if self.free > 0 and not self.waiting:
                self.free -= 1
                return
            turn = threading.Event()
            self.waiting.append(turn)
        turn.wait()   # a releaser handed its slot over

    def release(self):
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()
            else:
                self.free += 1


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests = []
        self.request_count = 0
        self.prompt_tokens = 0
        self.generated_tokens = 0
        self.running = 0
        # --capacity: a server that decodes N streams at once and queues the rest.
        self.capacity = FirstComeFirstServed(args.capacity) if args.capacity > 0 else None
        self.loaded = []
        self.last_used = {}     # model -> time of its last Ollama request
        self.slots = []         # llama.cpp slots: {"busy": bool, "tokens": int or None, "task": int}
        self.ttft = []      # seconds, for the histogram
        self.e2e = []
        self.response_cache = set()   # --gateway with "cache": the keys of stored replies

    def record(self, entry):
        with self.lock:
            self.request_count += 1
            self.requests.append(entry)
            if len(self.requests) > 200:
                self.requests.pop(0)
            return self.request_count


def tokens_of(text):
    """Word-level tokens keeping their leading space: 'a b' -> ['a', ' b']."""
    out = []
    cur = ""
    for ch in text:
        if ch == " " and cur.strip():
            out.append(cur)
            cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # As real servers do: without TCP_NODELAY, a keep-alive client that writes its
        # next request only after reading this response waits out delayed ACKs (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server_version = "FakeProvider/1.0"

    # ---------------------------------------------------------------- plumbing

    @property
    def state(self):
        return self.server.state

    @property
    def opts(self):
        return self.server.state.args

    def log_message(self, fmt, *args):
        if self.opts.verbose:
            sys.stderr.write("fake_provider: " + (fmt % args) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return raw, (json.loads(raw) if raw else None)
        except ValueError:
            return raw, None

    def send_json(self, status, obj, extra_headers=()):
        data = dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":   # a HEAD response has no body: bytes sent anyway are read as the next response
            self.wfile.write(data)

    def send_text(self, status, text, content_type="text/plain; charset=utf-8"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_stream(self, content_type, extra_headers=()):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Fake-Name", self.opts.name)
        for k, v in list(extra_headers) + self.extra_response_headers():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def extra_response_headers(self):
        h = self.opts.response_headers
        if not h:
            return []
        if isinstance(h, str):
            h = json.loads(h)
        return [(k, str(v)) for k, v in h.items()]

    def write_chunk(self, data):
        if not data:
            return
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop_connection(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def faults_for(self, body_json):
        specs = []
        if self.opts.fault:
            specs.append(self.opts.fault)
        header = self.headers.get("X-Fake-Fault")
        if header:
            specs.append(header)
        query = parse_qs(urlparse(self.path).query)
        specs.extend(query.get("fault", []))
        model = (body_json or {}).get("model") if isinstance(body_json, dict) else None
        if isinstance(model, str) and model.startswith(FAULT_PREFIX):
            specs.append(model[len(FAULT_PREFIX):])
        faults = {}
        for s in specs:
            faults.update(parse_faults(s))
        return faults

    # ------------------------------------------------------------- dispatch

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def do_HEAD(self):
        self.handle_request("HEAD")

    def handle_request(self, method):
        path = urlparse(self.path).path
        raw, body = self.read_body() if method == "POST" else (b"", None)
        if not path.startswith("/_fake/"):
            self.state.record({
                "method": method, "path": self.path, "headers": dict(self.headers.items()),
                "body": body if body is not None else (raw.decode("utf-8", "replace") if raw else None),
                "time": time.time(),
            })
        faults = self.faults_for(body)

        if path.startswith("/_fake/"):
            return self.control(path, body)

        delay = fault_value(faults, "delay-headers")
        if delay:
            time.sleep(float(delay))
        if "close" in faults:
            return self.drop_connection()
        if "redirect" in faults:
            self.send_response(307)
            self.send_header("Location", path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        open_paths = ("/health/liveliness", "/health/readiness", "/metrics", "/-/healthy", "/api/v1/targets", "/api/health")
        if not self.opts.litellm_health:
            open_paths += ("/health",)
        if self.opts.require_key and path not in open_paths:
            if self.headers.get("Authorization") != "Bearer " + self.opts.require_key:
                return self.send_json(401, {"error": {"message": "Incorrect API key provided",
                                                      "type": "invalid_request_error", "code": "invalid_api_key"}})

        if self.error_response(path, faults):
            return
        if "html" in faults:
            return self.send_text(200, "<html><body>Please log in</body></html>", "text/html; charset=utf-8")

        routes = {
            ("GET", "/v1/models"): self.openai_models,
            ("GET", "/models"): self.openai_models,
            ("POST", "/v1/chat/completions"): self.openai_chat,
            ("POST", "/chat/completions"): self.openai_chat,
            ("POST", "/tokenize"): self.tokenize,
            ("GET", "/api/tags"): self.ollama_tags,
            ("GET", "/api/ps"): self.ollama_ps,
            ("GET", "/api/version"): self.ollama_version,
            ("POST", "/api/chat"): self.ollama_chat,
            ("POST", "/api/generate"): self.ollama_generate,
            ("GET", "/health"): self.health,
            ("HEAD", "/health"): self.health,
            ("GET", "/health/liveliness"): self.liveliness,
            ("GET", "/health/readiness"): self.liveliness,
            ("GET", "/metrics"): self.metrics,
            ("GET", "/slots"): self.slots,
            ("GET", "/-/healthy"): self.prometheus_healthy,
            ("GET", "/api/v1/targets"): self.prometheus_targets,
            ("GET", "/api/health"): self.grafana_health,
        }
        handler = routes.get((method, path))
        if handler is None:
            return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})
        return handler(body or {}, faults)

    def error_response(self, path, faults):
        """Sends an injected or configured error status; True if one was sent."""
        ollama = path.startswith("/api/")
        status = None
        headers = []
        if "503-loading" in faults:
            self.send_json(503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
            return True
        for name in faults:
            if name.isdigit() and len(name) == 3:
                status = int(name)
                params = faults[name]
                if status == 429:
                    if "retry-date" in params:
                        when = time.time() + float(params["retry-date"] or 1)
                        headers.append(("Retry-After", email.utils.formatdate(when, usegmt=True)))
                    else:
                        headers.append(("Retry-After", params.get("retry") or "1"))
        if status is None and self.opts.fail_all and not path.startswith("/metrics"):
            status = self.opts.fail_all
        if status is None and self.opts.fail_first:
            with self.state.lock:
                if self.opts.fail_first > 0:
                    self.opts.fail_first -= 1
                    status = self.opts.fail_status
        if status is None:
            return False
        message = "fake provider: injected %d" % status
        if status == 429:
            message = "Rate limit exceeded (fake provider)"
        if getattr(self.opts, "error_message", None):
            message = self.opts.error_message
        if ollama:
            self.send_json(status, {"error": message}, headers)
        else:
            kind = "rate_limit_error" if status == 429 else ("server_error" if status >= 500 else "invalid_request_error")
            self.send_json(status, {"error": {"message": message, "type": kind, "code": status}}, headers)
        return True

    def control(self, path, body):
        if path == "/_fake/requests":
            with self.state.lock:
                return self.send_json(200, {"count": self.state.request_count, "requests": self.state.requests})
        if path == "/_fake/reset":
            with self.state.lock:
                self.state.requests = []
                self.state.request_count = 0
            return self.send_json(200, {"ok": True})
        if path == "/_fake/config":
            for k, v in (body or {}).items():
                setattr(self.opts, k.replace("-", "_"), v)
                if k == "models":
                    self.opts.model_list = [m for m in v.split(",") if m]
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": "unknown control path"})

    # ------------------------------------------------------------ the reply

    def reply_tokens(self, body, faults, limit):
        if "split-utf8" in faults:
            text = "héllo wörld 😀 ok"
        elif self.opts.echo:
            text = ""
            for m in body.get("messages") or []:
                if m.get("role") == "user":
                    text = m.get("content") or ""
            text = text or body.get("prompt") or ""
        else:
            text = self.opts.reply
        toks = tokens_of(text)
        if "big-line" in faults:
            toks = ["x" * (1 << 20)] + toks
        big = fault_value(faults, "big-reply", None)
        if big is not None:
            n = int(big)
            chunk = "0123456789abcde\n" * 4096  # 64 KiB
            toks = [chunk] * (n // len(chunk)) + ([chunk[:n % len(chunk)]] if n % len(chunk) else [])
        if body.get("ignore_eos") is True and limit is not None and toks:
            while len(toks) < limit:
                toks = toks + toks
        if limit is not None and limit >= 0:
            toks = toks[:max(1, limit)] if toks else toks
        return toks

    def tokenize(self, body, faults):
        """llama-server's and vLLM's POST /tokenize over the fake's word-level tokens."""
        if self.opts.flavor == "llamacpp":
            toks = tokens_of(body.get("content") or "")
            return self.send_json(200, {"tokens": list(range(1, len(toks) + 1))})
        if self.opts.flavor == "vllm":
            toks = tokens_of(body.get("prompt") or "")
            return self.send_json(200, {"count": len(toks), "max_model_len": 4096,
                                        "tokens": list(range(1, len(toks) + 1))})
        return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})

    def pacing(self, faults):
        first = float(fault_value(faults, "slow-first", self.opts.first_token_delay) or 0)
        between = float(fault_value(faults, "token-delay", self.opts.token_delay) or 0)
        return first, between

    def note_model(self, model):
        with self.state.lock:
            if model and not model.startswith(FAULT_PREFIX):
                if model not in self.state.loaded:
                    self.state.loaded.append(model)
                self.state.last_used[model] = time.time()

    def check_model(self, model, ollama):
        if not self.opts.strict_models or model is None or model.startswith(FAULT_PREFIX):
            return True
        if model in self.opts.model_list:
            return True
        if ollama:
            self.send_json(404, {"error": "model '%s' not found" % model})
        else:
            self.send_json(404, {"error": {"message": "The model `%s` does not exist." % model,
                                           "type": "invalid_request_error", "code": "model_not_found"}})
        return False

    def stream_pieces(self, pieces, faults, eol, terminal, on_error, uncounted=0):
        """Writes encoded pieces (bytes) with the requested pacing and faults; the first
        `uncounted` pieces (OpenAI's role chunk) do not count as content chunks.
        Returns False if the stream was cut (truncate / stall / error)."""
        first_delay, between = self.pacing(faults)
        if first_delay:
            time.sleep(first_delay)
        stall_after = fault_value(faults, "stall-after")
        truncate = faults.get("truncate")
        truncate_after = int(truncate.get("", "") or 2) if truncate is not None else None
        sent = 0
        for i, piece in enumerate(pieces):
            if i > 0 and between:
                time.sleep(between)
            if "split-utf8" in faults:
                self.write_split(piece + eol)
            else:
                self.write_chunk(piece + eol)
            if i < uncounted:
                continue
            sent += 1
            if sent == 1 and "malformed" in faults:
                self.write_chunk(self.malformed_line() + eol)
            if sent == 1 and "error-in-stream" in faults:
                self.write_chunk(on_error + eol)
                self.drop_connection()
                return False
            if sent == 1 and "bad-utf8" in faults:
                self.write_chunk(self.bad_utf8_line() + eol)
            if truncate_after is not None and sent >= truncate_after:
                self.drop_connection()
                return False
            if stall_after is not None and sent >= int(stall_after):
                time.sleep(float(fault_value(faults, "stall-for", 300)))
                self.drop_connection()
                return False
        if terminal:
            self.write_chunk(terminal)
        self.end_stream()
        return True

    def write_split(self, data):
        """Writes data so that every multi-byte UTF-8 character is cut in two writes."""
        start = 0
        for i, b in enumerate(data):
            if b >= 0xC0:  # a lead byte: cut right after it
                self.write_chunk(data[start:i + 1])
                time.sleep(0.02)
                start = i + 1
        self.write_chunk(data[start:])

    # ------------------------------------------------------------ OpenAI

    def openai_models(self, body, faults):
        now = int(time.time())
        self.send_json(200, {"object": "list", "data": [
            {"id": m, "object": "model", "created": now, "owned_by": "fake-provider"} for m in self.opts.model_list]})

    def gateway_headers(self, body):
        """--gateway: the x-litellm-* headers a LiteLLM proxy sends, and its fault switch
        mock_testing_fallbacks (the requested group fails, its first fallback answers).
        Returns (headers, None), or (None, error body) when the group has no fallback."""
        gw = self.opts.gateway
        group = body.get("model") or ""
        attempted = 0
        if "mock_testing_fallbacks" in body and gw.get("allow_mock", True) is not True:
            return None, {"error": {"message": "Mock testing request params are disabled on this proxy: "
                                               "mock_testing_fallbacks. An admin can enable them by setting "
                                               "`general_settings.dangerously_allow_mock_testing_request_params: true` "
                                               "in config.yaml.", "type": "None", "param": "None", "code": "400"}}
        if body.get("mock_testing_fallbacks") is True:
            fallbacks = (gw.get("fallbacks") or {}).get(group) or []
            if not fallbacks:
                return None, {"error": {"message": "litellm.InternalServerError: This is a mock exception for model=%s, "
                                                   "to trigger a fallback. Fallbacks=None" % group,
                                        "type": None, "param": None, "code": "500"}}
            group = fallbacks[0]
            attempted = 1
        base = (gw.get("groups") or {}).get(group)
        headers = [("x-litellm-model-group", group), ("x-litellm-model-id", "id-" + group),
                   ("x-litellm-attempted-fallbacks", str(attempted)), ("x-litellm-attempted-retries", "0"),
                   ("x-litellm-overhead-duration-ms", str(gw.get("overhead_ms", 3.5))),
                   ("x-litellm-response-duration-ms", str(gw.get("response_ms", 20.0)))]
        if base:
            headers.append(("x-litellm-model-api-base", base))
        if gw.get("cache"):
            controls = body.get("cache") if isinstance(body.get("cache"), dict) else {}
            key = hashlib.sha256(json.dumps([group, body.get("messages"), body.get("max_tokens")],
                                            sort_keys=True).encode()).hexdigest()
            with self.state.lock:
                hit = key in self.state.response_cache and controls.get("no-cache") is not True
                if not hit and controls.get("no-store") is not True:
                    self.state.response_cache.add(key)
            if hit:
                headers.append(("x-litellm-cache-key", key))
        return headers, None

    def openai_chat(self, body, faults):
        model = body.get("model") or self.opts.model_list[0]
        gateway_headers = ()
        if self.opts.gateway is not None:
            gateway_headers, error = self.gateway_headers(body)
            if error is not None:
                return self.send_json(int(error["error"]["code"]), error)
        elif not self.check_model(model, ollama=False):
            return
        self.note_model(model)
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        toks = self.reply_tokens(body, faults, limit)
        prompt_tokens = sum(len(tokens_of(m.get("content") or "")) for m in body.get("messages") or []) or 1
        started = time.time()
        cid = "chatcmpl-" + uuid.uuid4().hex[:12]
        created = int(started)
        if self.state.capacity is not None:
            self.state.capacity.acquire()
        with self.state.lock:
            self.state.running += 1
            slot = self.take_slot(prompt_tokens)
        try:
            if not body.get("stream") or "json-reply" in faults:
                first, between = self.pacing(faults)
                time.sleep(first + between * max(0, len(toks) - 1))
                if "empty" in faults:
                    return self.send_text(200, "", "application/json")
                self.account(prompt_tokens, len(toks), started, started)
                text = "".join(toks)
                return self.send_json(200, {
                    "id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "length" if limit is not None and len(toks) >= limit else "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(toks),
                              "total_tokens": prompt_tokens + len(toks)}}, gateway_headers)
            self.start_stream("text/event-stream", gateway_headers)
            if "empty" in faults:
                return self.end_stream()
            eol = b"\r\n\r\n" if "crlf" in faults else b"\n\n"

            def chunk(delta, finish=None, **extra):
                obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                obj.update(extra)
                return b"data: " + dumps(obj).encode()

            pieces = [chunk({"role": "assistant", "content": ""})]
            per = max(1, int(self.opts.tokens_per_chunk))
            pieces += [chunk({"content": "".join(toks[i:i + per])}) for i in range(0, len(toks), per)]
            finish_extra = {}
            if self.opts.flavor == "llamacpp":
                finish_extra["timings"] = {"prompt_n": prompt_tokens, "prompt_ms": 12.5,
                                           "prompt_per_second": prompt_tokens / 0.0125,
                                           "predicted_n": len(toks), "predicted_ms": 40.0 * len(toks),
                                           "predicted_per_second": 25.0}
            reason = "length" if limit is not None and len(toks) >= limit else "stop"
            pieces.append(chunk({}, reason, **finish_extra))
            if (body.get("stream_options") or {}).get("include_usage") and not self.opts.no_usage:
                pieces.append(b"data: " + dumps({
                    "id": cid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(toks),
                              "total_tokens": prompt_tokens + len(toks)}}).encode())
            terminal = b"data: [DONE]" if "no-newline" in faults else b"data: [DONE]" + eol
            error_line = b'data: {"error":{"message":"fake in-stream error","type":"server_error"}}'
            done = self.stream_pieces(pieces, faults, eol, terminal, error_line, uncounted=1)
            if done:
                self.account(prompt_tokens, len(toks), started, started + self.pacing(faults)[0])
        finally:
            with self.state.lock:
                self.state.running -= 1
                if slot is not None:
                    slot["busy"] = False
                    slot["tokens"] += len(toks)
                    slot["decoded"] = len(toks)
            if self.state.capacity is not None:
                self.state.capacity.release()

    def sized_slots(self):
        """The slot list, as many as --slots says now (state lock held)."""
        want = max(0, int(self.opts.slots))
        slots = self.state.slots
        while len(slots) < want:
            slots.append({"busy": False, "tokens": None, "task": None, "decoded": 0})
        del slots[want:]
        return slots

    def take_slot(self, prompt_tokens):
        """An idle llama.cpp slot for a chat request (state lock held); None when all are busy."""
        for slot in self.sized_slots():
            if not slot["busy"]:
                slot.update(busy=True, tokens=prompt_tokens, task=self.state.request_count, decoded=0)
                return slot
        return None

    def malformed_line(self):
        return b'data: {"choices": [oops' if self.path.startswith("/v1") or self.path.startswith("/chat") \
            else b'{"message": oops'

    def bad_utf8_line(self):
        if self.path.startswith("/api/"):
            return b'{"model":"m","message":{"role":"assistant","content":"bad \xff\xfe bytes"},"done":false}'
        return b'data: {"choices":[{"index":0,"delta":{"content":"bad \xff\xfe bytes"},"finish_reason":null}]}'

    def account(self, prompt_tokens, generated, started, first_at):
        with self.state.lock:
            self.state.prompt_tokens += prompt_tokens
            self.state.generated_tokens += generated
            self.state.ttft.append(max(0.0, first_at - started))
            self.state.e2e.append(time.time() - started)

    # ------------------------------------------------------------ Ollama

    def ollama_tags(self, body, faults):
        self.send_json(200, {"models": [{
            "name": m, "model": m, "modified_at": "2025-10-19T12:00:00.000000000Z", "size": 4920753328 + i,
            "digest": ("%064x" % (0xabc + i)),
            "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
        } for i, m in enumerate(self.opts.model_list)]})

    def ollama_ps(self, body, faults):
        with self.state.lock:
            loaded = list(self.state.loaded)
            last = dict(self.state.last_used)
        size = 5137025024
        keep = float(self.opts.keep_alive)

        def expires(m):
            if keep < 0:
                return "2318-11-29T17:00:00.000000000Z"   # keep_alive -1: Ollama's far future
            at = last.get(m, time.time()) + keep
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + ".%06d+00:00" % int((at % 1) * 1e6)
        self.send_json(200, {"models": [{
            "name": m, "model": m, "size": size, "digest": "%064x" % 0xdef,
            "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                        "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
            "expires_at": expires(m), "size_vram": int(size * float(self.opts.vram_share)), "context_length": 4096,
        } for m in loaded]})

    def ollama_version(self, body, faults):
        self.send_json(200, {"version": "0.5.7-fake"})

    def ollama_chat(self, body, faults, generate=False):
        model = body.get("model") or self.opts.model_list[0]
        if not self.check_model(model, ollama=True):
            return
        self.note_model(model)
        limit = (body.get("options") or {}).get("num_predict")
        toks = self.reply_tokens(body, faults, limit)
        prompt_tokens = (sum(len(tokens_of(m.get("content") or "")) for m in body.get("messages") or [])
                         or len(tokens_of(body.get("prompt") or "")) or 1)
        started = time.time()
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(started))

        def obj(text, done, **extra):
            o = {"model": model, "created_at": created}
            if generate:
                o["response"] = text
            else:
                o["message"] = {"role": "assistant", "content": text}
            o["done"] = done
            o.update(extra)
            return o

        def final():
            n = len(toks)
            return obj("", True, done_reason="length" if limit is not None and n >= limit else "stop",
                       total_duration=int((time.time() - started) * 1e9) + 1000, load_duration=2000000,
                       prompt_eval_count=prompt_tokens, prompt_eval_duration=10000000,
                       eval_count=n, eval_duration=25000000 * max(n, 1))

        if body.get("stream") is False or "json-reply" in faults:
            first, between = self.pacing(faults)
            time.sleep(first + between * max(0, len(toks) - 1))
            o = final()
            if generate:
                o["response"] = "".join(toks)
            else:
                o["message"]["content"] = "".join(toks)
            self.account(prompt_tokens, len(toks), started, started)
            return self.send_json(200, o)
        self.start_stream("application/x-ndjson")
        if "empty" in faults:
            return self.end_stream()
        pieces = [dumps(obj(t, False)).encode() for t in toks]
        last = dumps(final()).encode()
        terminal = last if "no-newline" in faults else last + b"\n"
        done = self.stream_pieces(pieces, faults, b"\n", terminal, b'{"error":"fake in-stream error"}')
        if done:
            self.account(prompt_tokens, len(toks), started, started + self.pacing(faults)[0])

    def ollama_generate(self, body, faults):
        self.ollama_chat(body, faults, generate=True)

    # ------------------------------------------------------- health, metrics

    def health(self, body, faults):
        if self.opts.litellm_health:
            if self.opts.litellm_health_delay:
                time.sleep(self.opts.litellm_health_delay)
            return self.send_json(200, json.loads(self.opts.litellm_health)
                                  if isinstance(self.opts.litellm_health, str) else self.opts.litellm_health)
        if self.command == "HEAD":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_json(200, {"status": "ok"})

    def prometheus_healthy(self, body, faults):
        if not self.opts.prometheus_targets:
            return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})
        self.send_text(200, "Prometheus Server is Healthy.\n")

    def prometheus_targets(self, body, faults):
        targets = self.opts.prometheus_targets
        if not targets:
            return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})
        if isinstance(targets, str):
            targets = json.loads(targets)
        active = [{
            "discoveredLabels": {}, "labels": {"job": t.get("job", "job"), "instance": t.get("instance", "localhost")},
            "scrapePool": t.get("job", "job"), "scrapeUrl": "http://%s/metrics" % t.get("instance", "localhost"),
            "globalUrl": "http://%s/metrics" % t.get("instance", "localhost"), "lastError": t.get("lastError", ""),
            "lastScrape": "2026-11-29T17:00:00Z", "lastScrapeDuration": 0.002, "health": t.get("health", "up"),
            "scrapeInterval": "15s", "scrapeTimeout": "10s"} for t in targets]
        self.send_json(200, {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}})

    def grafana_health(self, body, faults):
        answer = self.opts.grafana_health
        if not answer:
            return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})
        self.send_json(200, json.loads(answer) if isinstance(answer, str) else answer)

    def slots(self, body, faults):
        """llama-server's GET /slots as current builds write it (only_metrics: no prompt text)."""
        if self.opts.flavor != "llamacpp":
            return self.send_json(404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}})
        if int(self.opts.slots) <= 0:
            return self.send_json(501, {"error": {
                "code": 501, "message": "This server does not support slots endpoint. Start it with `--slots`",
                "type": "not_supported_error"}})
        with self.state.lock:
            out = []
            for i, slot in enumerate(self.sized_slots()):
                o = {"id": i, "n_ctx": int(self.opts.slot_ctx), "speculative": False, "is_processing": slot["busy"]}
                if slot["tokens"] is not None:
                    o.update({"id_task": slot["task"], "n_prompt_tokens": slot["tokens"],
                              "n_prompt_tokens_processed": slot["tokens"] - slot["decoded"], "n_prompt_tokens_cache": 0,
                              "params": {"n_predict": -1, "temperature": 0.8, "stream": True},
                              "next_token": [{"has_next_token": slot["busy"], "has_new_line": False, "n_remain": -1,
                                              "n_decoded": slot["decoded"]}]})
                out.append(o)
        self.send_json(200, out)

    def liveliness(self, body, faults):
        self.send_json(200, "I'm alive!")

    def metrics(self, body, faults):
        s = self.state
        with s.lock:
            running, n = s.running, s.request_count
            prompt, gen = s.prompt_tokens, s.generated_tokens
            ttft, e2e = list(s.ttft), list(s.e2e)
        models = self.opts.model_list
        out = []
        flavor = self.opts.flavor
        if flavor in ("generic", "vllm"):
            m = models[0]
            v1 = self.opts.vllm_metrics == "v1"
            lab = ('{engine="0",model_name="%s"}' if v1 else '{model_name="%s"}') % m
            kv = "vllm:kv_cache_usage_perc" if v1 else "vllm:gpu_cache_usage_perc"
            out += [
                "# HELP vllm:num_requests_running Number of requests currently running on GPU.",
                "# TYPE vllm:num_requests_running gauge",
                "vllm:num_requests_running%s %d" % (lab, running),
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                "# TYPE vllm:num_requests_waiting gauge",
                "vllm:num_requests_waiting%s %d" % (lab, int(self.opts.waiting)),
                "# HELP %s KV-cache usage. 1 means 100 percent usage." % kv,
                "# TYPE %s gauge" % kv,
                "%s%s %s" % (kv, lab, repr(float(self.opts.kv_cache_usage))),
                "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
                "# TYPE vllm:prompt_tokens_total counter",
                "vllm:prompt_tokens_total%s %d" % (lab, prompt),
                "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
                "# TYPE vllm:generation_tokens_total counter",
                "vllm:generation_tokens_total%s %d" % (lab, gen),
            ]
            out += histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                             'model_name="%s"' % m, ttft, [0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0])
            out += histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.",
                             'model_name="%s"' % m, e2e, [0.1, 0.5, 1.0, 2.5, 5.0, 10.0])
        if flavor in ("generic", "llamacpp"):
            out += [
                "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.",
                "# TYPE llamacpp:prompt_tokens_total counter",
                "llamacpp:prompt_tokens_total %d" % prompt,
                "# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.",
                "# TYPE llamacpp:tokens_predicted_total counter",
                "llamacpp:tokens_predicted_total %d" % gen,
                "# HELP llamacpp:predicted_tokens_seconds Average generation throughput in tokens/s.",
                "# TYPE llamacpp:predicted_tokens_seconds gauge",
                "llamacpp:predicted_tokens_seconds 25",
                "# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.",
                "# TYPE llamacpp:kv_cache_usage_ratio gauge",
                "llamacpp:kv_cache_usage_ratio 0.125",
                "# HELP llamacpp:requests_processing Number of requests processing.",
                "# TYPE llamacpp:requests_processing gauge",
                "llamacpp:requests_processing %d" % running,
                "# HELP llamacpp:requests_deferred Number of requests deferred.",
                "# TYPE llamacpp:requests_deferred gauge",
                "llamacpp:requests_deferred 0",
            ]
        out += ["# HELP fake_requests_total Requests the fake provider received.",
                "# TYPE fake_requests_total counter",
                'fake_requests_total{name="%s"} %d' % (self.opts.name, n)]
        self.send_text(200, "\n".join(out) + "\n", "text/plain; version=0.0.4; charset=utf-8")


def histogram(name, help_text, labels, values, bounds):
    lines = ["# HELP %s %s" % (name, help_text), "# TYPE %s histogram" % name]
    for b in bounds:
        lines.append('%s_bucket{%s,le="%s"} %d' % (name, labels, repr(b), sum(1 for v in values if v <= b)))
    lines.append('%s_bucket{%s,le="+Inf"} %d' % (name, labels, len(values)))
    lines.append("%s_sum{%s} %s" % (name, labels, repr(round(sum(values), 6))))
    lines.append("%s_count{%s} %d" % (name, labels, len(values)))
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description="Fake OpenAI-compatible / Ollama provider for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--reply", default="Hello from the fake provider.")
    p.add_argument("--echo", action="store_true", help="reply with the last user message")
    p.add_argument("--models", default="fake-model,fake-model-2")
    p.add_argument("--name", default="fake")
    p.add_argument("--flavor", default="generic", choices=["generic", "vllm", "llamacpp"])
    p.add_argument("--slots", type=int, default=4, help="llama.cpp flavour: slots in /slots (0: 501, as --no-slots)")
    p.add_argument("--slot-ctx", type=int, default=2048, help="llama.cpp flavour: n_ctx of each slot")
    p.add_argument("--waiting", type=int, default=0, help="vllm:num_requests_waiting")
    p.add_argument("--kv-cache-usage", type=float, default=0.125, help="vLLM's KV-cache gauge (0..1)")
    p.add_argument("--vllm-metrics", default="v0", choices=["v0", "v1"],
                   help="v0: gpu_cache_usage_perc{model_name}; v1: kv_cache_usage_perc{engine,model_name}")
    p.add_argument("--vram-share", type=float, default=1.0, help="/api/ps: size_vram as a share of size")
    p.add_argument("--keep-alive", type=float, default=300.0,
                   help="/api/ps: expires_at this many seconds after a model's last request (negative: kept loaded)")
    p.add_argument("--token-delay", type=float, default=0.0)
    p.add_argument("--first-token-delay", type=float, default=0.0)
    p.add_argument("--fail-all", type=int, default=0, help="answer every request with this status")
    p.add_argument("--fail-first", type=int, default=0, help="fail the first N requests")
    p.add_argument("--fail-status", type=int, default=500)
    p.add_argument("--error-message", help="the message of injected errors (e.g. one that echoes a key)")
    p.add_argument("--require-key", default=None)
    p.add_argument("--strict-models", action="store_true")
    p.add_argument("--fault", default=None, help="fault SPEC applied to every request")
    p.add_argument("--litellm-health", default=None, help="JSON: answer GET /health as LiteLLM does")
    p.add_argument("--litellm-health-delay", type=float, default=0.0,
                   help="seconds before that answer (LiteLLM waits for every deployment's reply)")
    p.add_argument("--prometheus-targets", default=None, help="JSON list: serve Prometheus /-/healthy and /api/v1/targets")
    p.add_argument("--grafana-health", default=None, help="JSON: answer GET /api/health as Grafana does")
    p.add_argument("--response-headers", default=None, help="JSON object: extra headers on chat answers")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    p.add_argument("--capacity", type=int, default=0, help="serve at most N chat streams at once; queue the rest")
    p.add_argument("--tokens-per-chunk", type=int, default=1, help="OpenAI streams: N tokens in each content chunk")
    p.add_argument("--no-usage", action="store_true", help="never report usage (a server without stream usage)")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--gateway", default=None, type=json.loads,
                   help='act as a LiteLLM proxy: JSON {"groups": {GROUP: API_BASE}, "fallbacks": {GROUP: [GROUP...]}, '
                        '"overhead_ms": N, "response_ms": N}')
    args = p.parse_args(argv)
    args.model_list = [m for m in args.models.split(",") if m]

    # A parent that starts us from a thread with signals blocked (Swift's Process on a
    # dispatch thread) passes that mask on: unblock so SIGTERM/SIGINT stop the server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    # Python's default listen backlog (5) drops connections under load tests (bench -c 64).
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("PORT %d" % server.server_address[1], flush=True)

    if args.exit_on_stdin_eof:
        def watch():
            try:
                while sys.stdin.buffer.read(1024):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
