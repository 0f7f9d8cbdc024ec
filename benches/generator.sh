#!/usr/bin/env bash
# Whole-process benchmark of the load generator (`chaos run` with a `url` target) against oha,
# both driving the same fast `chaos mock` in the same run, on loopback.
#
#   bash benches/generator.sh               # MODE=rate: max sustained rate + measurement overhead
#   MODE=memory bash benches/generator.sh   # RSS of `chaos run` at 1,000 req/s for 10 minutes
#   MODE=all bash benches/generator.sh      # both, one after the other
#
# MODE=rate does two things, against one `chaos mock --openai 127.0.0.1:0` (zero latency):
#
# 1. Max sustained open-model rate. For each rate in RATES (increasing), oha and chaos take turns
#    (the order alternates from rate to rate), each for SECS seconds with CONNS connections:
#      oha   -q RATE --latency-correction -c CONNS -z SECS -w, the same POST our client sends;
#      chaos a scenario with `arrival: { rate: RATE/s }` (constant), `connections: CONNS`.
#    A rate is sustained when
#      oha:   every answer is 200, no errors, 200s ÷ SECS ≥ MIN_ACHIEVED (98 %) of RATE, and the
#             corrected p99 latency < P99_LIMIT_MS (100 ms);
#      chaos: exit code 0 or 1 (not 3: the generator fell behind, nor anything else),
#             generator.missed == 0, generator.sent ÷ SECS ≥ MIN_ACHIEVED of RATE, every logical
#             request answered 200 (`outcomes == {ok: sent}`), and the corrected p99 (latency_ms,
#             from the intended start) < P99_LIMIT_MS.
#    Why the p99 rule: an open-model generator with a fixed pool that cannot keep up still
#    "sends" every start, late; its corrected latency then grows with the queue (hundreds of ms
#    within 10 s). On the 2-core machine of BENCHMARKS.md, runs that kept up showed p99 of
#    2–83 ms, runs that tipped over 109 ms to 2.3 s; 100 ms separates the two.
#    A tool's max sustained rate is the highest rate it sustained before its first failure; a tool
#    stops after STOP_AFTER consecutive failures. Reported per round, with chaos ÷ oha.
#
# 2. Measurement overhead at LOW_RATE (500 req/s), OVERHEAD_ROUNDS interleaved rounds of SECS
#    seconds each: chaos's p50 (corrected `latency_ms`, and `service_time_ms` from the actual
#    send) minus oha's corrected p50 in the same round, in µs; the median over rounds.
#    Read the two differences apart: oha 1.16's --latency-correction starts each request's clock
#    at `Instant::now()` *after* its pacing timer fires (src/client.rs,
#    work_until_with_qps_latency_correction), so its figure leaves out its own timer lateness;
#    chaos's `latency_ms` counts from the intended instant and includes it (the start lag,
#    `generator.lag_ms`, printed alongside). At a rate where no request waits for a connection,
#    chaos's service time (from the actual send) is the like-for-like comparison with oha.
#    With BEFORE set to another chaos binary (an older build), it takes its turn in every round
#    too ("before" in the table), so a change is compared with its baseline in the same window.
#
# MODE=memory runs chaos alone at MEM_RATE (1000 req/s) for MEM_SECS (600 s) against the mock,
# samples the `chaos run` process's VmRSS from /proc every MEM_EVERY (10) seconds, and reports
# RSS at 1, 5 and 10 minutes, the least-squares slope over the samples from 1 minute on, and the
# growth in bytes per request ((RSS(end) − RSS(1 min)) ÷ requests in between).
#
# CPU: every oha and chaos run is timed (user+sys of the process tree, from getrusage), and the
# mock's CPU over each run is read from /proc, so the tables say what saturates.
#
# Environment (all optional):
#   CHAOS         chaos binary (default: `cargo build --release`, honouring CARGO_TARGET_DIR)
#   MODE          rate | memory | all (rate)
#   RATES         rates to try, req/s, increasing ("12000 16000 18000 20000 22000 24000 26000 28000 32000")
#   SECS          seconds per run (10)            CONNS  connections for both tools (50)
#   ROUNDS        rounds of the rate scan (2)     STOP_AFTER  consecutive failures to stop a tool (2)
#   MIN_ACHIEVED  fraction of the rate (0.98)     P99_LIMIT_MS  corrected p99 bound, ms (100)
#   LOW_RATE      overhead rate (500)             OVERHEAD_ROUNDS  (5; 0 skips)
#   BEFORE        a second chaos binary for the overhead rounds (none)
#   MEM_RATE      (1000)  MEM_SECS (600)  MEM_EVERY (10)
#   OUT           folder for raw output (a new temporary folder)
#
# Bounded: every oha and chaos run is under `timeout`; the memory run is stopped at
# MEM_SECS + 120 s. Defaults: MODE=rate ~6–8 minutes, MODE=memory ~10.5 minutes.
# Exit status: 0 when the targets of issue 5 that were measured hold (rate ratio ≥ 0.9 in every
# round, median corrected p50 difference < 20 µs), 1 when one does not.

