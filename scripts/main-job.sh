#!/usr/bin/env bash
# Sets everything up and runs kfci's main job on this machine: the whole chain (emulators, the local workflow engine,
# the four functions) comes up on loopback, a git repository is made from examples/python-presubmit with a pull-request
# branch, and a presubmit runs on it end to end: Prow event -> Trigger -> workflows -> Watcher -> Uploader -> results
# in Prow's layout. Exits with `kfci local run`'s code (0 SUCCESS, 1 FAILURE, 2 could not run).
#
#   ./scripts/main-job.sh            # the example PR passes
#   ./scripts/main-job.sh --broken   # the example PR breaks a test: the presubmit is a FAILURE (exit 1)
#   ./scripts/main-job.sh --keep     # leave the stack running afterwards (stop it with ./kfci local down)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=false
example_args=()
for arg in "$@"; do
  case "$arg" in
    --keep) keep=true ;;
    --broken) example_args+=(--broken) ;;
    *) echo "usage: $0 [--keep] [--broken]" >&2; exit 2 ;;
  esac
done
"$root/scripts/setup.sh"
cd "$root"
home="${KFCI_HOME:-$root/.kfci}"
./kfci local up
repo="$("$root/scripts/example-repo.sh" "$home/example-repo" "${example_args[@]}")"
set +e
./kfci local run --repo "$repo" --job-type presubmit --job-name python-presubmit
status=$?
set -e
if [ "$keep" = false ]; then
  ./kfci local down
fi
exit "$status"
