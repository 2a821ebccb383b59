"""The channel's template method through the replay backend: 61xx, 6Cxx, status words, masking.

The replay backend is a real backend of the project; a transcript built here scripts the card.
"""

import pytest

from myna_reader.drivers import errors
from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader
from myna_reader.drivers.channel import CardChannel, Exchange, format_masked, mask_command
from myna_reader.drivers.transcript import CardEvent, Header, Step, Transcript


def channel_for(*pairs: tuple[str, str]) -> tuple[CardChannel, ReplayReader]:
    steps = tuple(Step(cmd.upper(), bytes.fromhex(rsp)) for cmd, rsp in pairs)
    reader = ReplayReader(Transcript(Header("test"), (CardEvent(ReaderEventKind.CARD_INSERTED),
                                                      *steps)))
    reader.connect()
    return CardChannel(reader), reader


def test_get_response_collects_61xx_chunks() -> None:
    channel, reader = channel_for(("00B0000000", "AABB6103"), ("00C0000003", "CCDDEE6100"),
                                  ("00C0000000", "FF9000"))
    response = channel.exchange(Command.case2(0, 0xB0, 0, 0, 256))
    assert response.data == bytes.fromhex("AABBCCDDEEFF")
    assert channel.apdu_count == 3
    assert reader.finished


def test_wrong_le_is_resent_once_with_the_cards_length() -> None:
    channel, reader = channel_for(("00B0000004", "6C02"), ("00B0000002", "30829000"))
    assert channel.exchange(Command.case2(0, 0xB0, 0, 0, 4)).data == b"\x30\x82"
    assert reader.finished


@pytest.mark.parametrize(
    ("sw", "error", "attrs"),
    [
        ("63C2", errors.PinIncorrectError, {"tries_left": 2}),
        ("63C0", errors.PinBlockedError, {}),
        ("6984", errors.PinBlockedError, {}),
        ("6982", errors.SecurityStatusError, {}),
        ("6A82", errors.CardFileNotFoundError, {}),
        ("6700", errors.WrongLengthError, {}),
        ("6985", errors.ConditionsNotSatisfiedError, {}),
        ("6A86", errors.WrongParametersError, {}),
        ("6B00", errors.EndOfFileError, {}),
        ("6D00", errors.InstructionNotSupportedError, {}),
        ("9F13", errors.UnknownStatusError, {"sw": 0x9F13}),
    ],
)
def test_status_words_raise_their_typed_error(sw: str, error: type[Exception],
                                             attrs: dict[str, object]) -> None:
    channel, _ = channel_for(("00A4020C020018", sw))
    with pytest.raises(error) as caught:
        channel.exchange(Command.case3(0, 0xA4, 2, 0x0C, b"\x00\x18"))
    for name, value in attrs.items():
        assert getattr(caught.value, name) == value
    assert isinstance(caught.value, errors.CardStatusError)


def test_a_response_without_status_word_is_malformed() -> None:
    channel, _ = channel_for(("00200080", "63"))
    with pytest.raises(errors.MalformedResponseError):
        channel.send(Command.case1(0, 0x20, 0, 0x80))


def test_endless_61xx_is_an_error_not_a_hang() -> None:
    pairs = [("00B0000000", "6101")] + [("00C0000001", "006101")] * 64
    channel, _ = channel_for(*pairs)
    with pytest.raises(errors.MalformedResponseError):
        channel.send(Command.case2(0, 0xB0, 0, 0, 256))


def test_observers_see_every_exchange_and_secrets_are_masked() -> None:
    seen: list[Exchange] = []
    _, reader = channel_for(("0020008004XXXXXXXX", "9000"))
    channel = CardChannel(reader, (seen.append,))
    channel.exchange(Command.case3(0, 0x20, 0, 0x80, b"1234"))
    assert len(seen) == 1
    assert format_masked(seen[0].command) == "00 20 00 80 04 XX XX XX XX"
    assert b"1234" not in mask_command(seen[0].command)
    # CHANGE REFERENCE DATA is masked too; other commands are left alone
    assert format_masked(bytes.fromhex("002401800431323334")) == "00 24 01 80 04 XX XX XX XX"
    assert format_masked(bytes.fromhex("00A4020C020018")) == "00 A4 02 0C 02 00 18"
