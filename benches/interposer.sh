#!/usr/bin/env bash
# Whole-process benchmark of the interposer's overhead: `chaos proxy` (no faults) in front of a
# fast `chaos mock`, against going to the mock directly and against the TCP pass-through proxy
# `fault` (crates.io `fault-cli`) and against `chaos proxy --bare-relay` (bytes copied both ways
# and nothing else: the floor of any user-space hop on this machine), all on loopback.
#
#   bash benches/interposer.sh
#
# For each path (direct, chaos proxy, bare relay, fault) and each request (the POST chat completion, and a
# GET /v1/models control, see below), two interleaved rounds of:
#   - latency at a fixed open-model rate: oha -q 2000 --latency-correction -c 50 → p50, p99;
#   - saturated throughput: oha -c 50, no rate limit → requests/s.
# Then a table with the added p50/p99 (proxy minus direct, µs, paired by round) and the
# throughput ratio (proxy ÷ direct). Every oha run must answer 200 only with no errors, or the
# comparison is marked invalid.
#
# Why a GET control: when this was written the mock's non-streaming chat completion slept its
# generation time even when that was zero (tokio rounds every sleep up to the next 1 ms tick),
# which hid part of a proxy's delay. That is fixed; GET /v1/models, which never had a timer,
# stays as a control.
#
# Environment (all optional):
#   CHAOS        chaos binary to use (default: build with `cargo build --release`, honouring
#                CARGO_TARGET_DIR, and use <target>/release/chaos)
#   RATE         open-model rate in req/s (2000)       CONNS   connections (50)
#   RATE_SECS    seconds per latency run (10)          SAT_SECS  seconds per throughput run (10)
#   ROUNDS       rounds of every measurement (2)       REQUESTS  "post get" (both) or one of them
#   OUT          folder for oha's raw JSON (a new temporary folder)
#   NO_FAULT=1   skip the fault peer
#
# Bounded: each oha run is under `timeout`; the defaults take ~5.5 minutes of measurement.
# Installing the peers the first time (`cargo install`) takes longer, once.

set -euo pipefail

RATE=${RATE:-2000}
CONNS=${CONNS:-50}
RATE_SECS=${RATE_SECS:-10}
SAT_SECS=${SAT_SECS:-10}
ROUNDS=${ROUNDS:-2}
REQUESTS=${REQUESTS:-post get}
NO_FAULT=${NO_FAULT:-0}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/interposer-bench.XXXXXX)}

# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"

# ---- peers -------------------------------------------------------------------------------
ensure_oha
have_fault=0
if [[ $NO_FAULT != 1 ]]; then
  if command -v fault >/dev/null || {
    log "installing fault (cargo install fault-cli --locked) ..."
    cargo install fault-cli --locked >"$OUT/fault-install.log" 2>&1
  }; then
    have_fault=1
  else
    log "fault-cli failed to install (see $OUT/fault-install.log); continuing without it"
  fi
fi
command -v python3 >/dev/null || { log "python3 is needed to read oha's JSON"; exit 1; }

ensure_chaos

# ---- processes ---------------------------------------------------------------------------
start_mock
mock_pid=$MOCK_PID direct=$MOCK_URL
start_chaos_proxy proxy "$direct"
proxy_pid=$SERVER_PID chaos_url=$SERVER_URL
start_chaos_proxy relay "$direct" --bare-relay
relay_pid=$SERVER_PID relay_url=$SERVER_URL

paths=(direct chaos relay)
declare -A url=([direct]=$direct [chaos]=$chaos_url [relay]=$relay_url)
declare -A pid_of=([direct]=$mock_pid [chaos]=$proxy_pid [relay]=$relay_pid)
if [[ $have_fault == 1 ]]; then
  cat >"$OUT/fault.yaml" <<EOF
schema_version: 1
name: interposer-bench pass-through
proxies:
  - name: mock
    protocol: tcp
    listen: 127.0.0.1:0
    upstream: ${direct#http://}
phases:
  - name: no faults
    proxies:
      - proxy: mock
        faults: []
EOF
  fault --output json --color never run "$OUT/fault.yaml" >"$OUT/fault.out" 2>&1 &
  fault_pid=$!; pids+=("$fault_pid")
  fault_addr=$(wait_for "$OUT/fault.out" 'tcp://127\.0\.0\.1:[0-9]+')
  url[fault]="http://${fault_addr#tcp://}"
  pid_of[fault]=$fault_pid
  paths+=(fault)
fi

# ---- measurement -------------------------------------------------------------------------
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'
# Sanity: every path answers the POST with 200.
for p in "${paths[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${url[$p]}/v1/chat/completions" \
    -H 'authorization: Bearer sk-x' -H 'content-type: application/json' -d "$body")
  [[ $code == 200 ]] || { log "$p (${url[$p]}) answered $code to the POST"; exit 1; }