set -euo pipefail

MODE=${MODE:-rate}
RATES=${RATES:-12000 16000 18000 20000 22000 24000 26000 28000 32000}
SECS=${SECS:-10}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-2}
STOP_AFTER=${STOP_AFTER:-2}
MIN_ACHIEVED=${MIN_ACHIEVED:-0.98}
P99_LIMIT_MS=${P99_LIMIT_MS:-100}
LOW_RATE=${LOW_RATE:-500}
OVERHEAD_ROUNDS=${OVERHEAD_ROUNDS:-5}
BEFORE=${BEFORE:-}
MEM_RATE=${MEM_RATE:-1000}
MEM_SECS=${MEM_SECS:-600}
MEM_EVERY=${MEM_EVERY:-10}

case $MODE in rate | memory | all) ;; *) echo "MODE must be rate, memory or all" >&2; exit 2 ;; esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/generator-bench.XXXXXX)}

# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"

# ---- tools -------------------------------------------------------------------------------
if [[ $MODE != memory ]]; then ensure_oha; fi
command -v python3 >/dev/null || { log "python3 is needed to read the JSON"; exit 1; }

ensure_chaos

# ---- the server --------------------------------------------------------------------------
start_mock
mock_pid=$MOCK_PID
url=$MOCK_URL

# The body our client sends (crates/chaos-runtime/src/load/body.rs): prompt_tokens 100 → "lore" × 93, max_tokens 1.
prompt=$(printf 'lore%.0s' $(seq 93))
body="{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}],\"user\":\"chaos-1\",\"max_completion_tokens\":1}"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/v1/chat/completions" \
  -H 'authorization: Bearer sk-x' -H 'content-type: application/json' -d "$body")
[[ $code == 200 ]] || { log "the mock ($url) answered $code to the POST"; exit 1; }

ticks=$(getconf CLK_TCK)

# timed CPUFILE CMD...: runs CMD, writes "cpu_seconds max_rss_kb" of its process tree to CPUFILE
# and exits with CMD's status.
timed() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
rc = subprocess.call(cmd)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(out, "w").write(f"{u.ru_utime + u.ru_stime:.3f} {u.ru_maxrss}\n")
sys.exit(rc)
PY
}

# scenario FILE RATE SECONDS
scenario() {
  cat >"$1" <<EOF
name: gen-bench
upstreams:
  openai: { mock: openai }        # required; idle (the target is the url below)
target: { url: "$url" }
load:
  arrival: { rate: $2/s }         # constant process
  connections: $CONNS
  max_lag: 50ms
  request: { model: gpt-4o-mini, max_tokens: 1 }
phases:
  - { name: steady, duration: ${3}s }
EOF
}

# run_oha NAME RATE: oha's JSON in NAME.json, CPU in NAME.cpu, the mock's CPU ticks in NAME.mock
run_oha() {
  local name=$1 rate=$2 m0 rc=0
  m0=$(cpu_ticks "$mock_pid")
  timed "$OUT/$name.cpu" timeout $((SECS + 30)) oha --no-tui --output-format json -w -z "${SECS}s" \
    -c "$CONNS" -q "$rate" --latency-correction -m POST -T application/json \
    -H 'authorization: Bearer sk-x' -d "$body" "$url/v1/chat/completions" >"$OUT/$name.json" || rc=$?
  echo "$(( $(cpu_ticks "$mock_pid") - m0 )) $ticks" >"$OUT/$name.mock"
  echo "$rc" >"$OUT/$name.rc"
}

