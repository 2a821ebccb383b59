"""Coverage-guided fuzzing of the product's parsers with atheris (libFuzzer): the long runs.

    .venv/bin/pip install atheris          # not a project dependency: a wheel for CPython 3.11
    .venv/bin/python tests/fuzz/atheris/fuzz.py TARGET [libFuzzer flags]
    .venv/bin/python tests/fuzz/atheris/fuzz.py tlv -atheris_runs=200000
    .venv/bin/python tests/fuzz/atheris/fuzz.py host-line -max_total_time=600 CORPUS_DIR

TARGET is one of the names in tests/fuzz/fuzz_targets.py TARGETS (apdu, card-responses,
card-mutation, tlv, records, certificate, transcript, host-line, config). The targets are the
ones the hypothesis suites run in CI; only their typed errors are swallowed, so any other
exception is a finding: libFuzzer writes the input to ./crash-<sha1> and stops. A run with
no arguments lists the targets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # atheris ships no type information

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: tests.fuzz

with atheris.instrument_imports():
    from tests.fuzz import fuzz_targets


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in fuzz_targets.TARGETS:
        print(f"usage: {Path(__file__).name} TARGET [libFuzzer flags]; targets: "
              f"{', '.join(fuzz_targets.TARGETS)}", file=sys.stderr)
        return 2
    target = fuzz_targets.TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
