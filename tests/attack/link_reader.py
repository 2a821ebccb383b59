"""The reader's end of the link as a real process for the attack tests (run as root, like
the service's own user would run it): the real HostLink on 127.0.0.1 with the secret the reader
makes in its state dir, a real outbox holding two results, the real passcode store behind
passcode.issue, and every event the link posts written to STATE/events.jsonl.

    link_reader.py STATE_DIR   -> prints {"port": P} when listening; on SIGTERM prints its
                                  figures: {"most_unpaired": N, "refused": N}
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from myna_reader.daemon.engine import Event
from myna_reader.daemon.link.channel import state_dir_secret
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.daemon.store.passcode import PasscodeStore
from tests.daemon.link.support import HELLO, make_result, make_signer


def main(state: Path) -> None:
    state.mkdir(mode=0o700, exist_ok=True)
    outbox = Outbox.in_state_dir(state)
    signer = make_signer()
    for result_id in ("s-1", "s-2"):
        outbox.put(make_result(result_id, signer))
    events = (state / "events.jsonl").open("a", encoding="utf-8")

    def on_event(event: Event) -> None:
        events.write(json.dumps({"event": type(event).__name__}) + "\n")
        events.flush()

    link = HostLink("tcp://127.0.0.1:0", outbox, on_event, HELLO,
                    secret=state_dir_secret(state), issue_passcode=PasscodeStore(state).set)
    link.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    assert link.address is not None
    print(json.dumps({"port": link.address[1]}), flush=True)
    most = 0
    while not stop.wait(0.01):
        most = max(most, link.unpaired)
    link.stop()
    print(json.dumps({"most_unpaired": most, "refused": link.refused_connections}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