# run_chaos NAME RATE [BINARY]: results in NAME/…/results.json, exit code in NAME.rc
run_chaos() {
  local name=$1 rate=$2 binary=${3:-$CHAOS} m0 rc=0
  scenario "$OUT/$name.yaml" "$rate" "$SECS"
  m0=$(cpu_ticks "$mock_pid")
  timed "$OUT/$name.cpu" timeout $((SECS + 60)) "$binary" run "$OUT/$name.yaml" --reports "$OUT/$name" \
    >"$OUT/$name.out" 2>&1 || rc=$?
  echo "$(( $(cpu_ticks "$mock_pid") - m0 )) $ticks" >"$OUT/$name.mock"
  echo "$rc" >"$OUT/$name.rc"
}

# run_before NAME RATE: run_chaos with the BEFORE binary
run_before() { run_chaos "$1" "$2" "$BEFORE"; }

uptime_before=$(uptime)
log "load before: $uptime_before; raw output in $OUT"
started=$(date +%s)

# ---- 1. max sustained rate ---------------------------------------------------------------
# sustained TOOL NAME RATE → exit 0 when the run sustained RATE (prints why not on stderr)
sustained() {
  OUT=$OUT SECS=$SECS MIN_ACHIEVED=$MIN_ACHIEVED P99_LIMIT_MS=$P99_LIMIT_MS python3 - "$@" <<'PY'
import glob, json, os, sys
tool, name, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
out, secs = os.environ["OUT"], float(os.environ["SECS"])
need, limit = float(os.environ["MIN_ACHIEVED"]), float(os.environ["P99_LIMIT_MS"])
rc = int(open(f"{out}/{name}.rc").read())
why = []
try:
    if tool == "oha":
        d = json.load(open(f"{out}/{name}.json"))
        status, errors = d.get("statusCodeDistribution", {}), d.get("errorDistribution", {})
        ok = status.get("200", 0)
        p99 = (d["latencyPercentiles"]["p99"] or 0) * 1000
        if rc != 0: why.append(f"exit {rc}")
        if set(status) - {"200"} or errors: why.append(f"statuses {status}, errors {errors}")
        if ok / secs < need * rate: why.append(f"achieved {ok / secs:.0f}/s")
    else:
        d = json.load(open(glob.glob(f"{out}/{name}/*/results.json")[0]))
        g, o = d["generator"], d["overall"]
        p99 = o["latency_ms"]["p99"] if o["latency_ms"] else float("inf")
        if rc not in (0, 1): why.append(f"exit {rc}" + (" (generator fell behind)" if rc == 3 else ""))
        if g["missed"]: why.append(f"missed {g['missed']}")
        if g["sent"] / secs < need * rate: why.append(f"sent {g['sent'] / secs:.0f}/s")
        if o["outcomes"] != {"ok": g["sent"]}: why.append(f"outcomes {o['outcomes']}")
    if p99 >= limit: why.append(f"p99 {p99:.1f} ms")
except Exception as e:  # no or unreadable output
    why.append(f"exit {rc}, no readable output ({e})")
if why:
    print(f"  {tool} {rate:.0f}/s not sustained: {'; '.join(why)}", file=sys.stderr)
    sys.exit(1)
print(f"  {tool} {rate:.0f}/s sustained (p99 {p99:.2f} ms)", file=sys.stderr)
PY
}