done

declare -A cpu0
for p in "${paths[@]}"; do cpu0[$p]=$(cpu_ticks "${pid_of[$p]}"); done

# oha RUN_NAME URL_BASE REQUEST MODE
run_oha() {
  local name=$1 base=$2 request=$3 mode=$4 secs args=()
  if [[ $mode == rate ]]; then
    secs=$RATE_SECS; args=(-q "$RATE" --latency-correction)
  else
    secs=$SAT_SECS
  fi
  if [[ $request == post ]]; then
    args+=(-m POST -T application/json -d "$body" "$base/v1/chat/completions")
  else
    args+=("$base/v1/models")
  fi
  timeout $((secs + 30)) oha --no-tui --output-format json -w -z "${secs}s" -c "$CONNS" \
    -H 'authorization: Bearer sk-x' "${args[@]}" >"$OUT/$name.json"
}

uptime_before=$(uptime)
log "load before: $uptime_before"
started=$(date +%s)
for round in $(seq "$ROUNDS"); do
  for request in $REQUESTS; do
    for mode in rate sat; do
      for p in "${paths[@]}"; do
        log "round $round: $request $mode $p"
        run_oha "$p-$request-$mode-$round" "${url[$p]}" "$request" "$mode"
      done
    done
  done
done
elapsed=$(( $(date +%s) - started ))
uptime_after=$(uptime)
log "load after: $uptime_after"

ticks=$(getconf CLK_TCK)
declare -A cpu_s
for p in "${paths[@]}"; do
  cpu_s[$p]=$(awk -v a="${cpu0[$p]}" -v b="$(cpu_ticks "${pid_of[$p]}")" -v t="$ticks" 'BEGIN {printf "%.2f", (b - a) / t}')
done

# Stop the servers (SIGINT) so they print their summaries.
for pid in "$proxy_pid" "$relay_pid" ${fault_pid:+"$fault_pid"} "$mock_pid"; do
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done

oha_version=$(oha --version | awk '{print $2}')
fault_version=$( ((have_fault)) && fault --version | awk '{print $2}' || echo "not used")
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')

# ---- report ------------------------------------------------------------------------------
OUT=$OUT PATHS="${paths[*]}" REQUESTS="$REQUESTS" ROUNDS=$ROUNDS RATE=$RATE CONNS=$CONNS \
RATE_SECS=$RATE_SECS SAT_SECS=$SAT_SECS ELAPSED=$elapsed \
CPU_DIRECT=${cpu_s[direct]} CPU_CHAOS=${cpu_s[chaos]} CPU_RELAY=${cpu_s[relay]} CPU_FAULT=${cpu_s[fault]:-} \
UPTIME_BEFORE="$uptime_before" UPTIME_AFTER="$uptime_after" OHA_VERSION=$oha_version \
FAULT_VERSION=$fault_version CPU_MODEL="$cpu_model" NPROC=$(nproc) \
PROXY_SUMMARY="$(grep -v 'listening on' "$OUT/proxy.out" | tr '\n' ' ')" \
python3 - <<'PY'
import json, os

out = os.environ["OUT"]
paths = os.environ["PATHS"].split()
requests = os.environ["REQUESTS"].split()
rounds = int(os.environ["ROUNDS"])
rate, conns = os.environ["RATE"], os.environ["CONNS"]
label = {"direct": "direct → mock", "chaos": "chaos proxy → mock", "relay": "bare relay → mock (floor)",
         "fault": "fault (TCP) → mock"}
req_label = {"post": "POST /v1/chat/completions", "get": "GET /v1/models (control)"}

problems = []
def load(p, req, mode, r):
    name = f"{p}-{req}-{mode}-{r}"
    d = json.load(open(f"{out}/{name}.json"))
    status = d.get("statusCodeDistribution", {})
    errors = d.get("errorDistribution", {})
    if set(status) != {"200"} or errors:
        problems.append(f"{name}: statuses {status}, errors {errors}")
    lat = d["latencyPercentiles"]
    return {
        "p50": lat["p50"] * 1e6,
        "p99": lat["p99"] * 1e6,
        "rps": d["summary"]["requestsPerSec"],
        "n": sum(status.values()),
    }

res = {(p, req, mode, r): load(p, req, mode, r)
       for p in paths for req in requests for mode in ("rate", "sat") for r in range(1, rounds + 1)}

def both(values, fmt):
    return " / ".join(fmt(v) for v in values)

