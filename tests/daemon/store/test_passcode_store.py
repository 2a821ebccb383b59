"""The staff passcode store on a real file system, with injected clocks."""

from __future__ import annotations

import json
import os
import random
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    CALM_S,
    ConfigError,
    LockoutPolicy,
    PasscodeChecked,
    PasscodeStatus,
    Secret,
)
from myna_reader.daemon.store import files as atomic_file
from myna_reader.daemon.store.passcode import (
    LOCK_FILE,
    PASSCODE_FILE,
    Clocks,
    PasscodeFormatError,
    PasscodeStore,
    PasscodeStoreError,
    ScryptParams,
)

# A cheap scrypt for tests that run thousands of checks; the stored parameters travel with the
# hash, and one test below uses the production defaults.
FAST = ScryptParams(n=2**4, r=1, p=1)
CODE = "2580"
HALF_HOUR = 1800.0


@dataclass
class FakeClocks:
    wall: float = 1_760_000_000.0
    boottime: float = 1000.0
    boot: str = "boot-a"

    def clocks(self) -> Clocks:
        return Clocks(wall=lambda: self.wall, boottime=lambda: self.boottime,
                      boot_id=lambda: self.boot)

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.boottime += seconds

    def reboot(self, wall_shift: float = 0.0) -> None:
        self.boot = self.boot + "'"
        self.boottime = 5.0
        self.wall += wall_shift


@pytest.fixture
def clock() -> FakeClocks:
    return FakeClocks()


# the clock tests use one lock length throughout (the first lock as long as the longest);
# the growing locks of the default policy have tests of their own below
FLAT = LockoutPolicy(first_s=HALF_HOUR)


def store_at(path: Path, clock: FakeClocks, scrypt: ScryptParams = FAST,
             policy: LockoutPolicy = FLAT) -> PasscodeStore:
    return PasscodeStore(path, policy, scrypt=scrypt, clocks=clock.clocks())


def lock_out(store: PasscodeStore) -> None:
    for _ in range(5):
        store.check("0000")


