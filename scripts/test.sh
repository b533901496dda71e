#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (unit and integration, on the real emulators and
# the faithful fakes). Extra arguments go to 'dotnet test' (e.g. --filter "FullyQualifiedName~Firestore").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test "$root/kfci.slnx" --nologo -c Debug --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line, summed over the test assemblies.
awk '
  /(Passed|Failed)!  - Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") { f += $(i+1) + 0 }
      if ($i == "Passed:") { p += $(i+1) + 0 }
      if ($i == "Skipped:") { s += $(i+1) + 0 }
    }
    seen = 1
  }
  /^ *Total tests:/ { block = 1 }
  block && /^ *Passed: *[0-9]+/ { bp += $2; bseen = 1 }
  block && /^ *Failed: *[0-9]+/ { bf += $2 }
  block && /^ *Skipped: *[0-9]+/ { bs += $2 }
  END {
    if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s
    else if (bseen) printf "tests: %d passed, %d failed, %d skipped\n", bp, bf, bs
    else print "tests: 0 passed, 1 failed (no test ran)"
  }
' "$log"
exit "$status"
