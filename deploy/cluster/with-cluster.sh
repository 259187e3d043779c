#!/usr/bin/env bash
# Run a command against the local cluster: start it first when it is not up,
# and then stop it afterwards (a cluster that was already up stays up).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
started=""
# The status is read whole first: with pipefail, `status | grep -q` fails whenever grep
# stops reading before cluster.sh has written its last line (the cluster then never started).
status="$("$HERE/cluster.sh" status)"
if grep -q ': stopped' <<<"$status"; then
    started=1
    "$HERE/cluster.sh" up
fi
rc=0
"$@" || rc=$?
if [[ -n "$started" ]]; then "$HERE/cluster.sh" down; fi
exit "$rc"
