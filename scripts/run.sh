#!/usr/bin/env bash
# Installs what is missing, builds, and runs the service with sensible defaults: a
# 3-replica cluster named `default` (sync none, restart on-crash) in the foreground.
# Ctrl-C stops it cleanly. Extra arguments go to `vsr-supervisor start`
# (for example `scripts/run.sh --sync batch --replicas 5`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
bin="$(pwd)/build/bin"
cat <<EOF

== vsr-shm: starting cluster 'default' (3 replicas). In another terminal:
   $bin/vsr-client put greeting hello        # store a value
   $bin/vsr-client get greeting              # read it back
   $bin/vsr-supervisor status                # replicas: role, view, op, commit, lag
   $bin/vsr-supervisor kill 0                # SIGKILL replica 0; the others elect a new primary
   $bin/vsr-supervisor restart 0             # bring it back (it catches up)
   $bin/vsr-client bench --sessions 32 --duration 5
   $bin/vsr-chaos --duration 60              # a crash-recovery test on its own cluster
Ctrl-C here stops every replica and removes the shared-memory segment.

EOF
exec "$bin/vsr-supervisor" start "$@"
