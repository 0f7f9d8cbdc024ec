"""The table of benches/peers.sh, in Markdown for BENCHMARKS.md, from the oha JSON it left in OUT.

Per request (POST, stream) and path: the median over the rounds and the range (min–max) of the
added p50/p99 at the fixed rate (path − direct, paired by round, over the RATE_ROUNDS latency
rounds), the saturated throughput ÷ direct (paired by round, over the ROUNDS saturated rounds)
and the proxy's CPU µs per answered request over the saturated runs; then the goals of issue
31, met or not. Exits 2 when a row is invalid (an oha run failed, or answered anything but 2xx,
or, on the 1 % path, anything but 2xx and 503, or had errors).
Reads its settings from the environment benches/peers.sh sets.
"""

import json
import os
import statistics

env = os.environ
out = env["OUT"]
paths = env["PATHS"].split()
requests = env["REQUESTS"].split()
# The latency rounds and the saturated ones are counted apart (benches/peers.sh runs many short
# latency rounds and a few long saturated ones).
ROUNDS_OF = {"rate": range(1, int(env["RATE_ROUNDS"]) + 1), "sat": range(1, int(env["ROUNDS"]) + 1)}
RATE_FIGURES = ("p50", "p99", "added_p50", "added_p99")
ticks_per_s = float(env["CLK_TCK"])

# ONE_CHUNK=1: every path's upstream (and direct's) is HAProxy in front of the mock, sending each
# answer as one chunk.
one_chunk = env.get("ONE_CHUNK") == "1"
LABEL = {
    "direct": "direct → HAProxy → mock (one chunk)" if one_chunk else "direct → mock",
    "relay": "`chaos proxy --bare-relay` (floor)",
    "chaos": "`chaos proxy`, no fault",
    "never": "`chaos proxy`, fault chain at 0 %",
    "fault1": "`chaos proxy`, 503 at 1 %",
    "haproxy": f"HAProxy {env['HAPROXY_VERSION']} `mode http`",
    "nginx": f"nginx {env['NGINX_VERSION']} `proxy_pass`, keepalive",
}
REQUEST_LABEL = {"post": "POST /v1/chat/completions", "stream": f"streamed chat completion ({env['STREAM_TOKENS']} tokens, SSE)"}
if one_chunk:
    REQUEST_LABEL = {q: f"{label}, from an upstream that sends it as one chunk" for q, label in REQUEST_LABEL.items()}
# The statuses a path's runs may answer with: the 1 % path's injected 503s are expected.
ALLOWED = {"fault1": {"503"}}

problems = {}  # (path, request) → what made the row invalid
warnings = []


def load(path, request, mode, rnd):
    """One run's figures, or None when it failed; notes what makes its row invalid."""
    name = f"{path}-{request}-{mode}-{rnd}"
    failed = os.path.join(out, f"{name}.failed")
    if os.path.exists(failed):
        problems.setdefault((path, request), []).append(f"{name}: {open(failed).read().strip()}")
        return None
    try:
        data = json.load(open(os.path.join(out, f"{name}.json")))
    except (OSError, ValueError) as error:
        problems.setdefault((path, request), []).append(f"{name}: no JSON ({error})")
        return None
    status = {str(k): v for k, v in data.get("statusCodeDistribution", {}).items()}
    errors = data.get("errorDistribution", {})
    unexpected = {k: v for k, v in status.items() if not k.startswith("2") and k not in ALLOWED.get(path, set())}
    if unexpected or errors or not status:
        problems.setdefault((path, request), []).append(f"{name}: statuses {status}, errors {errors}")
    answered = sum(status.values())
    rps = data["summary"]["requestsPerSec"]
    if mode == "rate" and rps < 0.95 * float(env["RATE"]):
        warnings.append(f"{name}: {rps:.0f} req/s, short of the {env['RATE']} req/s asked (the path could not keep up)")
    ticks = float(open(os.path.join(out, f"{name}.ticks")).read())
    try:
        client_s = sum(float(v) for v in open(os.path.join(out, f"{name}.client")).read().split()[-2:])
    except (OSError, ValueError):
        client_s = float("nan")
    lat = data["latencyPercentiles"]
    return {
        "p50": (lat["p50"] or 0) * 1e6,
        "p99": (lat["p99"] or 0) * 1e6,
        "rps": rps,
        "answered": answered,
        "injected": status.get("503", 0) if path in ALLOWED else 0,
        "cpu_us": ticks / ticks_per_s * 1e6 / answered if answered else float("nan"),
        "client_us": client_s * 1e6 / answered if answered else float("nan"),
    }


runs = {(p, q, m, r): load(p, q, m, r) for p in paths for q in requests for m, rounds in ROUNDS_OF.items() for r in rounds}


