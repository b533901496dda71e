#!/usr/bin/env bash
# Sets everything up and runs kfci's main job on this machine: the whole chain (emulators and the four
# function hosts) comes up on loopback, is checked healthy, and is stopped again.
# Pass --keep to leave the stack running afterwards (stop it with ./kfci local down).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keep=false
[ "${1:-}" = "--keep" ] && keep=true
"$root/scripts/setup.sh"
cd "$root"
./kfci local up
./kfci local status
if [ "$keep" = false ]; then
  ./kfci local down
fi
