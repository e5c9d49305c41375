"""Seeded random aish configs for the differential routing test: exact matches, load
balancing (alone and on an exact match's name), capabilities (preferred models and
providers), fallback chains with cycles, shared steps, provider names, unknown names and
explicit empty chains, and a default chain. Written as providers.yaml + model-mappings.yaml."""
import os
import random

TYPES = ["openai_compatible", "vllm", "llama_cpp", "ollama"]


def q(s):
    return '"%s"' % s


def one(rng, n):
    providers = ["p%d" % i for i in range(rng.randint(2, 6))]
    status = {p: ("disabled" if rng.random() < 0.12 else "active") for p in providers}
    models = {p: ["m%d-%s" % (k, p) for k in range(rng.randint(1, 3))] for p in providers}
    lines = ["providers:"]
    for i, p in enumerate(providers):
        lines += ["  %s:" % p, "    type: %s" % rng.choice(TYPES), "    base_url: http://127.0.0.1:%d" % (20000 + i),
                  "    status: %s" % status[p], "    models:"] + ["      - %s" % q(m) for m in models[p]]
    prov = "\n".join(lines) + "\n"

    names = ["e%d" % i for i in range(rng.randint(2, 9))]
    m = ["exact_matches:"]
    for e in names:
        p = rng.choice(providers)
        m += ["  %s:" % q(e), "    provider: %s" % p, "    backend_model: %s" % q(rng.choice(models[p] + [e]))]
        if rng.random() < 0.3:
            m.append("    fallback: %s" % rng.choice(providers))
    lbs = []
    if rng.random() < 0.7:
        m.append("load_balancing:")
        for k in range(rng.randint(1, 2)):
            alias = rng.choice(names) if rng.random() < 0.4 else "lb%d" % k
            if alias in lbs:
                continue
            lbs.append(alias)
            members = rng.sample(providers, rng.randint(2, min(3, len(providers))))
            weights = [round(1 / len(members), 4)] * len(members)
            weights[-1] = round(1 - sum(weights[:-1]), 4)
            m += ["  %s:" % q(alias), "    strategy: %s" % rng.choice(["weighted_round_robin", "simple_shuffle", "least_loaded"]),
                  "    providers:"]
            for mem, w in zip(members, weights):
                m += ["      - provider: %s" % mem, "        weight: %s" % w]
    routable = names + [l for l in lbs if l not in names]
    caps = []
    if rng.random() < 0.7:
        m.append("capabilities:")
        for k in range(rng.randint(1, 2)):
            c = "cap%d" % k
            caps.append(c)
            m.append("  %s:" % c)
            if rng.random() < 0.25:
                m.append("    provider: %s" % rng.choice(providers))
            else:
                prefs = rng.sample(routable, min(len(routable), rng.randint(1, 3)))
                m += ["    preferred_models:"] + ["      - %s" % q(x) for x in prefs]
            m.append("    routing_strategy: %s" % rng.choice(["direct", "direct", "complexity_based"]))
    everything = routable + caps
    m.append("fallback_chains:")
    for name in everything:
        if rng.random() < 0.65:
            steps = []
            for _ in range(rng.randint(0, 4)):
                r = rng.random()
                if r < 0.08:
                    steps.append(rng.choice(providers))
                elif r < 0.13:
                    steps.append("unknown-%d" % rng.randint(0, 3))
                else:
                    steps.append(rng.choice(everything))
            steps = list(dict.fromkeys(s for s in steps if s != name))
            m += ["  %s:" % q(name), "    chain: [%s]" % ", ".join(q(s) for s in steps)]
    if rng.random() < 0.6:
        steps = list(dict.fromkeys(rng.choice(everything) for _ in range(rng.randint(1, 3))))
        m += ["  default:", "    chain: [%s]" % ", ".join(q(s) for s in steps)]
    return prov, "\n".join(m) + "\n"


def write(workdir, count, seed):
    rng = random.Random(seed)
    out = []
    for n in range(count):
        d = os.path.join(workdir, "random-%03d" % n)
        os.makedirs(d, exist_ok=True)
        prov, mappings = one(rng, n)
        with open(os.path.join(d, "providers.yaml"), "w") as f:
            f.write(prov)
        with open(os.path.join(d, "model-mappings.yaml"), "w") as f:
            f.write(mappings)
        out.append(d)
    return out
