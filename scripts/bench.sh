#!/usr/bin/env bash
# The service benchmark matrix: builds, then for sync none and batch starts a 3-replica
# cluster and runs `vsr-client bench` (closed-loop puts) with 1 and 32 sessions and
# 64 B and 4 KiB values, RUNS times each, and prints one table of medians (each
# column's median over the runs); then the failover time over KILLS primary kills.
# Numbers, not a test: the machine is shared, so read medians and compare cells of
# one run only.
#
# The cluster runs in this script's session (`--detach --keep-session`), as clients of
# a co-located service best run it: under Linux autogroup every session is one
# scheduling group and sched_yield does not hand the CPU to another group, which costs
# latency when busy processes outnumber the cores. The last table measures the same
# cells with the cluster in a session of its own (plain `--detach`), interleaved.
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
start_cluster() {  # start_cluster SYNC RESTART [SESSION: keep|own]
  "$bin/vsr-supervisor" stop --cluster "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work/data"
  local session=(--keep-session)
  [[ "${3:-keep}" == own ]] && session=()
  "$bin/vsr-supervisor" start --cluster "$cluster" --data "$work/data" --sync "$1" \
    --restart "$2" --detach "${session[@]}" >"$work/start.log" 2>&1 || { cat "$work/start.log" >&2; exit 1; }
}
# cell LABEL SYNC SESSIONS SIZE: RUNS runs on the running cluster -> one table row.
cell() {
  local rates=() p50s=() p99s=() out
  for run in $(seq "$RUNS"); do
    out=$("$bin/vsr-client" --cluster "$cluster" bench --sessions "$3" --value-size "$4" \
      --read-ratio 0 --duration "$SECONDS_PER_RUN" --json 2>/dev/null)
    rates+=("$(field ops_per_sec "$out")") p50s+=("$(field p50_us "$out")") p99s+=("$(field p99_us "$out")")
    echo "$1 sync $2, $3 sessions, $4 B, run $run: $(field ops_per_sec "$out") ops/s, p50 $(field p50_us "$out") us, p99 $(field p99_us "$out") us ($(sed -n 's/.*"sched_group": "\([^"]*\)".*/\1/p' <<<"$out") sched group)" >&2
  done
  printf '| %-5s | %8s | %6s | %12.0f | %9.1f | %9.1f |' "$2" "$3" "$4" \
    "$(median "${rates[@]}")" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")"
}

rows=()
for sync in none batch; do
  start_cluster "$sync" never
  for sessions in 1 32; do
    for size in 64 4096; do
      rows+=("$(cell "" "$sync" "$sessions" "$size")")
    done
  done
done

# Side by side: the cluster in this session and in one of its own, alternating.
same=() other=()
for sessions in 1 32; do
  start_cluster none never keep
  same+=("$(cell "same session:" none "$sessions" 64)")
  start_cluster none never own
  other+=("$(cell "own session:" none "$sessions" 64)")
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
echo "the cluster in the clients' session vs in a session of its own (sync none, 64 B):"
echo
echo "| cluster's session | sessions |        ops/s |   p50 us |   p99 us |"
echo "|-------------------|---------:|-------------:|----------:|----------:|"
for i in 0 1; do
  printf '| clients'"'"' (same)   |%s\n' "$(cut -d'|' -f3,5- <<<"${same[$i]}")"
  printf '| its own (other)   |%s\n' "$(cut -d'|' -f3,5- <<<"${other[$i]}")"
done
echo
echo "failover after SIGKILL of the primary (sync none, supervisor running), $(field kills "$failover") kills:"
echo "  new primary normal:  p50 $(field view_change_p50_ms "$failover") ms, p99 $(field view_change_p99_ms "$failover") ms"
echo "  first commit in it:  p50 $(field first_commit_p50_ms "$failover") ms, p99 $(field first_commit_p99_ms "$failover") ms"
echo "  client's next put:   p50 $(field client_p50_ms "$failover") ms, p99 $(field client_p99_ms "$failover") ms"
