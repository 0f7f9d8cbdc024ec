#!/usr/bin/env bash
# The interposer against its peers on LLM traffic (issue 31): `chaos proxy` with no fault, with
# a fault chain that never fires and with a 503 firing on 1 % of requests, beside the bare relay
# (the floor of any user-space hop), HAProxy (`mode http`) and nginx (`proxy_pass` with upstream
# keepalive), all in front of one fast `chaos mock` on loopback, against going to it directly.
#
#   bash benches/peers.sh
#   RATE_ROUNDS=1 ROUNDS=1 SAT_SECS=2 bash benches/peers.sh    # a ~1-minute smoke run
#
# Each proxy serves on one thread or worker (`--threads 1`, `nbthread 1`, `worker_processes 1`;
# configs in benches/peers/, ports filled in here); the mock keeps its default threads. Two
# requests: the POST chat completion, and the same streamed (`"stream": true`, SSE, STREAM_TOKENS
# content events from a mock with no pacing). Two phases of interleaved rounds (the paths in a
# rotated order each round), each round running each request on each path:
#   - latency, RATE_ROUNDS short rounds: oha -q RATE --latency-correction -c CONNS → p50, p99.
#     Many short rounds rather than a few long ones: on two shared vCPUs a path's p50 moves by
#     ±20 µs with the machine's state over seconds, so a median over many rounds, each paired
#     with direct's in the same round, is what holds from one run of the bench to the next;
#   - saturated throughput, ROUNDS rounds: oha -c CONNS, no rate limit → requests/s, and the CPU
#     time (utime + stime, /proc/PID/stat) the proxy process spent over the run ÷ requests
#     answered, and oha's own (the client's: a path that re-frames a stream changes what it
#     costs to read).
# Then benches/peers_report.py prints, as Markdown for BENCHMARKS.md, the median and range
# (min–max) over the rounds of the added p50/p99 (path − direct, paired by round), throughput ÷
# direct (paired by round) and CPU µs a request, and the issue's goals as met or not. A row is
# marked invalid unless every one of its oha runs answered 2xx only (the 1 % path: 2xx and the
# 503s it injects, counted apart) with no errors.
# The goals as judged go to OUT/goals.json too; `python3 benches/peers_goals.py OUT1 OUT2 OUT3`
# sets several runs' verdicts side by side (the table BENCHMARKS.md keeps: each goal over three
# runs of this script).
#
# Environment (all optional):
#   CHAOS          chaos binary (default: `cargo build --release`, <target>/release/chaos)
#   RATE_ROUNDS (12)   RATE_SECS (2)   RATE (2000) req/s   ROUNDS (3)   SAT_SECS (8)   CONNS (50)
#   PATHS          which paths (default all): direct relay chaos never fault1 haproxy nginx
#                  (direct is always measured: every figure is against it)
#   REQUESTS       "post stream" (default) or one of them      STREAM_TOKENS (8)
#   ONE_CHUNK      1: every path's upstream is HAProxy in front of the mock, which sends a stream
#                  on as one chunk, so each client reads the same framing whichever path it took
#                  (`ONE_CHUNK=1 REQUESTS=stream bash benches/peers.sh`, ~7 minutes)
#   OUT            folder for oha's raw JSON, logs and the table (default: a new temporary one)
#   BENCH_LOCK     lock held while measuring (/tmp/chaos-bench.lock; empty: none)
#
# Installs what is missing: haproxy and nginx from Debian (apt-get, as root or with sudo -n),
# oha with `cargo install oha --locked`. Every oha run is under `timeout`. The defaults take
# ~14 minutes (7 paths × 2 requests × (12 rounds × 2 s + 3 rounds × 8 s), plus oha's starts,
# warm-ups and checks).

set -euo pipefail

ROUNDS=${ROUNDS:-3}
RATE_ROUNDS=${RATE_ROUNDS:-12}
RATE=${RATE:-2000}
CONNS=${CONNS:-50}
RATE_SECS=${RATE_SECS:-2}
SAT_SECS=${SAT_SECS:-8}
REQUESTS=${REQUESTS:-post stream}
STREAM_TOKENS=${STREAM_TOKENS:-8}
all_paths="direct relay chaos never fault1 haproxy nginx"
PATHS=${PATHS:-$all_paths}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers=$repo/benches/peers
OUT=${OUT:-$(mktemp -d /tmp/peers-bench.XXXXXX)}

# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"

paths=(direct)
for p in $PATHS; do
  [[ " $all_paths " == *" $p "* ]] || { log "unknown path $p; known: $all_paths"; exit 1; }
  [[ $p == direct ]] || paths+=("$p")
done
wants() { [[ " ${paths[*]} " == *" $1 "* ]]; }

# ---- what it needs -----------------------------------------------------------------------
command -v python3 >/dev/null || { log "python3 is needed (free ports, oha's JSON)"; exit 1; }
wants haproxy && ensure_debian haproxy
wants nginx && ensure_debian nginx
ensure_oha
ensure_chaos

