#!/usr/bin/env bash
# User-space instructions the load generator executes per request, against oha's for the same
# requests, both counted by valgrind's callgrind in the same run. A count does not drift with the
# machine's load (the same binary and inputs give nearly the same figure), so where the rate
# ladder of `benches/generator.sh` swings by 20 % from round to round, this ratio holds, and a
# change to the request path shows as a before/after on a busy shared machine.
#
#   bash benches/generator_instructions.sh                            # the release build
#   BEFORE=/path/to/old/chaos bash benches/generator_instructions.sh  # and an older build beside it
#
# One `chaos mock --openai` (zero latency, not measured) answers both. Each tool is run twice under
# callgrind at RATE req/s with CONNS connections, open model, the POST our client sends
# (100-token prompt, max_completion_tokens 1): once for SHORT seconds and once for LONG. The
# difference of the two counts divided by the difference of the requests answered is the cost of
# one request, with start-up, the summary and (for chaos) writing the reports cancelled out.
#   chaos: `chaos run` with a `url` target, `arrival: { rate: RATE/s }`, `connections: CONNS`;
#          requests answered = `generator.sent` from results.json, every one required to be ok.
#   oha:   `oha -q RATE --latency-correction -c CONNS -n N`, the same body; every answer 200.
# Only user space is counted: both tools make the same system calls per request on a kept
# connection (a write, a read, an epoll wait), and the kernel's share is not callgrind's to see.
#
# Environment (all optional): CHAOS (chaos binary), BEFORE (a second chaos binary), RATE (300 req/s:
# what callgrind keeps up with; at a lower rate the run's periodic work, such as the live
# figures, weighs more per request), CONNS (50), SHORT (4) and LONG (14) seconds, OUT (folder).
# Needs valgrind (Debian's `valgrind`), oha (installed with cargo if missing) and python3.
# ~2 minutes, ~1 more with BEFORE.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d)}
RATE=${RATE:-300}
CONNS=${CONNS:-50}
SHORT=${SHORT:-4}
LONG=${LONG:-14}
BEFORE=${BEFORE:-}
# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"
ensure_valgrind
command -v python3 >/dev/null || { log "needs python3 to read results.json"; exit 1; }
ensure_oha
ensure_chaos

start_mock
url=$MOCK_URL

# The body our client sends (crates/chaos-runtime/src/load/body.rs): prompt_tokens 100 → "lore" × 93, max_tokens 1.
prompt=$(printf 'lore%.0s' $(seq 93))
body="{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}],\"user\":\"chaos-1\",\"max_completion_tokens\":1}"

# grind NAME CMD...: runs CMD under callgrind; prints the instructions it executed.
grind() {
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.callgrind" --log-file="$OUT/$name.valgrind" "$@" \
    >"$OUT/$name.out" 2>&1 || { log "$name failed, see $OUT/$name.out"; cat "$OUT/$name.out" >&2; exit 1; }
  awk '/Collected :/ { print $NF }' "$OUT/$name.valgrind"
}

# chaos_run BINARY NAME SECONDS: prints "instructions requests".
chaos_run() {
  local binary=$1 name=$2 seconds=$3 instructions
  cat >"$OUT/$name.yaml" <<EOF
name: gen-instructions
upstreams:
  openai: { mock: openai }        # required; idle (the target is the url below)
target: { url: "$url" }
load:
  arrival: { rate: $RATE/s }
  connections: $CONNS
  max_lag: 10s                    # callgrind is slow to start; the rate itself is easy
  request: { model: gpt-4o-mini, max_tokens: 1 }
phases:
  - { name: steady, duration: ${seconds}s }
EOF
  rm -rf "${OUT:?}/$name-reports"  # an earlier run in the same OUT would leave a second results.json
  instructions=$(grind "$name" "$binary" run "$OUT/$name.yaml" --reports "$OUT/$name-reports")
  local results
  results=$(ls "$OUT/$name-reports"/*/results.json)
  python3 - "$results" "$instructions" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
sent = results["generator"]["sent"]
outcomes = {k: v for phase in results["phases"] for k, v in phase["outcomes"].items()}
if outcomes != {"ok": sent}:
    sys.exit(f"not every request was ok: {outcomes} of {sent}")
print(sys.argv[2], sent)
PY
}

# oha_run NAME SECONDS: prints "instructions requests".
oha_run() {
  local name=$1 seconds=$2 instructions
  instructions=$(grind "$name" oha --no-tui -n $((RATE * seconds)) -c "$CONNS" -q "$RATE" --latency-correction \
    -m POST -T application/json -H 'authorization: Bearer sk-x' -d "$body" "$url/v1/chat/completions")
  grep -q 'Success rate:.*100.00%' "$OUT/$name.out" || { log "not every oha request succeeded:"; cat "$OUT/$name.out" >&2; exit 1; }
  echo "$instructions" $((RATE * seconds))
}

# per_request "I1 N1" "I2 N2": instructions per request from the two runs' difference.
per_request() {
  python3 -c 'import sys; i1, n1, i2, n2 = map(int, sys.argv[1:]); print(round((i2 - i1) / (n2 - n1)))' $1 $2
}

log "callgrind, $RATE req/s, $CONNS connections, runs of ${SHORT}s and ${LONG}s each (~2 min) ..."
oha_cost=$(per_request "$(oha_run oha-short "$SHORT")" "$(oha_run oha-long "$LONG")")
chaos_cost=$(per_request "$(chaos_run "$CHAOS" chaos-short "$SHORT")" "$(chaos_run "$CHAOS" chaos-long "$LONG")")
ratio() { python3 -c "import sys; print(f'{int(sys.argv[1]) / int(sys.argv[2]):.2f}')" "$1" "$oha_cost"; }
echo "user-space instructions per request ($RATE req/s, $CONNS connections, callgrind):"
printf '  %-8s %9d  1.00x\n' oha "$oha_cost"
printf '  %-8s %9d  %sx  (%s)\n' chaos "$chaos_cost" "$(ratio "$chaos_cost")" "$CHAOS"
if [[ -n $BEFORE ]]; then
  before_cost=$(per_request "$(chaos_run "$BEFORE" before-short "$SHORT")" "$(chaos_run "$BEFORE" before-long "$LONG")")
  printf '  %-8s %9d  %sx  (%s)\n' before "$before_cost" "$(ratio "$before_cost")" "$BEFORE"
fi
echo "heaviest chaos functions (inclusive, per request, long run):"
callgrind_annotate --inclusive=yes "$OUT/chaos-long.callgrind" 2>/dev/null | grep -E '\?\?\?:(chaos|serde_json|hyper)::' |
  head -n 15 | awk -v n="$((RATE * LONG))" '{c=$1; gsub(",", "", c); sub(/^[^?]*/, ""); printf "  %8d %s\n", c / n, $0}' | cut -c1-150
echo "raw: $OUT"