us = lambda v: f"{v:.0f}"
signed = lambda v: f"{v:+.0f}"
kps = lambda v: f"{v / 1000:.1f}k"
ratio = lambda v: f"{v:.2f}×"

targets = {}
spread = {}  # how much the direct path alone moves between rounds: the noise floor
print()
print(f"Figures per round (round 1 / round 2 ...); latency µs at {rate} req/s open model "
      f"(oha --latency-correction, -c {conns}, {os.environ['RATE_SECS']} s); throughput req/s "
      f"saturated (-c {conns}, {os.environ['SAT_SECS']} s).")
for req in requests:
    print()
    print(f"### {req_label[req]}")
    print()
    print("| path | p50 µs | p99 µs | throughput req/s | added p50 µs | added p99 µs | throughput ÷ direct |")
    print("|---|---|---|---|---|---|---|")
    for p in paths:
        R = range(1, rounds + 1)
        p50 = [res[(p, req, "rate", r)]["p50"] for r in R]
        p99 = [res[(p, req, "rate", r)]["p99"] for r in R]
        rps = [res[(p, req, "sat", r)]["rps"] for r in R]
        if p == "direct":
            extra = ["—", "—", "—"]
        else:
            d50 = [p50[i] - res[("direct", req, "rate", r)]["p50"] for i, r in enumerate(R)]
            d99 = [p99[i] - res[("direct", req, "rate", r)]["p99"] for i, r in enumerate(R)]
            tr = [rps[i] / res[("direct", req, "sat", r)]["rps"] for i, r in enumerate(R)]
            extra = [both(d50, signed), both(d99, signed), both(tr, ratio)]
            if p == "chaos":
                targets[req] = (d50, d99, tr)
        if p == "direct":
            spread[req] = (max(p50) - min(p50), max(p99) - min(p99))
        print(f"| {label[p]} | {both(p50, us)} | {both(p99, us)} | {both(rps, kps)} | " + " | ".join(extra) + " |")

def verdict(values, ok, target=None, noise=0.0):
    if target is not None and len(values) > 1 and noise > target:
        return (f"inconclusive (the direct path alone moved {noise:.0f} µs between rounds, more "
                f"than the {target} µs target; figures {both(values, signed)})")
    hits = sum(1 for v in values if ok(v))
    if hits == len(values):
        return "**met** (every round)"
    if hits:
        return f"met in {hits} of {len(values)} rounds"
    return "**not met**"

print()
print("Targets for the chaos proxy (issue): added p50 ≤ 50 µs, added p99 ≤ 200 µs at 2,000 req/s; "
      "saturated throughput ≥ 0.6× direct.")
print()
for req, (d50, d99, tr) in targets.items():
    n50, n99 = spread[req]
    print(f"- {req_label[req]}: p50 {verdict(d50, lambda v: v <= 50, 50, n50)}; "
          f"p99 {verdict(d99, lambda v: v <= 200, 200, n99)}; "
          f"throughput {verdict(tr, lambda v: v >= 0.6)}.")

# CPU per request served, over the whole run.
served = {p: sum(v["n"] for k, v in res.items() if k[0] == p) for p in paths}
cpu = {"direct": os.environ["CPU_DIRECT"], "chaos": os.environ["CPU_CHAOS"], "relay": os.environ["CPU_RELAY"],
       "fault": os.environ["CPU_FAULT"]}
print()
print("CPU time over the whole run (user+sys), per request through the process:")
for p in paths:
    what = {"direct": "chaos mock (serves every path)", "chaos": "chaos proxy", "relay": "bare relay",
            "fault": "fault"}[p]
    n = sum(served.values()) if p == "direct" else served[p]
    print(f"- {what}: {float(cpu[p]):.1f} s for {n} requests = {float(cpu[p]) / n * 1e6:.1f} µs/request")
print()
print(f"oha {os.environ['OHA_VERSION']}; fault {os.environ['FAULT_VERSION']}; "
      f"{os.environ['NPROC']} CPUs ({os.environ['CPU_MODEL']}); measuring took {os.environ['ELAPSED']} s.")
print(f"load before: {os.environ['UPTIME_BEFORE'].strip()}")
print(f"load after:  {os.environ['UPTIME_AFTER'].strip()}")
print(f"chaos proxy summary: {os.environ['PROXY_SUMMARY'].strip()}")
print(f"raw oha JSON: {out}")
if problems:
    print()
    print("INVALID: some runs had non-200 answers or errors; the comparison does not hold:")
    for line in problems:
        print(f"- {line}")
    raise SystemExit(2)
print("All runs: every answer 200, no errors.")
PY
