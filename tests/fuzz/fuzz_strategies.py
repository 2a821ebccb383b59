"""Hypothesis strategies for the fuzz suites: random bytes, and valid inputs damaged a little."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Bounded for CI: a few hundred examples a suite; the long runs are atheris's (README there).
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ_SLOW = settings(FUZZ, max_examples=120)  # targets that run a whole card session each

_EDIT = st.tuples(st.sampled_from(("flip", "insert", "delete", "truncate", "splice")),
                  st.integers(min_value=0), st.binary(min_size=1, max_size=8))


def _apply(data: bytes, edits: Sequence[tuple[str, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, material in edits:
        at = where % (len(out) + 1)
        if kind == "flip" and out:
            out[at % len(out)] ^= material[0] or 0x80
        elif kind == "insert":
            out[at:at] = material
        elif kind == "delete":
            del out[at : at + len(material)]
        elif kind == "truncate":
            del out[at:]
        else:  # splice: overwrite in place
            out[at : at + len(material)] = material
    return bytes(out)


def mutated(seeds: Sequence[bytes], max_edits: int = 4) -> st.SearchStrategy[bytes]:
    """One of `seeds` with 1..max_edits byte-level edits (flip, insert, delete, cut, splice)."""
    return st.builds(_apply, st.sampled_from(list(seeds)),
                     st.lists(_EDIT, min_size=1, max_size=max_edits))


#: Any JSON value, nested a few levels.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
