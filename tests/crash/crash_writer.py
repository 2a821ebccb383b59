"""The child process the crash tests SIGKILL: it writes the passcode store or the outbox in a
loop and tells its parent on stdout, line by line, what it is about to do and when it is done.

    python crash_writer.py passcode STATE_DIR GENERATION SEED
    python crash_writer.py outbox STATE_DIR NEXT_ID SEED

Lines: `begin <op> <arg>` before an operation, `done` after it returned (flushed at once), so
the parent knows every acknowledged write and the one that may have been in flight.
"""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

from myna_reader.daemon.engine import CertificateLife, Method, ResultMessage, TokenKind
from myna_reader.daemon.store.outbox import OUTBOX_FILE, Outbox
from myna_reader.daemon.store.passcode import PasscodeStore, ScryptParams

#: The file's durability is under test, not the KDF: a cheap scrypt keeps the loop fast.
CHEAP_SCRYPT = ScryptParams(n=2**8)


def code_for(generation: int) -> str:
    return f"{(generation * 7919 + 1234) % 10_000:04d}"


def wrong_code_for(generation: int) -> str:
    code = code_for(generation)
    return f"{(int(code[0]) + 1) % 10}{code[1:]}"


def result_for(result_id: str) -> ResultMessage:
    return ResultMessage(id=result_id, method=Method.PIN, certificate=b"\x30\x03\x02\x01\x01",
                         certificate_fingerprint="0123456789abcdef", challenge=b"c" * 16,
                         signature=b"s" * 256, consents=(), started=1.8e9, finished=1.8e9 + 30,
                         token=TokenKind.PLASTIC_CARD, certificate_life=CertificateLife.VALID,
                         certificate_expiry=date(2031, 1, 1))


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def passcode_loop(state_dir: Path, generation: int, rng: random.Random) -> None:
    store = PasscodeStore(state_dir, scrypt=CHEAP_SCRYPT)
    while True:
        op = "set" if generation == 0 or rng.random() < 0.15 else rng.choice(
            ("wrong", "wrong", "right"))
        if op == "set":
            generation += 1
            _say(f"begin set {generation}")
            store.set(code_for(generation))
        else:
            _say(f"begin {op} {generation}")
            store.check(code_for(generation) if op == "right" else wrong_code_for(generation))
        _say("done")


def outbox_loop(state_dir: Path, next_id: int, rng: random.Random) -> None:
    outbox = Outbox(state_dir / OUTBOX_FILE)
    pending = [item.id for item in outbox.pending()]
    while True:
        if pending and rng.random() < 0.45:
            result_id = pending.pop(rng.randrange(len(pending)))
            _say(f"begin ack {result_id}")
            outbox.ack(result_id)
        else:
            result_id = f"r{next_id}"
            next_id += 1
            _say(f"begin put {result_id}")
            outbox.put(result_for(result_id))
            pending.append(result_id)
        _say("done")


def main(argv: list[str]) -> None:
    kind, state_dir, start, seed = argv
    loop = passcode_loop if kind == "passcode" else outbox_loop
    loop(Path(state_dir), int(start), random.Random(int(seed)))


if __name__ == "__main__":
    main(sys.argv[1:])
