"""Count the fidelity corpus: test cases per file and distinct inputs.

Run from the checkout root: ``python tests/fidelity/count_corpus.py``. A distinct input is a
test id with its output-format parameter left out (the same input exported to csv, parquet,
jsonl or json counts once); the property test counts once although it draws dozens.
"""
from __future__ import annotations

import collections
import subprocess
import sys

FORMATS = {"csv", "parquet", "jsonl", "json", "tsv"}
FILES = ["tests/fidelity", "tests/core/test_bad_input.py"]


def main() -> int:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider", *FILES], capture_output=True, text=True).stdout
    cases: collections.Counter[str] = collections.Counter()
    inputs: dict[str, set] = collections.defaultdict(set)
    for test_id in (line for line in out.splitlines() if "::" in line):
        path, rest = test_id.split("::", 1)
        func, _, params = rest.partition("[")
        kept = tuple(p for p in params.rstrip("]").split("-") if p and p not in FORMATS)
        cases[path] += 1
        inputs[path].add((func, kept))
    for path in sorted(cases, key=lambda p: -cases[p]):
        print(f"{cases[path]:5d} {len(inputs[path]):5d}  {path}")
    print(f"{sum(cases.values()):5d} {sum(map(len, inputs.values())):5d}  total (test cases, distinct inputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
