#!/usr/bin/env bash
# Idle connections against `chaos proxy` (issue 25's soak): IDLE connections that send nothing,
# spread over PROCS client processes, held for HOLD seconds against a proxy in front of a
# zero-latency `chaos mock`, while one keep-alive client asks every 20 ms. The proxy holds up
# to its cap (by default half of what `ulimit -n` leaves after 256) and sheds the rest with a
# 503; the good client must keep getting answers.
#
#   bash benches/idle_soak.sh                      # 20,000 idle connections, held 20 s
#   IDLE=2000 HOLD=5 bash benches/idle_soak.sh     # a small one
#
# Environment (all optional): CHAOS (binary; default builds the release one), IDLE (20000),
# PROCS (4), HOLD (20), OUT (folder for logs), PROXY_ARGS (more `chaos proxy` flags; default
# `--header-timeout 10m`, so that the cap and not the header timeout decides which idle
# connections stay: opening 20,000 takes longer than the default 30 s on 2 cores). Prints the client's JSON (held, shed, the good
# requests' p50/p99/max in ms), the most descriptors the proxy held at once (its own view of
# the connections it held: a client may count as held a connection the kernel completed but the
# proxy never accepted, a SYN cookie's, when the accept queue overflows) and the proxy's own
# count of what it shed and timed out.
# Bounded: the client gives up after HOLD + 120 s; every process started is stopped on exit.
# Loopback only.

set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/idle-soak.XXXXXX)}
IDLE=${IDLE:-20000}
PROCS=${PROCS:-4}
HOLD=${HOLD:-20}
# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"
ensure_chaos

start_mock
PROXY_ARGS=${PROXY_ARGS:---header-timeout 10m}
# shellcheck disable=SC2086 # PROXY_ARGS is a list of flags
"$CHAOS" proxy --listen 127.0.0.1:0 --upstream "$MOCK_URL" $PROXY_ARGS >"$OUT/proxy.out" 2>"$OUT/proxy.err" &
proxy_pid=$!
pids+=("$proxy_pid")
proxy_url=$(wait_for "$OUT/proxy.out" 'http://127\.0\.0\.1:[0-9]+')
log "soak: $IDLE idle connections over $PROCS processes against $proxy_url for ${HOLD}s (ulimit -n $(ulimit -n))"
# The proxy's open descriptors, sampled every second; the most is printed at the end.
(while kill -0 "$proxy_pid" 2>/dev/null; do ls "/proc/$proxy_pid/fd" 2>/dev/null | wc -l; sleep 1; done >"$OUT/proxy.fds") &
timeout $((HOLD + 150)) python3 "$repo/benches/idle_soak_client.py" "${proxy_url#http://}" "$IDLE" "$PROCS" "$HOLD" \
  | tee "$OUT/client.json"
kill -INT "$proxy_pid"
wait "$proxy_pid" || true
grep '^connections:' "$OUT/proxy.out" || true
echo "proxy descriptors at most: $(sort -n "$OUT/proxy.fds" | tail -n1)"
log "proxy stderr lines: $(wc -l <"$OUT/proxy.err") (in $OUT/proxy.err)"
