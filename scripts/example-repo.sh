#!/usr/bin/env bash
# Makes a git repository from examples/python-presubmit for `kfci local run`: branch main with the template, and a
# pull-request branch `feature` (checked out) that adds calc.arith.mul and its test.
#
#   scripts/example-repo.sh DEST            # the PR passes its tests
#   scripts/example-repo.sh DEST --broken   # the PR's mul is wrong: its test fails, so the presubmit is a FAILURE
#
# Then: ./kfci local run --repo DEST --job-type presubmit
# DEST is replaced if it is an example repository made earlier; any other existing DEST is refused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="$root/examples/python-presubmit"
usage() { echo "usage: $0 DEST [--broken]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dest="$1"; shift
broken=false
for arg in "$@"; do
  case "$arg" in
    --broken) broken=true ;;
    *) usage ;;
  esac
done

marker=".kfci-example"
if [ -e "$dest" ]; then
  if [ -f "$dest/$marker" ]; then
    rm -rf "$dest"
  else
    echo "example-repo: $dest exists and is not an example repository made by this script; choose another DEST" >&2
    exit 2
  fi
fi

mkdir -p "$dest"
cp -R "$template/." "$dest/"
find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
git_() { git -C "$dest" -c user.name="kfci example" -c user.email="kfci-example@example.invalid" -c commit.gpgsign=false "$@"; }
git_ init --quiet -b main
git_ add -A
git_ commit --quiet -m "calc: add and mean, with tests and kfci workflows"
touch "$dest/$marker"
printf '%s\n' "$marker" >> "$dest/.git/info/exclude"

git_ checkout --quiet -b feature
if [ "$broken" = true ]; then
  body="    return a + b  # wrong on purpose: the presubmit must fail"
else
  body="    return a * b"
fi
cat >> "$dest/calc/arith.py" <<PY


def mul(a, b):
$body
PY
cat > "$dest/tests/test_mul.py" <<'PY'
import unittest

from calc import arith


class MulTest(unittest.TestCase):
    def test_mul(self):
        self.assertEqual(arith.mul(3, 4), 12)


if __name__ == "__main__":
    unittest.main()
PY
git_ add -A
git_ commit --quiet -m "calc: add mul"
echo "$dest"
