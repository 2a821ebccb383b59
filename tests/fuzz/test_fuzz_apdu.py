"""APDU parsing and the card driver under garbled card answers (hypothesis, bounded)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from myna_reader.daemon.engine import CardJobFailed, Signed
from tests.fuzz.fuzz_strategies import FUZZ, FUZZ_SLOW
from tests.fuzz.fuzz_targets import (
    MutatingReader,
    ScriptedReader,
    apdu_bytes,
    card_mutation,
    run_card_jobs,
)

_STATUS_WORDS = [0x9000, 0x6A82, 0x6982, 0x6984, 0x6983, 0x63C0, 0x63C1, 0x63C2, 0x6300,
                 0x6700, 0x6B00, 0x6282, 0x6985, 0x6A86, 0x6D00, 0x6E00, 0x6F00, 0x6400]
_sw = st.sampled_from(_STATUS_WORDS) | st.integers(0, 0xFFFF)
_chained = st.tuples(st.sampled_from([0x61, 0x6C]), st.integers(0, 255))
_response = st.one_of(
    st.binary(max_size=300),  # anything at all
    st.builds(lambda d, sw: d + sw.to_bytes(2, "big"), st.binary(max_size=300), _sw),
    st.builds(lambda d, s: d + bytes(s), st.binary(max_size=40), _chained),
)


@FUZZ
@given(st.binary(max_size=300))
def test_apdu_parsers_raise_only_typed_errors(data: bytes) -> None:
    apdu_bytes(data)


@FUZZ_SLOW
@given(st.lists(_response, max_size=40))
def test_card_jobs_answer_any_card_with_an_event(responses: list[bytes]) -> None:
    answers = run_card_jobs(ScriptedReader(responses))
    assert answers  # the probe always answers, with CardProbed or CardJobFailed


@FUZZ_SLOW
@given(st.binary(min_size=2, max_size=64))
def test_one_damaged_answer_of_the_simulated_card(data: bytes) -> None:
    card_mutation(data)


def test_the_undamaged_card_completes() -> None:
    """The mutation harness itself works: without damage the confirmation signs."""
    answers = run_card_jobs(MutatingReader(at=0, mutate=lambda b: b))
    assert isinstance(answers[-1], Signed)


def test_a_card_that_answers_nothing_fails_the_probe() -> None:
    answers = run_card_jobs(ScriptedReader([]))
    assert isinstance(answers[0], CardJobFailed)
