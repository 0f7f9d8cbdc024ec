#!/usr/bin/env bash
# A mock's stream timing with an eager, efficient HTTP/2 client: h2load (nghttp2, in C) holds
# STREAMS streaming chat completions (100 tokens each, at 50 tokens/s) on one `chaos mock`, over
# CONNS h2c connections, all open at once; then the mock's own account (`/_chaos/timing`): the
# inter-token error as it wrote its events. Also its CPU and peak RSS, and the client's CPU.
#
#   bash benches/mock_streams_h2load.sh
#
# Environment (all optional): CHAOS (chaos binary), STREAMS (2000), CONNS (20), ROUNDS (3),
# OUT (folder). Needs h2load (Debian's nghttp2-client) and python3. ~10 s a round.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d)}
STREAMS=${STREAMS:-2000}
CONNS=${CONNS:-20}
ROUNDS=${ROUNDS:-3}
# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"

command -v h2load >/dev/null || { log "needs h2load (apt-get install nghttp2-client)"; exit 1; }
ensure_chaos

body="$OUT/body.json"
echo '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":100}' >"$body"
for round in $(seq "$ROUNDS"); do
  "$CHAOS" mock --openai 127.0.0.1:0 --tokens-per-second 50 >"$OUT/mock-$round.out" 2>&1 &
  mock=$!
  pids+=("$mock")
  url=$(wait_for "$OUT/mock-$round.out" 'http://127\.0\.0\.1:[0-9]+')
  before=$(cpu_ticks "$mock")
  timeout 60 /usr/bin/time -f "%U %S" -o "$OUT/h2load-$round.time" \
    h2load -n "$STREAMS" -c "$CONNS" -m $((STREAMS / CONNS)) -d "$body" \
    -H 'content-type: application/json' -H 'authorization: Bearer sk-bench' \
    "$url/v1/chat/completions" >"$OUT/h2load-$round.txt"
  spent=$(( $(cpu_ticks "$mock") - before ))
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$mock/status")
  curl -s --max-time 10 "$url/_chaos/timing" >"$OUT/timing-$round.json"
  kill -INT "$mock" 2>/dev/null || true
  SUCCEEDED=$(grep -oE '[0-9]+ succeeded' "$OUT/h2load-$round.txt" | cut -d' ' -f1) \
  CLIENT=$(awk '{print $1 + $2}' "$OUT/h2load-$round.time") SPENT=$spent TICKS=$(getconf CLK_TCK) RSS=$rss \
  ROUND=$round STREAMS=$STREAMS CONNS=$CONNS python3 - "$OUT/timing-$round.json" <<'PY'
import json, os, sys
t = json.load(open(sys.argv[1])); g = t["gap_error"]; e = os.environ
print(f"round {e['ROUND']}: {e['STREAMS']} streams over {e['CONNS']} h2c connections, {e['SUCCEEDED']} succeeded, "
      f"{t['events']} events; the mock's inter-token error p50 {g['p50_ms']} ms, p99 {g['p99_ms']} ms, "
      f"p99.9 {g['p999_ms']} ms, max {g['max_ms']} ms; mock CPU {int(e['SPENT']) / int(e['TICKS']):.2f} s, "
      f"peak RSS {int(e['RSS']) / 1024:.1f} MB; h2load CPU {float(e['CLIENT']):.2f} s")
PY
done
