"""The technician code's store (the staff passcode's, with a file and lockout of its own) and
the technician's sound settings file."""

import json
import stat
from pathlib import Path

import pytest

from myna_reader.daemon.engine import Credential, PasscodeChecked, PasscodeStatus, Sound
from myna_reader.daemon.store.passcode import (
    PASSCODE_FILE,
    TECHNICIAN_FILE,
    Clocks,
    PasscodeStore,
)
from myna_reader.daemon.store.sound import SOUND_FILE, SoundStore, SoundStoreError

TECH = Credential.TECHNICIAN


def _clocks() -> Clocks:
    return Clocks(wall=lambda: 1.8e9, boottime=lambda: 1000.0, boot_id=lambda: "boot-1")


def test_the_technician_code_has_its_own_file_and_lockout(tmp_path: Path) -> None:
    staff = PasscodeStore(tmp_path, clocks=_clocks())
    technician = PasscodeStore(tmp_path, clocks=_clocks(), credential=TECH)
    staff.set("2580")
    technician.set("3692")
    assert (tmp_path / TECHNICIAN_FILE).exists() and (tmp_path / PASSCODE_FILE).exists()
    assert stat.S_IMODE((tmp_path / TECHNICIAN_FILE).stat().st_mode) == 0o600
    assert not technician.check("2580").ok  # each code opens its own door only
    for _ in range(4):
        technician.check("0000")
    assert technician.check("0000").locked_for_s == 60.0  # the first lock: a minute
    assert not technician.check("3692").ok  # the right code, refused while locked
    assert staff.check("2580").ok and staff.status().locked_for_s == 0  # staff unaffected
    technician.set("3692")  # a new code lifts the lock
    assert technician.check("3692").ok


def test_answers_name_their_credential(tmp_path: Path) -> None:
    technician = PasscodeStore(tmp_path, clocks=_clocks(), credential=TECH)
    assert technician.status().as_event(TECH) == PasscodeStatus(False, credential=TECH)
    technician.set("3692")
    from myna_reader.daemon.engine import CheckPasscode, Secret
    assert technician.answer(CheckPasscode(Secret("3692"), TECH)) == PasscodeChecked(
        True, 5, credential=TECH)


def test_sound_settings_round_trip_and_default(tmp_path: Path) -> None:
    store = SoundStore(tmp_path, Sound(False, 60))
    assert store.load() == Sound(False, 60)  # nothing kept: the configured settings
    store.save(Sound(True, 30))
    assert SoundStore(tmp_path, Sound()).load() == Sound(True, 30)  # the next start
    assert stat.S_IMODE((tmp_path / SOUND_FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"voice": "no", "volume": 30}',
                                     b'{"voice": true, "volume": 101}',
                                     b'{"voice": true, "volume": true}'])
def test_a_bad_sound_file_is_a_typed_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / SOUND_FILE).write_bytes(content)
    with pytest.raises(SoundStoreError):
        SoundStore(tmp_path, Sound()).load()
    assert json.dumps({"voice": True}) not in str(tmp_path)
