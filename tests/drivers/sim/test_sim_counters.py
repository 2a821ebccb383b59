"""Property tests of the card's retry counters and verified states (docs/card-protocol.md §7, §12).

A hypothesis state machine drives random VERIFY right/wrong/empty and power cycles against
two keys with different limits, and checks every answer against a tiny model.
"""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile

SELECT_JPKI = bytes.fromhex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
KEYS = {0x18: (b"1234", 3), 0x1B: (b"ABC123", 5)}  # EF: (right value, max tries)
KEY_OF_SIGNATURE = {0x18: 0x97, 0x1B: 0x9A}  # the private key each PIN opens, as 80|SFI
DIGEST_INFO = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(32)
STANDARD = load_profile("standard")


def sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


class CounterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.card = SimulatedCard(STANDARD)
        self.card.power_on()
        self.card.process(SELECT_JPKI)
        self.tries = {ef: limit for ef, (_, limit) in KEYS.items()}
        self.verified: set[int] = set()

    def verify(self, ef: int, data: bytes) -> int:
        apdu = bytes((0x00, 0x20, 0x00, 0x80 | ef)) + (bytes((len(data),)) + data if data else b"")
        return sw(self.card.process(apdu))

    @rule(ef=st.sampled_from(list(KEYS)))
    def empty_verify(self, ef: int) -> None:
        assert self.verify(ef, b"") == 0x63C0 | self.tries[ef]

    @rule(ef=st.sampled_from(list(KEYS)))
    def right_verify(self, ef: int) -> None:
        answer = self.verify(ef, KEYS[ef][0])
        if self.tries[ef] == 0:
            assert answer == 0x6984
        else:
            assert answer == 0x9000
            self.tries[ef] = KEYS[ef][1]
            self.verified.add(ef)

    @rule(ef=st.sampled_from(list(KEYS)),
          wrong=st.binary(min_size=1, max_size=16).filter(lambda b: b not in (b"1234", b"ABC123")))
    def wrong_verify(self, ef: int, wrong: bytes) -> None:
        answer = self.verify(ef, wrong)
        if self.tries[ef] == 0:
            assert answer == 0x6984
        else:
            self.tries[ef] -= 1
            assert answer == 0x63C0 | self.tries[ef]
            self.verified.discard(ef)

    @rule()
    def power_cycle(self) -> None:
        self.card.power_off()
        self.card.power_on()
        self.card.process(SELECT_JPKI)
        self.verified.clear()

    @rule(ef=st.sampled_from(list(KEYS)))
    def sign(self, ef: int) -> None:
        apdu = bytes((0x80, 0x2A, 0x00, KEY_OF_SIGNATURE[ef], len(DIGEST_INFO))) + DIGEST_INFO
        answer = sw(self.card.process(apdu + b"\x00"))
        assert answer == (0x9000 if ef in self.verified else 0x6982)

    @invariant()
    def counters_match_the_model(self) -> None:
        for ef, (_, limit) in KEYS.items():
            left = self.card.tries_left("jpki", ef)
            assert 0 <= left <= limit
            assert left == self.tries[ef]  # the verified state: the `sign` rule checks it


CounterMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25,
                                            deadline=None)
test_counters = CounterMachine.TestCase


@pytest.mark.slow
def test_counters_long_run() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(CounterMachine, settings=settings(
        max_examples=400, stateful_step_count=60, deadline=None))
