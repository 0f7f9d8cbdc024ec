#!/usr/bin/env bash
# The time and memory `chaos merge` takes for 4 shards x 10 minutes at 1,000 req/s in all
# (benches/merge-shards.yaml, each shard `--shard K/4` at 250 req/s), and the results' sizes.
# Runs the four shards side by side on this machine (about 10 minutes), then times the merge.
# Usage: benches/merge_shards.sh [CHAOS]   (default: target/release/chaos, else target/debug/chaos)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
chaos="${1:-$root/target/release/chaos}"
[ -x "$chaos" ] || chaos="$root/target/debug/chaos"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for k in 0 1 2 3; do
    "$chaos" run "$root/benches/merge-shards.yaml" --shard "$k/4" --reports "$work/r$k" >"$work/out$k.log" 2>&1 &
done
wait || true
files=("$work"/r*/*/results.json)
/usr/bin/time -f "merge: %e s wall, %M KB peak RSS" "$chaos" merge "${files[@]}" -o "$work/merged" >/dev/null
for file in "${files[@]}" "$work/merged/results.json"; do
    printf '%s: %s bytes\n' "${file#"$work"/}" "$(stat -c %s "$file")"
done
grep -h "^overall\|invalid" "$work"/out*.log
