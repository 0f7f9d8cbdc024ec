#!/usr/bin/env bash
# Instructions the interposer executes per proxied request, counted by valgrind's callgrind: a
# figure that does not drift with the machine's load (the same binary and inputs give the same
# count), so a change to the request path shows as a before/after even on a busy shared machine.
#
#   bash benches/proxy_instructions.sh                  # the release build
#   CHAOS=/path/to/old/chaos bash benches/proxy_instructions.sh   # another build, to compare
#
# One `chaos mock` (not measured) and one `chaos proxy --threads 1` under callgrind in front of
# it; oha sends WARMUP POSTs (connections, pools and caches settle), the counters are zeroed,
# then REQUESTS POSTs one at a time (-c 1), and the count is dumped. Prints instructions per
# request, the whole count, and the heaviest functions (inclusive, then by their own
# instructions) for where they went.
#
#   STREAM=1 bash benches/proxy_instructions.sh         # streamed chat completions (SSE)
#
# Environment (all optional): CHAOS (chaos binary), REQUESTS (1000), WARMUP (100), OUT (folder),
# PROXY_ARGS (more arguments for `chaos proxy`: `--bare-relay` counts the floor's instructions),
# STREAM (1: each request asks for a stream of TOKENS tokens, 16 unless set, with its usage
# chunk unless USAGE=0; else a JSON answer of 1 token).
# Needs valgrind (Debian's `valgrind`) and oha (installed with cargo if missing). ~30 s.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d)}
REQUESTS=${REQUESTS:-1000}
WARMUP=${WARMUP:-100}
# shellcheck source=benches/common.sh
source "$repo/benches/common.sh"

ensure_valgrind
ensure_oha
ensure_chaos

start_mock
mock=$MOCK_URL

valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
  "$CHAOS" proxy --listen 127.0.0.1:0 --upstream "$mock" --threads 1 ${PROXY_ARGS:-} >"$OUT/proxy.out" 2>&1 &
grind=$!
pids+=("$grind")
# The proxy's own line (valgrind's banner names the upstream's address first); slow to start.
proxy=$(wait_for "$OUT/proxy.out" 'listening on http://127\.0\.0\.1:[0-9]+' 30)
proxy=${proxy#listening on }

if [[ ${STREAM:-0} == 1 ]]; then
  tokens=${TOKENS:-16}
  stream_field=',"stream":true,"stream_options":{"include_usage":true}'
  kind="streamed chat completion ($tokens tokens)"
  if [[ ${USAGE:-1} == 0 ]]; then
    stream_field=',"stream":true'
    kind="streamed chat completion ($tokens tokens, no usage chunk)"
  fi
else
  tokens=1
  stream_field=''
  kind=POST
fi
body="{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":$tokens$stream_field}"
post() {
  oha --no-tui -n "$1" -c 1 -m POST -H 'authorization: Bearer sk-bench' \
    -H 'content-type: application/json' -d "$body" "$proxy/v1/chat/completions" >"$OUT/oha-$1.txt" 2>&1
}
post "$WARMUP"
callgrind_control -z "$grind" >/dev/null 2>&1
post "$REQUESTS"
grep -q 'Success rate:.*100.00%' "$OUT/oha-$REQUESTS.txt" || { log "not every request succeeded:"; cat "$OUT/oha-$REQUESTS.txt" >&2; exit 1; }
callgrind_control -d "$grind" >/dev/null 2>&1
sleep 1
dump=$(ls "$OUT"/callgrind.out.* | head -n1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "chaos proxy ${PROXY_ARGS:-}: $((total / REQUESTS)) instructions per proxied $kind ($total over $REQUESTS requests, $(basename "$CHAOS"))"
# The functions of chaos's crates and the libraries on its path; callgrind attributes the whole
# count to the thread's entry functions as well, and those lines are left out.
ours='(\?\?\?:<?(chaos[a-z_]*|serde_json|hyper|httparse|http|bytes|memchr|tokio)::|:__mem[a-z_]+ )'
heaviest() {
  local count=$1
  shift
  callgrind_annotate --threshold=100 "$@" "$dump" 2>/dev/null | awk -v n="$REQUESTS" -v total="$total" '
    /^ *[0-9,]+ \(/ { c = $1; gsub(",", "", c); if (c + 0 >= total + 0) next
      sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, ""); printf "  %8d %s\n", c / n, $0 }' |
    grep -E "$ours" | head -n "$count" | cut -c1-150
}
echo "heaviest (inclusive, per request):"
heaviest 14 --inclusive=yes
echo "heaviest (own instructions, per request):"
heaviest 15 --inclusive=no
echo "raw: $dump"