if [[ $MODE != memory ]]; then
  : >"$OUT/scan.txt"
  for round in $(seq "$ROUNDS"); do
    declare -A fails=([oha]=0 [chaos]=0)
    flip=0
    for rate in $RATES; do
      if ((flip)); then order=(chaos oha); else order=(oha chaos); fi
      flip=$((1 - flip))
      for tool in "${order[@]}"; do
        ((fails[$tool] < STOP_AFTER)) || continue
        name="scan-$tool-$rate-$round"
        log "round $round: $tool at $rate/s"
        "run_$tool" "$name" "$rate"
        if sustained "$tool" "$name" "$rate"; then
          fails[$tool]=0; echo "$round $tool $rate 1" >>"$OUT/scan.txt"
        else
          fails[$tool]=$((fails[$tool] + 1)); echo "$round $tool $rate 0" >>"$OUT/scan.txt"
        fi
      done
    done
    unset fails
  done

  # ---- 2. measurement overhead at a low rate ------------------------------------------------
  for round in $(seq "$OVERHEAD_ROUNDS"); do
    if ((round % 2)); then order=(oha chaos); else order=(chaos oha); fi
    if [[ -n $BEFORE ]]; then  # three tools: each takes each place in turn
      order=(oha chaos before); k=$((round % 3)); order=("${order[@]:k}" "${order[@]:0:k}")
    fi
    for tool in "${order[@]}"; do
      log "overhead round $round: $tool at $LOW_RATE/s"
      "run_$tool" "low-$tool-$round" "$LOW_RATE"
      sustained "$tool" "low-$tool-$round" "$LOW_RATE" || true
    done
  done
fi

# ---- 3. memory ---------------------------------------------------------------------------
if [[ $MODE != rate ]]; then
  scenario "$OUT/memory.yaml" "$MEM_RATE" "$MEM_SECS"
  log "memory: chaos at $MEM_RATE/s for $MEM_SECS s, VmRSS every $MEM_EVERY s"
  "$CHAOS" run "$OUT/memory.yaml" --reports "$OUT/memory" >"$OUT/memory.out" 2>&1 &
  chaos_pid=$!; pids+=("$chaos_pid")
  t0=$(date +%s.%N)
  mock_rss0=$(awk '/VmRSS/ {print $2}' "/proc/$mock_pid/status")
  echo "t_s rss_kb hwm_kb" >"$OUT/memory.rss"
  next=0 hwm=0
  while kill -0 "$chaos_pid" 2>/dev/null; do
    t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    status=$(cat "/proc/$chaos_pid/status" 2>/dev/null) || break
    rss=$(awk '/VmRSS/ {print $2}' <<<"$status"); h=$(awk '/VmHWM/ {print $2}' <<<"$status")
    [[ -n $h ]] && hwm=$h
    if [[ -n $rss ]] && awk -v t="$t" -v n="$next" 'BEGIN {exit !(t >= n)}'; then
      echo "$t $rss $h" >>"$OUT/memory.rss"
      next=$((next + MEM_EVERY))
    fi
    if awk -v t="$t" -v m="$((MEM_SECS + 120))" 'BEGIN {exit !(t >= m)}'; then
      log "memory run over its bound; stopping it"; kill -INT "$chaos_pid" 2>/dev/null || true
    fi
    sleep 1
  done
  mem_rc=0; wait "$chaos_pid" || mem_rc=$?
  echo "$mem_rc $hwm $mock_rss0 $(awk '/VmRSS/ {print $2}' "/proc/$mock_pid/status")" >"$OUT/memory.end"
fi

elapsed=$(( $(date +%s) - started ))
uptime_after=$(uptime)
log "load after: $uptime_after"

# ---- report ------------------------------------------------------------------------------
OUT=$OUT MODE=$MODE RATES="$RATES" SECS=$SECS CONNS=$CONNS ROUNDS=$ROUNDS LOW_RATE=$LOW_RATE \
OVERHEAD_ROUNDS=$OVERHEAD_ROUNDS BEFORE="$BEFORE" MEM_RATE=$MEM_RATE MEM_SECS=$MEM_SECS MEM_EVERY=$MEM_EVERY P99_LIMIT_MS=$P99_LIMIT_MS \
MIN_ACHIEVED=$MIN_ACHIEVED ELAPSED=$elapsed UPTIME_BEFORE="$uptime_before" UPTIME_AFTER="$uptime_after" \
OHA_VERSION="$( (oha --version 2>/dev/null || echo 'oha ?') | awk '{print $2}')" NPROC=$(nproc) \
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
python3 - <<'PY'
import glob, json, os, statistics

env = os.environ
out, mode, secs = env["OUT"], env["MODE"], float(env["SECS"])
failed = False

def cpu(name):
    c, rss = open(f"{out}/{name}.cpu").read().split()
    t, hz = open(f"{out}/{name}.mock").read().split()
    return float(c), int(t) / int(hz), int(rss)