# ---- servers -----------------------------------------------------------------------------
declare -A url pid_of
start_mock
url[direct]=$MOCK_URL
pid_of[direct]=$MOCK_PID
mock_port=${MOCK_URL##*:}

# Reads one `--fault` per line of FILE (comments and blank lines skipped) into `fault_args`.
fault_args_from() {
  local line
  fault_args=()
  while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] || fault_args+=(--fault "$line")
  done <"$1"
}

# Writes TEMPLATE with its @NAME@ placeholders filled to TARGET; fills LISTEN_PORT with a free port.
fill_template() {
  local template=$1 target=$2
  LISTEN_PORT=$(free_port)
  sed -e "s|@LISTEN_PORT@|$LISTEN_PORT|g" -e "s|@UPSTREAM_PORT@|$mock_port|g" -e "s|@DIR@|${TEMPLATE_DIR:-}|g" \
    -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" "$template" >"$target"
  if grep -q '@[A-Z_]*@' "$target"; then log "unfilled placeholder in $target"; exit 1; fi
}

# ONE_CHUNK=1: the upstream of every path (and `direct`) is HAProxy in front of the mock. It sends
# a stream the mock wrote at once on as one chunk, as it does for any proxy's client, so every
# path's client reads the same framing and only the proxies' own work differs between them.
if [[ ${ONE_CHUNK:-0} == 1 ]]; then
  ensure_debian haproxy
  fill_template "$peers/haproxy.cfg" "$OUT/one-chunk-upstream.cfg"
  haproxy -db -f "$OUT/one-chunk-upstream.cfg" >"$OUT/one-chunk-upstream.out" 2>&1 &
  pids+=("$!")
  pid_of[direct]=$!
  url[direct]=http://127.0.0.1:$LISTEN_PORT
  mock_port=$LISTEN_PORT
  wait_http "${url[direct]}/" || { cat "$OUT/one-chunk-upstream.out" >&2; exit 1; }
fi
upstream=${url[direct]}

if wants relay; then
  start_chaos_proxy relay "$upstream" --bare-relay --threads 1
  url[relay]=$SERVER_URL; pid_of[relay]=$SERVER_PID
fi
if wants chaos; then
  start_chaos_proxy chaos "$upstream" --threads 1
  url[chaos]=$SERVER_URL; pid_of[chaos]=$SERVER_PID
fi
if wants never; then
  fault_args_from "$peers/fault-never.txt"
  start_chaos_proxy never "$upstream" --threads 1 "${fault_args[@]}"
  url[never]=$SERVER_URL; pid_of[never]=$SERVER_PID
fi
if wants fault1; then
  fault_args_from "$peers/fault-503-1pct.txt"
  start_chaos_proxy fault1 "$upstream" --threads 1 "${fault_args[@]}"
  url[fault1]=$SERVER_URL; pid_of[fault1]=$SERVER_PID
fi
if wants haproxy; then
  fill_template "$peers/haproxy.cfg" "$OUT/haproxy.cfg"
  haproxy -c -q -f "$OUT/haproxy.cfg" >"$OUT/haproxy-check.out" 2>&1 ||
    { log "haproxy rejects $OUT/haproxy.cfg:"; cat "$OUT/haproxy-check.out" >&2; exit 1; }
  haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.out" 2>&1 &
  pid_of[haproxy]=$!; pids+=("$!")
  url[haproxy]=http://127.0.0.1:$LISTEN_PORT
fi
if wants nginx; then
  TEMPLATE_DIR=$OUT/nginx
  mkdir -p "$TEMPLATE_DIR"
  fill_template "$peers/nginx.conf" "$OUT/nginx.conf"
  nginx -q -t -c "$OUT/nginx.conf" -e "$TEMPLATE_DIR/error.log" >"$OUT/nginx-check.out" 2>&1 ||
    { log "nginx rejects $OUT/nginx.conf:"; cat "$OUT/nginx-check.out" >&2; exit 1; }
  nginx -c "$OUT/nginx.conf" -e "$TEMPLATE_DIR/error.log" >"$OUT/nginx.out" 2>&1 &
  nginx_master=$!; pids+=("$nginx_master")
  url[nginx]=http://127.0.0.1:$LISTEN_PORT
fi
for p in haproxy nginx; do
  if wants "$p"; then wait_http "${url[$p]}/" || { cat "$OUT/$p.out" >&2; exit 1; }; fi
done
if wants nginx; then
  # The worker serves; the master only watches it.
  pid_of[nginx]=$(awk '{print $1}' "/proc/$nginx_master/task/$nginx_master/children")
  [[ -n ${pid_of[nginx]} ]] || { log "nginx started no worker"; exit 1; }
fi

# ---- requests ----------------------------------------------------------------------------
declare -A body=(
  [post]='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'
  [stream]="{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"max_tokens\":$STREAM_TOKENS}"
)
# What a whole answer ends with: the JSON's closing brace, the stream's terminator.
declare -A ending=([post]='}' [stream]='data: [DONE]')

