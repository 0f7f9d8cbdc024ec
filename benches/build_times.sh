#!/usr/bin/env bash
# Build times of two commits side by side: a clean `cargo build` (dev profile), then edits to one
# fault file (a comment, a `pub fn`) and to the top crate, each followed by `cargo build`.
# Each commit builds in a worktree of its own with its own target/, one after the other, so
# run it on a quiet machine. Usage: bash benches/build_times.sh BEFORE AFTER (commits).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
before="${1:?usage: build_times.sh BEFORE AFTER}"
after="${2:?usage: build_times.sh BEFORE AFTER}"
work="$(mktemp -d)"
trap 'git -C "$repo" worktree remove --force "$work/before" 2>/dev/null; git -C "$repo" worktree remove --force "$work/after" 2>/dev/null; rm -rf "$work"' EXIT

# Seconds `cargo build` takes in the current folder.
timed_build() {
  local start end
  start=$(date +%s.%N)
  cargo build -q 2>/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

for side in before after; do
  commit="${!side}"
  git -C "$repo" worktree add -q --detach "$work/$side" "$commit"
  cd "$work/$side"
  # The fault file: in the crate's own folder once the workspace exists.
  fault=src/fault/cut.rs
  [ -f crates/chaos-fault/src/cut.rs ] && fault=crates/chaos-fault/src/cut.rs
  echo "$side ($commit) clean build: $(timed_build) s"
  for round in 1 2; do
    echo "// probe $round" >> "$fault"
    echo "$side comment in $fault, round $round: $(timed_build) s"
  done
  for round in 1 2; do
    echo "pub fn build_time_probe_$round() {}" >> "$fault"
    echo "$side pub fn in $fault, round $round: $(timed_build) s"
  done
  echo "// probe" >> src/commands/report.rs
  echo "$side comment in src/commands/report.rs: $(timed_build) s"
done