def oha(name):
    d = json.load(open(f"{out}/{name}.json"))
    lat = d["latencyPercentiles"]
    return {"n": d["statusCodeDistribution"].get("200", 0), "p50": lat["p50"] * 1e6, "p99": lat["p99"] * 1e6}

def chaos(name):
    paths = glob.glob(f"{out}/{name}/*/results.json")
    if not paths:
        return None
    d = json.load(open(paths[0]))
    g, o = d["generator"], d["overall"]
    lat, svc, lag = o["latency_ms"] or {}, o["service_time_ms"] or {}, g["lag_ms"] or {}
    return {"n": g["sent"], "missed": g["missed"], "p50": lat.get("p50", 0) * 1e3,
            "p99": lat.get("p99", 0) * 1e3, "svc50": svc.get("p50", 0) * 1e3,
            "lag50": lag.get("p50", 0) * 1e3, "lag99": lag.get("p99", 0) * 1e3}

print()
print(f"oha {env['OHA_VERSION']}; {env['NPROC']} CPUs ({env['CPU_MODEL']}); measuring took {env['ELAPSED']} s.")
print(f"load before: {env['UPTIME_BEFORE'].strip()}")
print(f"load after:  {env['UPTIME_AFTER'].strip()}")

if mode != "memory":
    scan = [line.split() for line in open(f"{out}/scan.txt")]
    rounds = int(env["ROUNDS"])
    print()
    print(f"### Max sustained rate ({secs:.0f} s per run, -c / connections {env['CONNS']}; sustained = "
          f"≥ {float(env['MIN_ACHIEVED']):.0%} of the rate, all 200, no misses, corrected p99 < {env['P99_LIMIT_MS']} ms)")
    print()
    print("| round | tool | rate /s | achieved /s | p50 µs | p99 µs | exit | sustained | tool CPU s (µs/req) | mock CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    best = {}
    for r, tool, rate, ok in scan:
        name = f"scan-{tool}-{rate}-{r}"
        rc = open(f"{out}/{name}.rc").read().strip()
        try:
            m = oha(name) if tool == "oha" else chaos(name)
        except Exception:
            m = None
        c, mock_s, _ = cpu(name)
        if m:
            per = f"{c:.2f} ({c / max(m['n'], 1) * 1e6:.0f})"
            row = f"{m['n'] / secs:.0f} | {m['p50']:.0f} | {m['p99']:.0f}"
        else:
            per, row = f"{c:.2f}", "— | — | —"
        print(f"| {r} | {tool} | {rate} | {row} | {rc} | {'yes' if ok == '1' else 'no'} | {per} | {mock_s:.2f} |")
        key = (r, tool)
        if key not in best:
            best[key] = [0, False]  # highest sustained before the first failure, stopped?
        if not best[key][1]:
            if ok == "1":
                best[key][0] = int(rate)
            else:
                best[key][1] = True
    print()
    # Also the highest rate sustained at all (a noisy failure below it does not count).
    top = {}
    for r, tool, rate, ok in scan:
        if ok == "1":
            top[(r, tool)] = max(top.get((r, tool), 0), int(rate))
    print("| round | oha max sustained /s | chaos max sustained /s | chaos ÷ oha | highest sustained at all: oha / chaos | ratio |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for r in range(1, rounds + 1):
        o, c = best.get((str(r), "oha"), [0])[0], best.get((str(r), "chaos"), [0])[0]
        ratio = c / o if o else float("nan")
        ratios.append(ratio)
        to, tc = top.get((str(r), "oha"), 0), top.get((str(r), "chaos"), 0)
        tr = f"{tc / to:.2f}×" if to else "—"
        print(f"| {r} | {o} | {c} | {ratio:.2f}× | {to} / {tc} | {tr} |")
    verdict = "met" if all(x >= 0.9 for x in ratios) else "not met"
    print()
    print(f"Target (issue 5): chaos ≥ 0.9× oha's max sustained rate (before the first failure) — "
          f"**{verdict}** ({', '.join(f'{x:.2f}×' for x in ratios)}). The rate list limits the "
          f"resolution: RATES={env['RATES']!r}.")
    failed |= verdict != "met"

    n = int(env["OVERHEAD_ROUNDS"])
    # The binary under test, then the BEFORE binary when one took its turns too.
    for tool in (["chaos"] + (["before"] if env["BEFORE"] else [])) if n else []:
        label = "chaos" if tool == "chaos" else f"before ({env['BEFORE']})"
        print()
        print(f"### Measurement overhead at {env['LOW_RATE']} req/s ({secs:.0f} s per run, interleaved): {label}")
        print()
        print("| round | oha p50 µs | chaos latency p50 µs | chaos service p50 µs | chaos start lag p50 µs | latency − oha µs | service − oha µs |")
        print("|---|---|---|---|---|---|---|")
        dl, ds = [], []
        for r in range(1, n + 1):
            o, c = oha(f"low-oha-{r}"), chaos(f"low-{tool}-{r}")
            dl.append(c["p50"] - o["p50"]); ds.append(c["svc50"] - o["p50"])
            print(f"| {r} | {o['p50']:.0f} | {c['p50']:.0f} | {c['svc50']:.0f} | {c['lag50']:.0f} | {dl[-1]:+.0f} | {ds[-1]:+.0f} |")
        ml, ms = statistics.median(dl), statistics.median(ds)
        print()
        print(f"Median p50 difference: corrected latency {ml:+.0f} µs, service time {ms:+.0f} µs "
              f"(target: < 20 µs — corrected **{'met' if ml < 20 else 'not met'}**, "
              f"service time **{'met' if ms < 20 else 'not met'}**).")
        if tool == "chaos":
            failed |= ml >= 20

if mode != "rate":
    rows = [tuple(map(float, l.split())) for l in list(open(f"{out}/memory.rss"))[1:]]
    rc, hwm, mock0, mock1 = open(f"{out}/memory.end").read().split()
    mem_secs, rate = float(env["MEM_SECS"]), float(env["MEM_RATE"])
    def at(t):
        return min(rows, key=lambda row: abs(row[0] - t))
    paths = glob.glob(f"{out}/memory/*/results.json")
    g = json.load(open(paths[0]))["generator"] if paths else None
    print()
    print(f"### Memory: chaos run at {rate:.0f} req/s for {mem_secs:.0f} s (exit {rc}; "
          + (f"sent {g['sent']}, missed {g['missed']}, kept_up {g['kept_up']})" if g else "no results)"))
    print()
    print("| at | t s | VmRSS MB |")
    print("|---|---|---|")
    for label, t in (("start", 0), ("1 min", 60), ("5 min", 300), ("10 min", 600), ("last sample", rows[-1][0])):
        if t <= rows[-1][0] + float(env["MEM_EVERY"]):
            row = at(t)
            print(f"| {label} | {row[0]:.0f} | {row[1] / 1024:.1f} |")
    print(f"| peak (VmHWM, last read) | — | {int(hwm) / 1024:.1f} |")
    late = [row for row in rows if 60 <= row[0] <= mem_secs]
    if len(late) >= 3:
        ts, rs = [r[0] for r in late], [r[1] * 1024 for r in late]
        mt, mr = statistics.fmean(ts), statistics.fmean(rs)
        sxx = sum((t - mt) ** 2 for t in ts)
        slope = sum((t - mt) * (r - mr) for t, r in zip(ts, rs)) / sxx
        ss = sum((r - mr) ** 2 for r in rs)
        r2 = (slope ** 2 * sxx / ss) if ss else 1.0
        first, last = late[0], late[-1]
        growth = (last[1] - first[1]) * 1024 / (rate * (last[0] - first[0]))
        print()
        print(f"From {first[0]:.0f} s to {last[0]:.0f} s: RSS {first[1] / 1024:.1f} → {last[1] / 1024:.1f} MB, "
              f"{growth:.0f} bytes per request (end points); least-squares slope {slope / 1024:.1f} KB/s = "
              f"{slope / rate:.0f} bytes per request, R² {r2:.3f}.")
    print(f"The mock's RSS went from {int(mock0) / 1024:.1f} to {int(mock1) / 1024:.1f} MB. Samples: {out}/memory.rss")

print()
print(f"raw output: {out}")
raise SystemExit(1 if failed else 0)
PY