# Every path answers each request whole with a 200 (the 1 % path may draw its 503: three tries).
for p in "${paths[@]}"; do
  for request in $REQUESTS; do
    ok=0
    for _ in 1 2 3; do
      answer=$(curl -s --max-time 5 -w '\n%{http_code}' "${url[$p]}/v1/chat/completions" \
        -H 'authorization: Bearer sk-bench' -H 'content-type: application/json' -d "${body[$request]}") || true
      code=${answer##*$'\n'}
      answer=${answer%$'\n'*}
      answer=${answer%"${answer##*[![:space:]]}"}
      if [[ $code == 200 && $answer == *"${ending[$request]}" ]]; then ok=1; break; fi
    done
    ((ok)) || { log "$p (${url[$p]}) answered the $request request with $code, ending: ${answer: -80}"; exit 1; }
  done
done

# run_oha NAME URL REQUEST MODE: one oha run, its JSON in $OUT/NAME.json; a run that fails or
# outlasts its bound leaves $OUT/NAME.failed (the report marks its row invalid).
# oha's own CPU time (user and system seconds, bash's `time`) goes to $OUT/NAME.client: what the
# client spent reading the answers as each path framed them.
run_oha() {
  local name=$1 base=$2 request=$3 mode=$4 secs=$SAT_SECS args=() status=0 TIMEFORMAT='%U %S'
  if [[ $mode == rate ]]; then secs=$RATE_SECS; args=(-q "$RATE" --latency-correction); fi
  { time timeout $((secs + 30)) oha --no-tui --output-format json -w -z "${secs}s" -c "$CONNS" "${args[@]}" \
    -m POST -H 'authorization: Bearer sk-bench' -T application/json -d "${body[$request]}" \
    "$base/v1/chat/completions" >"$OUT/$name.json" 2>"$OUT/$name.err"; } 2>"$OUT/$name.client" || status=$?
  if ((status)); then echo "oha exited $status" >"$OUT/$name.failed"; log "  $name: oha failed, see $OUT/$name.err"; fi
}

# CPU ticks of PATH's process so far; stops the bench if that process has exited.
ticks_of() {
  cpu_ticks "${pid_of[$1]}" 2>/dev/null || { log "the $1 process (${pid_of[$1]}) has exited; its log is in $OUT"; exit 1; }
}

# ---- measurement -------------------------------------------------------------------------
hold_bench_lock
log "warming up every path ..."
for p in "${paths[@]}"; do
  for request in $REQUESTS; do
    timeout 60 oha --no-tui -n 2000 -c "$CONNS" -m POST -H 'authorization: Bearer sk-bench' \
      -T application/json -d "${body[$request]}" "${url[$p]}/v1/chat/completions" >/dev/null 2>&1 || true
  done
done

uptime_before=$(uptime)
log "load before: $uptime_before"
started=$(date +%s)
declare -A rounds_of=([rate]=$RATE_ROUNDS [sat]=$ROUNDS)
for mode in rate sat; do
  for round in $(seq "${rounds_of[$mode]}"); do
    # A rotated order each round, so no path always runs first or after the same one.
    shift_by=$(((round - 1) % ${#paths[@]}))
    order=("${paths[@]:shift_by}" "${paths[@]:0:shift_by}")
    for request in $REQUESTS; do
      for p in "${order[@]}"; do
        name=$p-$request-$mode-$round
        log "$mode round $round/${rounds_of[$mode]}: $request $p"
        before=$(ticks_of "$p")
        run_oha "$name" "${url[$p]}" "$request" "$mode"
        echo $(($(ticks_of "$p") - before)) >"$OUT/$name.ticks"
      done
    done
  done
done
elapsed=$(($(date +%s) - started))
uptime_after=$(uptime)
log "load after: $uptime_after"

# ---- report ------------------------------------------------------------------------------
haproxy_version=$(wants haproxy && haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}' || echo "not used")
nginx_version=$(wants nginx && nginx -v 2>&1 | sed 's|.*nginx/||' || echo "not used")
OUT=$OUT PATHS="${paths[*]}" REQUESTS="$REQUESTS" ONE_CHUNK=${ONE_CHUNK:-0} ROUNDS=$ROUNDS RATE_ROUNDS=$RATE_ROUNDS RATE=$RATE CONNS=$CONNS \
  RATE_SECS=$RATE_SECS SAT_SECS=$SAT_SECS STREAM_TOKENS=$STREAM_TOKENS ELAPSED=$elapsed \
  CLK_TCK=$(getconf CLK_TCK) UPTIME_BEFORE="$uptime_before" UPTIME_AFTER="$uptime_after" \
  OHA_VERSION=$(oha --version | awk '{print $2}') HAPROXY_VERSION=$haproxy_version NGINX_VERSION=$nginx_version \
  CHAOS_VERSION="$("$CHAOS" --version)" COMMIT=$(git -C "$repo" describe --always --dirty) \
  CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" NPROC=$(nproc) \
  python3 "$repo/benches/peers_report.py" | tee "$OUT/table.md"