def test_set_then_check(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    assert not store.status().provisioned
    store.set(CODE)
    assert store.check(CODE).ok
    assert store.check(Secret(CODE)).ok
    wrong = store.check("2581")
    assert not wrong.ok
    assert wrong.failures_left == 4


def test_only_a_salted_hash_is_stored(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    record = json.loads((tmp_path / PASSCODE_FILE).read_text())
    assert set(record) == {"v", "kdf", "n", "r", "p", "dklen", "salt", "hash", "issued_at",
                           "failures", "lock", "lockouts", "calm"}
    assert CODE not in {str(v) for v in record.values()}
    first_salt = record["salt"]
    store.set(CODE)  # same code again: a new salt, so a new hash
    again = json.loads((tmp_path / PASSCODE_FILE).read_text())
    assert again["salt"] != first_salt
    assert again["hash"] != record["hash"]


def test_files_are_private(tmp_path: Path, clock: FakeClocks) -> None:
    state_dir = tmp_path / "state"
    store = store_at(state_dir, clock)
    store.set(CODE)
    store.check("1111")
    assert stat.S_IMODE((state_dir / PASSCODE_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((state_dir / LOCK_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert [p.name for p in state_dir.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("bad", ["123", "12345", "abcd", "12 4", "１２３４", "", "-123"])
def test_only_four_ascii_digits(tmp_path: Path, clock: FakeClocks, bad: str) -> None:
    with pytest.raises(PasscodeFormatError) as info:
        store_at(tmp_path, clock).set(bad)
    assert bad not in str(info.value) or not bad


def test_five_wrong_entries_lock_for_thirty_minutes(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    lefts = [store.check("0000").failures_left for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    locked = store.check(CODE)  # even the right code while locked
    assert not locked.ok
    assert locked.locked_for_s == pytest.approx(HALF_HOUR)
    clock.advance(HALF_HOUR - 1)
    assert not store.check(CODE).ok
    clock.advance(1)
    assert store.check(CODE).ok
    assert store.status().failures == 0


def test_a_right_entry_resets_the_counter(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    for _ in range(4):
        store.check("0000")
    assert store.check(CODE).ok
    for _ in range(4):
        assert store.check("0000").locked_for_s == 0


def test_ten_thousand_random_guesses_are_cut_to_five_per_lock(
        tmp_path: Path, clock: FakeClocks) -> None:
    policy = LockoutPolicy()  # the growing locks: 1, 2, 4, 8, 16, then 30 minutes
    store = store_at(tmp_path, clock, policy=policy)
    secret = f"{random.SystemRandom().randrange(10_000):04d}"
    store.set(secret)
    rng = random.Random(1)
    interval = 10.0  # a guess every 10 s, as fast as a person at the pad
    evaluated = found = 0
    for _ in range(10_000):
        guess = f"{rng.randrange(10_000):04d}"
        locked_before = store.status().locked_for_s > 0
        result = store.check(guess)
        if not locked_before:
            evaluated += 1  # the store compared this guess with the hash
        if result.ok:
            found += 1
            store.set(secret)  # keep going: count how many could have got through
        clock.advance(interval)
    total = 10_000 * interval

    def windows(typing_s: float) -> int:
        """Unlocked windows in `total` seconds when each takes `typing_s` of guessing."""
        spent, level = 0.0, 0
        while spent <= total:
            level += 1
            spent += typing_s + policy.lock_s(level)
        return level

    print(f"\n10,000 guesses over {total / 3600:.1f} simulated hours: {evaluated} compared, "
          f"{10_000 - evaluated} refused unread by the lock, {found} right")
    assert evaluated <= 5 * windows(0.0)
    # the lock lifts again: staff are not shut out for good
    assert evaluated >= 5 * (windows(5 * interval) - 2)


def test_locks_grow_from_a_minute_and_a_reissue_starts_them_over(
        tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock, policy=LockoutPolicy())
    store.set(CODE)
    lengths = []
    for _ in range(7):
        lock_out(store)
        locked = store.status().locked_for_s
        lengths.append(locked)
        clock.advance(locked)
        assert store.check(CODE).ok  # the staff come in between: the count stays
    assert lengths == [60, 120, 240, 480, 960, 1800, 1800]
    assert store.status().lockouts == 7
    store.set("1357")  # the terminal re-issues: an administrator acted
    lock_out(store)
    assert store.status().locked_for_s == 60


def test_a_day_without_a_lock_starts_the_count_over(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock, policy=LockoutPolicy())
    store.set(CODE)
    for _ in range(3):
        lock_out(store)
        clock.advance(store.status().locked_for_s)
    assert store.status().lockouts == 3
    clock.advance(CALM_S - 1)
    lock_out(store)
    assert store.status().locked_for_s == 480  # within the day: the fourth lock
    clock.advance(480 + CALM_S)
    assert store.status().lockouts == 0
    lock_out(store)
    assert store.status().locked_for_s == 60


def test_the_default_policy_keeps_the_forty_day_bound() -> None:
    policy = LockoutPolicy()
    days = policy.search_s() / 86400
    assert 40 <= days < 42  # 1999 locks: 31 minutes for the first five, then 30 minutes each
    assert days == pytest.approx((60 + 120 + 240 + 480 + 960 + 1994 * 1800) / 86400)
    # waiting out the calm for short locks again is slower than the 30-minute locks
    five_short = sum(policy.lock_s(level) for level in range(1, 6))
    assert CALM_S + five_short > 5 * policy.duration_s
    with pytest.raises(ConfigError, match="40 days"):
        LockoutPolicy(duration_s=600.0)
    with pytest.raises(ConfigError, match="at most"):
        LockoutPolicy(first_s=3600.0)


@pytest.mark.parametrize(("failures", "duration_s", "first_s"),
                         [(5, 1800.0, 60.0), (1, 86400.0, 10.0), (20, 86400.0, 86400.0),
                          (3, 7200.0, 77.0)])
def test_the_search_bound_is_every_lock_summed(failures: int, duration_s: float,
                                               first_s: float) -> None:
    policy = LockoutPolicy(max_failures=failures, duration_s=duration_s, first_s=first_s)
    for codes in (1, failures, failures + 1, 10_000):
        locks = -(-codes // failures) - 1
        every = sum(policy.lock_s(level) for level in range(1, locks + 1))
        assert policy.search_s(codes) == pytest.approx(every, rel=1e-12)


def test_a_record_from_before_growing_locks_reads_as_none_so_far(
        tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock, policy=LockoutPolicy())
    store.set(CODE)
    record = json.loads((tmp_path / PASSCODE_FILE).read_text())
    del record["lockouts"], record["calm"]
    (tmp_path / PASSCODE_FILE).write_text(json.dumps(record))
    lock_out(store)
    assert store.status().locked_for_s == 60


def test_counter_and_lock_survive_a_restart(tmp_path: Path, clock: FakeClocks) -> None:
    store_at(tmp_path, clock).set(CODE)
    for _ in range(3):
        store_at(tmp_path, clock).check("0000")
    restarted = store_at(tmp_path, clock)  # a new process over the same state directory
    assert restarted.status().failures == 3
    restarted.check("0000")
    assert store_at(tmp_path, clock).check("0000").locked_for_s == pytest.approx(HALF_HOUR)
    clock.advance(600)
    status = store_at(tmp_path, clock).status()
    assert status.locked_for_s == pytest.approx(HALF_HOUR - 600)
    assert status.locked_until_wall == pytest.approx(clock.wall + HALF_HOUR - 600)


def test_wall_clock_jumps_within_a_boot_do_not_move_the_lock(
        tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    lock_out(store)
    clock.wall += 86_400  # NTP sync on a Pi without RTC: a day forward
    assert store.status().locked_for_s == pytest.approx(HALF_HOUR)
    clock.wall -= 2 * 86_400  # and back
    assert store.status().locked_for_s == pytest.approx(HALF_HOUR)
    clock.boottime += HALF_HOUR
    assert store.check(CODE).ok


def test_after_a_reboot_the_wall_clock_counts_clamped(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    lock_out(store)
    clock.advance(600)
    clock.reboot()
    assert store.status().locked_for_s == pytest.approx(HALF_HOUR - 600)  # nothing lost
    clock.reboot(wall_shift=-365 * 86_400)  # came up a year in the past
    assert store.status().locked_for_s == pytest.approx(HALF_HOUR)  # clamped, not a year
    clock.wall += 10 * 365 * 86_400  # re-anchored on this boot: later jumps do not matter
    assert store.status().locked_for_s == pytest.approx(HALF_HOUR)
    clock.reboot(wall_shift=HALF_HOUR)  # really powered off for half an hour
    assert store.check(CODE).ok


def test_reissue_takes_effect_at_once(tmp_path: Path, clock: FakeClocks) -> None:
    daemon_side = store_at(tmp_path, clock)
    daemon_side.set("1111")
    assert daemon_side.check("1111").ok
    store_at(tmp_path, clock).set("2222")  # `myna-reader passcode set` in another process
    assert not daemon_side.check("1111").ok
    assert daemon_side.check("2222").ok


def test_reissue_clears_a_lock(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    lock_out(store)
    store.set("9876")
    assert store.check("9876").ok


def test_clear(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    assert store.clear()
    assert not store.status().provisioned
    assert not store.check(CODE).ok
    assert not store.clear()


def test_status_never_shows_the_code(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set("7391")
    status = store.status()
    assert status.provisioned
    assert status.issued_at == clock.wall
    assert "7391" not in repr(status)


def test_a_crash_mid_write_leaves_the_old_file(tmp_path: Path, clock: FakeClocks,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_at(tmp_path, clock)
    store.set("1111")
    before = (tmp_path / PASSCODE_FILE).read_bytes()

    def power_cut(src: object, dst: object) -> None:  # fault injection: the rename never ran
        raise OSError("power cut")

    monkeypatch.setattr(f"{atomic_file.__name__}.os.replace", power_cut)
    with pytest.raises(PasscodeStoreError, match="power cut"):  # typed: issue 12
        store.set("2222")
    monkeypatch.undo()
    assert (tmp_path / PASSCODE_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert store.check("1111").ok


def test_a_damaged_file_is_a_typed_error(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    store.set(CODE)
    (tmp_path / PASSCODE_FILE).write_text('{"v": 1, "kdf": "scrypt"}')
    with pytest.raises(PasscodeStoreError):
        store.check(CODE)
    (tmp_path / PASSCODE_FILE).write_bytes(b"\x00garbage")
    with pytest.raises(PasscodeStoreError):
        store.status()


def test_production_scrypt_parameters(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock, ScryptParams())
    store.set(CODE)
    record = json.loads((tmp_path / PASSCODE_FILE).read_text())
    assert (record["n"], record["r"], record["p"]) == (2**14, 8, 1)
    assert store.check(CODE).ok
    assert not store.check("0000").ok


def test_real_clocks_work_here(tmp_path: Path) -> None:
    store = PasscodeStore(tmp_path, scrypt=FAST)  # CLOCK_BOOTTIME and the kernel's boot id
    store.set(CODE)
    lock_out(store)
    assert 0 < store.status().locked_for_s <= HALF_HOUR
    assert os.path.exists(tmp_path / PASSCODE_FILE)


def test_answers_become_engine_events(tmp_path: Path, clock: FakeClocks) -> None:
    store = store_at(tmp_path, clock)
    assert store.status().as_event() == PasscodeStatus(provisioned=False)
    store.set(CODE)
    assert store.check(CODE).as_event() == PasscodeChecked(True, 5)
    for _ in range(4):
        store.check("0000")
    until = clock.wall + HALF_HOUR
    assert store.check("0000").as_event() == PasscodeChecked(False, 0, HALF_HOUR, until)
    assert store.status().as_event() == PasscodeStatus(True, HALF_HOUR, until)
