#!/usr/bin/env python3
"""Differential test of aish's routing against the real LiteLLM Router.

For each case (a config directory whose litellm-unified.yaml `aish config generate` wrote),
builds litellm.Router from that file with every deployment's api_base pointed at one
recording fake server that fails every request (HTTP 500), sends one request per name and
records the deployments hit, in order. Then compares with the plan aish prints for the
same name (`aish route --all --json`, steps whose scope is "gateway"), as sets within a
load-balanced model group.

Usage: litellm_router_diff.py --aish PATH [--random N] CONFIG_DIR... (one Python process for
all cases: importing litellm takes seconds). The config directories are copied first. Exit 0
when every name agrees; 1, with each difference, otherwise.

What is compared: the deployments first hit, in order (a deployment hit again later in the same
request is the same target to aish, which never sends a request twice to one target); within a
load-balanced group as a set. Names the gateway has no model group for (exact matches on
disabled providers, on the gateway itself) are aish-only and counted, not compared: LiteLLM
would send them to its first default fallback under the requested name.
"""
import sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HITS = []
HITS_LOCK = threading.Lock()


class FailingRecorder(BaseHTTPRequestHandler):
    """Records (deployment label, model) for every request and answers 500."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            model = json.loads(body).get("model", "")
        except ValueError:
            model = ""
        # Path: /<label>/v1/chat/completions, label = "<provider>|<deployment index>".
        label = self.path.split("/")[1]
        with HITS_LOCK:
            HITS.append((label, model))
        payload = json.dumps({"error": {"message": "recorded and failed on purpose", "type": "server_error"}}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def load_yaml(path):
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def build_router(doc, port, litellm):
    """litellm.Router from a generated config; every deployment goes to the recorder."""
    model_list = []
    for i, d in enumerate(doc.get("model_list") or []):
        params = dict(d.get("litellm_params") or {})
        provider = (d.get("model_info") or {}).get("provider", "?")
        model = params["model"].split("/", 1)[1] if "/" in params["model"] else params["model"]
        params["model"] = "openai/" + model
        params["api_base"] = "http://127.0.0.1:%d/%s%%7C%d/v1" % (port, provider, i)
        params["api_key"] = "none"
        params.pop("rpm", None)
        params.pop("tpm", None)
        params["max_retries"] = 0
        model_list.append({"model_name": d["model_name"], "litellm_params": params,
                           "model_info": dict(d.get("model_info") or {}, id="dep-%d" % i)})
    rs = dict(doc.get("router_settings") or {})
    kwargs = dict(
        model_list=model_list,
        fallbacks=rs.get("fallbacks") or [],
        default_fallbacks=rs.get("default_fallbacks"),
        model_group_alias=rs.get("model_group_alias") or {},
        routing_strategy=rs.get("routing_strategy", "simple-shuffle"),
        num_retries=rs.get("num_retries", 0),
        enable_weighted_failover=rs.get("enable_weighted_failover", False),
        disable_cooldowns=True,
    )
    if "max_fallbacks" in rs:
        kwargs["max_fallbacks"] = rs["max_fallbacks"]
    return litellm.Router(**kwargs)


async def observe(router, name):
    with HITS_LOCK:
        HITS.clear()
    try:
        await router.acompletion(model=name, messages=[{"role": "user", "content": "hi"}], stream=False)
        outcome = "ok"
    except Exception as e:  # every deployment fails: an exception is the expected end
        outcome = type(e).__name__
    with HITS_LOCK:
        hits = list(HITS)
    return hits, outcome


def dedupe(pairs):
    seen, out = set(), []
    for p in pairs:
        p = tuple(p)
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def compare(plan, hits):
    """None when the gateway's deployments were hit in aish's order (sets within a group)."""
    got = dedupe((label.split("%7C")[0].split("|")[0], model) for label, model in hits)
    pos, seen = 0, set()
    for g in plan["gateway_groups"]:
        cands = [tuple(c) for c in g["candidates"]]
        fresh = [c for c in dict.fromkeys(cands) if c not in seen]
        if g["picks"] >= len(cands):
            want = len(fresh)
            part = got[pos:pos + want]
            if len(part) != want or set(part) != set(fresh):
                return "group %r: expected %s in any order, gateway hit %s (all hits %s)" % (g["name"], fresh, part, got)
            seen.update(fresh)
        else:
            # max_fallbacks cut the group: the gateway reaches `picks` of its deployments, chosen
            # at random; a pick already hit earlier in the request shows no new hit.
            part = []
            while pos + len(part) < len(got) and len(part) < g["picks"] and got[pos + len(part)] in fresh:
                part.append(got[pos + len(part)])
            least = g["picks"] - (len(set(cands)) - len(fresh))
            if len(part) < max(least, 0):
                return "group %r: expected %d of %s, gateway hit %s (all hits %s)" % (g["name"], g["picks"], fresh, part, got)
            seen.update(part)
            want = len(part)
        pos += want
    if pos != len(got):
        return "gateway hit more: %s after aish's groups (all hits %s)" % (got[pos:], got)
    # aish's own gateway-scope steps must be those groups, in that order.
    steps = [(s["provider"], s["backend_model"], s["gateway_group"]) for s in plan["steps"] if s.get("scope") == "gateway"]
    for prov, model, gi in steps:
        if (prov, model) not in [tuple(c) for c in plan["gateway_groups"][gi]["candidates"]]:
            return "step %s/%s is not in its gateway group %d" % (prov, model, gi)
    if [gi for _, _, gi in steps] != sorted(gi for _, _, gi in steps):
        return "aish's gateway steps are out of group order"
    return None


def aish_json(aish, case, *args):
    out = subprocess.run([aish, "--config", case, "--db", os.path.join(case, "aish.db"), "--json", "--no-color", *args],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit("aish %s in %s failed (exit %d): %s" % (" ".join(args), case, out.returncode, out.stderr.strip()))
    return out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aish", help="aish binary: compare with `route --all --json` (else print the hits)")
    ap.add_argument("--names", help="comma-separated names (default: every name `route --all` lists)")
    ap.add_argument("--random", type=int, default=0, help="also generate N random configs (seeded) into --workdir")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--workdir")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    import shutil
    import tempfile
    workdir = args.workdir or tempfile.mkdtemp(prefix="aish-differential-")
    # `config generate` writes into the case directory: work on copies of the given ones.
    cases = []
    for i, case in enumerate(args.cases):
        copy = os.path.join(workdir, "case-%d-%s" % (i, os.path.basename(os.path.normpath(case))))
        os.makedirs(copy, exist_ok=True)
        for f in os.listdir(case):
            if f.endswith(".yaml"):
                shutil.copy(os.path.join(case, f), os.path.join(copy, f))
        cases.append(copy)
    if args.random:
        import random_configs
        cases += random_configs.write(workdir, args.random, args.seed)
    import litellm
    litellm.suppress_debug_info = True
    import logging
    for n in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(n).setLevel(logging.CRITICAL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    failures, compared, not_gateway = [], 0, 0

    async def run():
        nonlocal compared, not_gateway
        for case in cases:
            plans = {}
            if args.aish:
                aish_json(args.aish, case, "config", "generate")
                table = json.loads(aish_json(args.aish, case, "route", "--all"))
                plans = {r["name"]: r["plan"] for r in table["routes"]}
            doc = load_yaml(os.path.join(case, "litellm-unified.yaml"))
            router = build_router(doc, port, litellm)
            names = args.names.split(",") if args.names else list(plans)
            for name in names:
                plan = plans.get(name)
                if plan is not None and not plan.get("gateway"):
                    not_gateway += 1
                    continue
                hits, outcome = await observe(router, name)
                if plan is None:
                    print(json.dumps({"case": case, "name": name, "hits": hits, "outcome": outcome}))
                    continue
                compared += 1
                why = compare(plan, hits)
                if why:
                    failures.append("%s: %s: %s" % (case, name, why))
    asyncio.run(run())
    if args.aish:
        for f in failures:
            print("DIFFERENT: " + f)
        print("differential routing test: %d configs, %d names compared with LiteLLM %s, %d differ; "
              "%d names have no gateway model group (aish only, not compared)"
              % (len(cases), compared, getattr(litellm, "__version__", "?") if hasattr(litellm, "__version__") else _version(), len(failures), not_gateway))
        sys.exit(1 if failures else 0)


def _version():
    try:
        from importlib.metadata import version
        return version("litellm")
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