def series(path, request, figure):
    """The figure per round, None where a run failed: absolute, or paired against direct."""
    values = []
    mode = "rate" if figure in RATE_FIGURES else "sat"
    for r in ROUNDS_OF[mode]:
        mine, direct = runs.get((path, request, mode, r)), runs.get(("direct", request, mode, r))
        if mine is None or (figure.startswith(("added", "ratio")) and direct is None):
            continue
        if figure.startswith("added_"):
            values.append(mine[figure[6:]] - direct[figure[6:]])
        elif figure == "ratio":
            values.append(mine["rps"] / direct["rps"])
        else:
            values.append(mine[figure])
    return values


def paired(a, b, request, figure, combine):
    """combine(a's figure, b's figure) per round, for the rounds where both ran; with figure None,
    combine(a's run, b's run) over the saturated runs, for a figure of several."""
    values = []
    mode = "rate" if figure in RATE_FIGURES else "sat"
    for r in ROUNDS_OF[mode]:
        x, y = runs.get((a, request, mode, r)), runs.get((b, request, mode, r))
        if x is not None and y is not None:
            values.append(combine(x, y) if figure is None else combine(x[figure], y[figure]))
    return values


def cell(values, fmt):
    """The median, and the range when there is more than one round."""
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}…{fmt(max(values))})"


us = lambda v: f"{v:.0f}"
signed = lambda v: f"{v:+.0f}"
ratio = lambda v: f"{v:.2f}×"
# A goal's figures one digit finer than the table's, so one just short of its bound never reads
# as the bound itself ("not met, 0.95×").
fine_signed = lambda v: f"{v:+.1f}"
fine_ratio = lambda v: f"{v:.3f}×"
kilo = lambda v: f"{v / 1000:.1f}k"
cpu = lambda v: f"{v:.1f}"

