#!/usr/bin/env python3
"""Generates fnmatch_cases.json: pattern/name pairs with Python's own fnmatch.fnmatch verdict.

The C# Fnmatch is tested against this data (FnmatchTests). Re-run after changing the generator:
    python3 tests/Kfci.Tests/ProwConfig/gen_fnmatch_cases.py
The seed is fixed, so the output only changes when the generator or Python's fnmatch does.
"""
import fnmatch
import json
import os
import random
import sys

ALPHABET = ["a", "b", "c", "z", "A", "/", ".", "-", "!", "]", "[", "*", "?", "\\", "^", "_", "0", "9", "é"]
NAME_ALPHABET = ["a", "b", "c", "z", "A", "/", ".", "-", "!", "]", "[", "\\", "^", "_", "0", "9", "é", "x", "\n"]

# Hand-picked cases: kubeflow's real include_dirs, and every corner of Python's set syntax.
FIXED = [
    ("py/*", "py/kubeflow/testing/run.py"),
    ("py/*", "py"),
    ("py/*", "PY/x"),
    ("tensorflow/*", "tensorflow/a/b/c"),
    ("components/crud-web-apps/common/frontend/kubeflow-common-lib/*", "components/crud-web-apps/common/frontend/kubeflow-common-lib/src/x.ts"),
    ("pkg/apis/controller/a*.go", "pkg/apis/controller/apis.go"),
    ("pkg/apis/controller/a*.go", "pkg/apis/controller/sub/a.go"),
    ("kfdef/kfctl_istio_dex*", "kfdef/kfctl_istio_dex.yaml"),
    ("prow_config.yaml", "prow_config.yaml"),
    ("go.*", "go.mod"),
    ("common/", "common/x"),
    ("Makefile", "makefile"),
    ("[", "["), ("[a", "[a"), ("a[", "a["), ("[]", "[]"), ("[]]", "]"), ("[]a]", "a"), ("[!]]", "]"), ("[!]]", "a"),
    ("[!]", "[!]"), ("[!", "[!"), ("[a-c]", "b"), ("[a-c]", "d"), ("[c-a]", "b"), ("[c-a]", "c"), ("[!c-a]", "x"),
    ("[z-a!b]", "b"), ("[z-a!b]", "c"), ("[z-ab-cd]", "b"), ("[z-ab-cd]", "d"), ("[z-ab-cd]", "a"),
    ("[a-]", "-"), ("[-a]", "-"), ("[!-a]", "-"), ("[!-a]", "b"), ("[a-c-e]", "-"), ("[a-c-e]", "d"), ("[a-c-e]", "e"),
    ("[\\]", "\\"), ("[\\-a]", "]"), ("[\\-a]", "B"), ("[^a]", "^"), ("[^a]", "b"), ("[[a]", "["), ("[a&&b]", "&"),
    ("[a~~b]", "~"), ("[a||b]", "|"), ("*", ""), ("?", ""), ("?", "é"), ("*a*a*a*a*a*b", "a" * 30),
    ("a*", "a\nb"), ("*/*", "a/b/c"), ("**", "x/y"), ("[!/]*", "/x"), ("[.]*", ".hidden"), ("*.py", ".py"),
]


def random_pattern(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))


def random_name(rng):
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(rng.randint(0, 8)))


def instantiate(rng, pattern):
    """A name that often matches the pattern: wildcards replaced by plausible characters."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("".join(rng.choice(NAME_ALPHABET) for _ in range(rng.randint(0, 3))))
        elif ch == "?":
            out.append(rng.choice(NAME_ALPHABET))
        elif ch in "[]!" and rng.random() < 0.5:
            out.append(rng.choice(["a", "b", "-", "]"]))
        else:
            out.append(ch)
    return "".join(out)


def main():
    rng = random.Random(20240531)
    pairs = list(FIXED)
    while len(pairs) < 500:
        pattern = random_pattern(rng)
        name = instantiate(rng, pattern) if rng.random() < 0.6 else random_name(rng)
        pairs.append((pattern, name))
    cases = [{"pattern": p, "name": n, "match": fnmatch.fnmatch(n, p)} for p, n in pairs]
    doc = {"python": sys.version.split()[0], "cases": cases}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fnmatch_cases.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases, {sum(c['match'] for c in cases)} matching, written to {out}")


if __name__ == "__main__":
    main()
