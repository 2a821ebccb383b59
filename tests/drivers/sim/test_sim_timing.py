"""The timing model's arithmetic against docs/card-protocol.md §11.2 (no clocks involved)."""

import pytest

from myna_reader.drivers.sim.timing import TimingModel

SIGN = bytes.fromhex("802A00803300") + bytes(51)


def test_one_etu_and_one_byte_at_106_kbps() -> None:
    assert TimingModel().byte_seconds == pytest.approx(10 * 128 / 13.56e6)


def test_full_frame_is_about_24_ms_at_106_and_halves_with_each_rate() -> None:
    full = [TimingModel(bitrate_kbps=r).airtime(253) for r in (106, 212, 424)]
    assert full[0] == pytest.approx(0.024, rel=0.05)
    assert full[1] < full[0] * 0.55
    assert full[2] < full[1] * 0.55


def test_chaining_adds_frames_and_acknowledgements() -> None:
    model = TimingModel()
    one_frame = model.airtime(253)
    two_frames = model.airtime(254)
    per_block = (model.block_overhead_bytes + model.sof_eof_bytes) * model.byte_seconds
    assert two_frames - one_frame == pytest.approx(
        model.byte_seconds + 2 * per_block + 2 * model.turnaround_s)


def test_signature_costs_the_rsa_time_only_when_it_succeeds() -> None:
    model = TimingModel()
    signed = model.seconds(SIGN, bytes(256) + b"\x90\x00")
    refused = model.seconds(SIGN, b"\x69\x82")
    assert signed - refused == pytest.approx(model.rsa_sign_s + model.airtime(258)
                                             - model.airtime(2))


def test_certificate_read_model_is_in_the_estimated_range() -> None:
    model = TimingModel()
    # 1580-byte certificate in 7 short reads of 256 (docs/card-protocol.md §11.2: about 0.19 s)
    chunks = [min(256, 1580 - offset) for offset in range(0, 1580, 256)]
    total = sum(model.seconds(b"\x00\xb0\x00\x00\x00", bytes(n) + b"\x90\x00") for n in chunks)
    assert 0.15 < total < 0.6
