#!/usr/bin/env bash
# The harness's own memory over a long run (issue 10's "30 minutes at 500 req/s: RSS under
# 150 MB and flat"): runs `chaos run benches/soak.yaml` (mocks, interposers and the built-in
# client in one process, with faults) and samples the process's VmRSS from /proc.
#
#   bash benches/soak.sh                       # the 30-minute run (~31 minutes)
#   SPEED=10 bash benches/soak.sh              # the same timeline compressed 10× (3 minutes;
#                                              # the rate stays 500/s, so 10× fewer requests)
#
# Environment (all optional): CHAOS (binary; default builds the release one), SPEED (1),
# EVERY (seconds between samples, 10), OUT (folder for the samples and the run's reports).
# Prints one line per minute and, at the end, the RSS at 1 min and at the end, the peak
# (VmHWM), and the least-squares slope over the second half of the run in KB/min.
# Bounded: the run is interrupted (SIGINT, results still written) 120 s after its timeline.

set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/soak.XXXXXX)}
SPEED=${SPEED:-1}
EVERY=${EVERY:-10}
# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"
ensure_chaos

bound=$((1800 / SPEED + 120))
log "soak: $CHAOS run benches/soak.yaml --speed $SPEED; samples every ${EVERY}s in $OUT/rss"
"$CHAOS" run "$repo/benches/soak.yaml" --speed "$SPEED" --reports "$OUT/reports" >"$OUT/run.out" 2>&1 &
pid=$!
pids+=("$pid")
echo "t_s rss_kb" >"$OUT/rss"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  t=$(($(date +%s) - start))
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [[ -n $rss ]] && echo "$t $rss" >>"$OUT/rss"
  if ((t % 60 < EVERY)) && [[ -n $rss ]]; then log "  t=${t}s RSS $((rss / 1024)) MB"; fi
  if ((t >= bound)); then log "over the bound; interrupting"; kill -INT "$pid" 2>/dev/null || true; fi
  sleep "$EVERY"
done
rc=0
wait "$pid" || rc=$?
tail -n 12 "$OUT/run.out" >&2
python3 - "$OUT/rss" "$rc" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]).read().splitlines()[1:]]
if not rows:
    sys.exit("no samples")
half = [r for r in rows if r[0] >= rows[-1][0] / 2]
n = len(half)
mt = sum(t for t, _ in half) / n
mr = sum(r for _, r in half) / n
den = sum((t - mt) ** 2 for t, _ in half) or 1
slope = sum((t - mt) * (r - mr) for t, r in half) / den  # KB per second
at_min = next((r for t, r in rows if t >= 60), rows[0][1])
print(f"soak: exit {sys.argv[2]}, {rows[-1][0]:.0f} s, {len(rows)} samples")
print(f"  RSS at 1 min {at_min/1024:.1f} MB, at the end {rows[-1][1]/1024:.1f} MB, peak {max(r for _, r in rows)/1024:.1f} MB")
print(f"  slope over the second half: {slope*60:.1f} KB/min")
PY
