#!/usr/bin/env bash
# The service benchmark matrix: builds, then for sync none and batch starts a 3-replica
# cluster and runs `vsr-client bench` (closed-loop puts) with 1 and 32 sessions and
# 64 B and 4 KiB values, RUNS times each, and prints one table of medians (each
# column's median over the runs); then the failover time over KILLS primary kills.
# Numbers, not a test: the machine is shared, so read medians and compare cells of
# one run only.
#
#   scripts/bench.sh                 # defaults: RUNS=3 SECONDS_PER_RUN=5 KILLS=20
#   RUNS=1 SECONDS_PER_RUN=2 KILLS=5 scripts/bench.sh     # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
KILLS=${KILLS:-20}
if [[ "${SKIP_SETUP:-0}" != 1 ]]; then scripts/setup.sh build >&2; fi
bin=build/bin
work=$(mktemp -d /tmp/vsr-bench.XXXXXX)
cluster=bench-$$
cleanup() {
  "$bin/vsr-supervisor" stop --cluster "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

field() {  # field NAME JSON -> the number
  sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" <<<"$2"
}
median() {  # median of the arguments
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
start_cluster() {  # start_cluster SYNC RESTART
  "$bin/vsr-supervisor" stop --cluster "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work/data"
  "$bin/vsr-supervisor" start --cluster "$cluster" --data "$work/data" --sync "$1" \
    --restart "$2" --detach >"$work/start.log" 2>&1 || { cat "$work/start.log" >&2; exit 1; }
}

rows=()
for sync in none batch; do
  start_cluster "$sync" never
  for sessions in 1 32; do
    for size in 64 4096; do
      rates=() p50s=() p99s=()
      for run in $(seq "$RUNS"); do
        out=$("$bin/vsr-client" --cluster "$cluster" bench --sessions "$sessions" --value-size "$size" \
          --read-ratio 0 --duration "$SECONDS_PER_RUN" --json 2>/dev/null)
        rates+=("$(field ops_per_sec "$out")") p50s+=("$(field p50_us "$out")") p99s+=("$(field p99_us "$out")")
        echo "sync $sync, $sessions sessions, $size B, run $run: $(field ops_per_sec "$out") ops/s, p50 $(field p50_us "$out") us, p99 $(field p99_us "$out") us" >&2
      done
      rows+=("$(printf '| %-5s | %8s | %6s | %12.0f | %9.1f | %9.1f |' "$sync" "$sessions" "$size" \
        "$(median "${rates[@]}")" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")")")
    done
  done
done

start_cluster none on-crash
failover=$("$bin/failover-bench" --cluster "$cluster" --kills "$KILLS" --json)
"$bin/vsr-supervisor" stop --cluster "$cluster" >/dev/null 2>&1 || true

echo
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), $(date -u +%Y-%m-%d)"
echo "3 replicas, closed-loop puts; medians of $RUNS runs of ${SECONDS_PER_RUN} s"
echo
echo "| sync  | sessions | value  |        ops/s |   p50 us |   p99 us |"
echo "|-------|---------:|-------:|-------------:|----------:|----------:|"
printf '%s\n' "${rows[@]}"
echo
echo "failover after SIGKILL of the primary (sync none, supervisor running), $(field kills "$failover") kills:"
echo "  new primary normal:  p50 $(field view_change_p50_ms "$failover") ms, p99 $(field view_change_p99_ms "$failover") ms"
echo "  first commit in it:  p50 $(field first_commit_p50_ms "$failover") ms, p99 $(field first_commit_p99_ms "$failover") ms"
echo "  client's next put:   p50 $(field client_p50_ms "$failover") ms, p99 $(field client_p99_ms "$failover") ms"
