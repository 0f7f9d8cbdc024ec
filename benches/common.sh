# Shared by the whole-process benchmarks (sourced, not run): the processes they start and stop,
# logging, the peers and the chaos binary they need, and small readers of a process's state.
# Expects `repo` (the repository root) and `OUT` (a folder for logs) to be set; creates `OUT`.

mkdir -p "$OUT"

pids=()
# Stops every process in `pids`: SIGINT first (they print their summaries), SIGKILL after 0.5 s.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -INT "$pid" 2>/dev/null || true; fi
  done
  sleep 0.5
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# Debian puts servers (haproxy, nginx) in /usr/sbin, not on every user's PATH.
export PATH="$HOME/.cargo/bin:$PATH:/usr/sbin"

# Installs oha with cargo unless it is on PATH.
ensure_oha() {
  if ! command -v oha >/dev/null; then
    log "installing oha (cargo install oha --locked) ..."
    cargo install oha --locked >"$OUT/oha-install.log" 2>&1 || { log "oha failed to install, see $OUT/oha-install.log"; exit 1; }
  fi
}

# Stops unless valgrind is installed (the instruction counts run under its callgrind).
ensure_valgrind() {
  command -v valgrind >/dev/null || { log "needs valgrind (apt-get install valgrind)"; exit 1; }
}

# Sets CHAOS to the release binary, building it unless CHAOS already names one.
ensure_chaos() {
  if [[ -z ${CHAOS:-} ]]; then
    log "building chaos (cargo build --release) ..."
    (cd "$repo" && cargo build --release --quiet)
    CHAOS="${CARGO_TARGET_DIR:-$repo/target}/release/chaos"
  fi
  [[ -x $CHAOS ]] || { log "no chaos binary at $CHAOS"; exit 1; }
}

# Waits until FILE has a line matching REGEX and prints the first match; gives up after
# SECONDS (10).
wait_for() {
  local file=$1 regex=$2 seconds=${3:-10} i
  for i in $(seq $((seconds * 10))); do
    if grep -Eo -m1 "$regex" "$file" 2>/dev/null | head -n1 | grep .; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for /$regex/ in $file:"; cat "$file" >&2; return 1
}

# CPU time (user + system) of process PID so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Starts a zero-latency `chaos mock --openai` on a free loopback port, stopped with the rest;
# sets MOCK_PID and MOCK_URL. Needs CHAOS (see ensure_chaos).
start_mock() {
  "$CHAOS" mock --openai 127.0.0.1:0 >"$OUT/mock.out" 2>&1 &
  MOCK_PID=$!
  pids+=("$MOCK_PID")
  MOCK_URL=$(wait_for "$OUT/mock.out" 'http://127\.0\.0\.1:[0-9]+')
}

# Starts `chaos proxy` on a free loopback port in front of UPSTREAM, with more ARGS, logging to
# $OUT/NAME.out; sets SERVER_PID and SERVER_URL. Needs CHAOS (see ensure_chaos).
start_chaos_proxy() {
  local name=$1 upstream=$2
  shift 2
  "$CHAOS" proxy --listen 127.0.0.1:0 --upstream "$upstream" "$@" >"$OUT/$name.out" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  SERVER_URL=$(wait_for "$OUT/$name.out" 'http://127\.0\.0\.1:[0-9]+')
}

# Prints a loopback TCP port the kernel calls free (bound on :0, then let go).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers HTTP at all (any status); gives up after SECONDS (10).
wait_http() {
  local url=$1 seconds=${2:-10} i
  for i in $(seq $((seconds * 10))); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null) != 000 ]]; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for $url to answer"; return 1
}

# Holds the machine's bench lock (BENCH_LOCK, /tmp/chaos-bench.lock) until the script ends, so
# two benches never measure at once; waits for it at most LOCK_WAIT seconds (1800). Set
# BENCH_LOCK= (empty) when a caller already holds it (e.g. `flock /tmp/chaos-bench.lock bash …`).
hold_bench_lock() {
  local lock=${BENCH_LOCK-/tmp/chaos-bench.lock}
  [[ -n $lock ]] || return 0
  exec {bench_lock_fd}>>"$lock"
  if ! flock -n "$bench_lock_fd"; then
    log "waiting for the bench lock $lock (another bench is measuring) ..."
    flock -w "${LOCK_WAIT:-1800}" "$bench_lock_fd" || { log "gave up waiting for $lock"; exit 1; }
  fi
}

# Installs Debian's PACKAGE (default: COMMAND) with apt-get unless COMMAND is on PATH, without
# letting the package start its service (a policy-rc.d that forbids it, if there is none).
ensure_debian() {
  local command=$1 package=${2:-$1} policy=/usr/sbin/policy-rc.d made_policy=0 sudo=()
  command -v "$command" >/dev/null && return 0
  ((EUID == 0)) || sudo=(sudo -n)
  log "installing $package (apt-get install -y $package) ..."
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod +x "$policy" && made_policy=1
  fi
  local status=0
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$package" >"$OUT/$package-install.log" 2>&1 ||
    { "${sudo[@]}" apt-get update >>"$OUT/$package-install.log" 2>&1 &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$package" >>"$OUT/$package-install.log" 2>&1; } ||
    status=$?
  ((made_policy)) && "${sudo[@]}" rm -f "$policy"
  ((status == 0)) && command -v "$command" >/dev/null ||
    { log "$package failed to install, see $OUT/$package-install.log"; exit 1; }
}
