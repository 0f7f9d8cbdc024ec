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

export PATH="$HOME/.cargo/bin:$PATH"

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