print()
print(
    f"Median (min…max) of interleaved rounds; latency µs at {env['RATE']} req/s open model, "
    f"{len(ROUNDS_OF['rate'])} round(s) (oha `-q {env['RATE']} --latency-correction -c {env['CONNS']}`, "
    f"{env['RATE_SECS']} s each), added = path − direct in the same round; saturated, {len(ROUNDS_OF['sat'])} "
    f"round(s): oha `-c {env['CONNS']}`, no rate limit, {env['SAT_SECS']} s each; CPU = the proxy "
    f"process's utime+stime over the saturated run ÷ requests answered (direct: the upstream's); client CPU = oha's "
    f"own, the same way."
)
for request in requests:
    print()
    print(f"### {REQUEST_LABEL[request]}")
    print()
    print("| path | p50 µs | added p50 µs | added p99 µs | saturated req/s | ÷ direct | CPU µs/req (sat.) | client CPU µs/req (sat.) | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in paths:
        note = []
        if (p, request) in problems:
            note.append("**INVALID**")
        if p in ALLOWED:
            done = [v for k, v in runs.items() if k[0] == p and k[1] == request and v]
            answered = sum(v["answered"] for v in done)
            injected = sum(v["injected"] for v in done)
            if answered:
                note.append(f"503s injected: {injected} of {answered} ({injected / answered:.2%})")
        direct = p == "direct"
        print(
            f"| {LABEL[p]} | {cell(series(p, request, 'p50'), us)} | "
            f"{'—' if direct else cell(series(p, request, 'added_p50'), signed)} | "
            f"{'—' if direct else cell(series(p, request, 'added_p99'), signed)} | "
            f"{cell(series(p, request, 'rps'), kilo)} | {'—' if direct else cell(series(p, request, 'ratio'), ratio)} | "
            f"{cell(series(p, request, 'cpu_us'), cpu)} | {cell(series(p, request, 'client_us'), cpu)} | "
            f"{'; '.join(note)} |"
        )

# ---- the goals of issue 31 -----------------------------------------------------------------


def missing(needs, values):
    """What keeps a figure from being read: the (path, request) runs it needs that are missing or
    invalid, or 'no rounds'; empty when it can be."""
    absent = [f"{p} {q}" for p, q in needs if p not in paths or q not in requests or (p, q) in problems]
    return ", ".join(absent) or ("" if values else "no rounds")


# Each goal as judged, for goals.json (benches/peers_goals.py sets several runs side by side).
judged = []


def goal(text, needs, values, ok, fmt):
    """One goal: met when the median of the per-round figures is ok; not measured when a path it
    needs is missing or invalid."""
    absent = missing(needs, values)
    if absent:
        judged.append({"goal": text, "measured": False})
        return f"- {text}: **not measured** ({absent} missing or invalid)"
    med = statistics.median(values)
    met = ok(med)
    hits = sum(1 for v in values if ok(v))
    judged.append({"goal": text, "measured": True, "met": met, "figure": fmt(med), "hits": hits, "rounds": len(values)})
    verdict = "**met**" if met else "**not met**"
    return f"- {text}: {verdict}, {fmt(med)} (rounds: {', '.join(fmt(v) for v in values)}; met in {hits} of {len(values)})"


def reference(text, needs, values, fmt):
    """A figure beside the goals that no goal decides on: the median and the rounds."""
    absent = missing(needs, values)
    if absent:
        return f"- {text}: not measured ({absent} missing or invalid)"
    return f"- {text}: {fmt(statistics.median(values))} (rounds: {', '.join(fmt(v) for v in values)})"


print()
upstream = "HAProxy in front of the mock, one chunk an answer" if one_chunk else "the mock, a chunk an event"
print(f"Goals of issue 31 (the median of the per-round figures decides; upstream: {upstream}):")
print()
print(goal("stream saturated throughput ≥ HAProxy's (chaos ÷ HAProxy ≥ 1)",
           [("chaos", "stream"), ("haproxy", "stream")],
           paired("chaos", "haproxy", "stream", "rps", lambda a, b: a / b), lambda v: v >= 1, fine_ratio))
print(goal("stream added p50 ≤ HAProxy's + 10 µs (chaos − HAProxy)",
           [("chaos", "stream"), ("haproxy", "stream")],
           paired("chaos", "haproxy", "stream", "p50", lambda a, b: a - b), lambda v: v <= 10, fine_signed))
print(reference("for reference, the floor against HAProxy: stream added p50, bare relay − HAProxy",
                [("relay", "stream"), ("haproxy", "stream")],
                paired("relay", "haproxy", "stream", "p50", lambda a, b: a - b), signed))
print(reference("for reference, the client's CPU a stream, chaos − HAProxy (the framing each sends it)",
                [("chaos", "stream"), ("haproxy", "stream")],
                paired("chaos", "haproxy", "stream", "client_us", lambda a, b: a - b), lambda v: f"{v:+.1f} µs"))
# Client, proxy and mock share the cores: matching HAProxy's saturated throughput leaves chaos
# HAProxy's CPU a stream plus what HAProxy's client spends, less what chaos's client spends.
budget = paired("haproxy", "chaos", "stream", None, lambda h, c: h["cpu_us"] + h["client_us"] - c["client_us"])
print(reference("for reference, the CPU a stream chaos could spend and still match HAProxy's throughput "
                "(HAProxy's CPU + its client's − chaos's client's)",
                [("chaos", "stream"), ("haproxy", "stream")], budget, lambda v: f"{v:.1f} µs"))
for request in requests:
    kind = "POST" if request == "post" else "stream"
    print(goal(f"{kind}, 503 at 1 % firing: saturated throughput ≥ 0.95× no fault",
               [("chaos", request), ("fault1", request)],
               paired("fault1", "chaos", request, "rps", lambda a, b: a / b), lambda v: v >= 0.95, fine_ratio))
    print(goal(f"{kind}, 503 at 1 % firing: added p50 within +10 µs of no fault",
               [("chaos", request), ("fault1", request)],
               paired("fault1", "chaos", request, "p50", lambda a, b: a - b), lambda v: v <= 10, fine_signed))
print(goal("POST added p50 ≤ +58 µs", [("chaos", "post")], series("chaos", "post", "added_p50"), lambda v: v <= 58, fine_signed))
print(goal("POST saturated throughput ≥ 0.67× direct", [("chaos", "post")], series("chaos", "post", "ratio"),
           lambda v: v >= 0.67, fine_ratio))

upstream_key = "one chunk" if one_chunk else "provider"
with open(os.path.join(out, "goals.json"), "w") as file:
    json.dump({"commit": env["COMMIT"], "upstream": upstream_key, "valid": not problems, "goals": judged}, file, indent=1)

print()
print(f"{env['CHAOS_VERSION']} at {env['COMMIT']}; oha {env['OHA_VERSION']}; {env['NPROC']} CPUs ({env['CPU_MODEL']}); "
      f"measuring took {env['ELAPSED']} s.")
print(f"load before: {env['UPTIME_BEFORE'].strip()}")
print(f"load after:  {env['UPTIME_AFTER'].strip()}")
print(f"raw oha JSON: {out}")
for line in warnings:
    print(f"warning: {line}")
if problems:
    print()
    print("INVALID rows (an oha run failed, or answered what it should not, or had errors):")
    for (p, q), lines in problems.items():
        for line in lines:
            print(f"- {p} {q}: {line}")
    raise SystemExit(2)
print("Every run: 2xx only (the 1 % path: 2xx and its injected 503s), no errors.")
