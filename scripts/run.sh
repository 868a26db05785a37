#!/usr/bin/env bash
# Installs what is missing, builds, and runs the project with sensible defaults.
# Until the service itself lands, this runs what exists: a short burst of the
# cluster simulator, then the linearizability checker on a sample history.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
echo "== vsr-sim: 200 seeded cluster runs with faults (agreement, linearizability, liveness)"
build/bin/vsr-sim --seeds 200
echo "== vsr-check on a shared Jepsen etcd history"
build/bin/vsr-check tests/check/data/jepsen-etcd/etcd_002.log || true
