"""The real App in its own process, driven over stdin/stdout by tests/ui/test_x11.py.

stdin:  `show <screen-id>` (a GALLERY view) | `quit`
stdout: `FRAME <json elements, panel coordinates>` after every draw that changed them,
        `INTENT <json>` for every engine intent the App hands to its queue.
Runs under whatever DISPLAY the test gives it (a real Xvfb); size and rotation from argv.
"""

import json
import os
import queue
import sys
import threading

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from myna_reader.daemon.engine import DigitPressed, Pressed, Screen
from myna_reader.ui.app import App
from myna_reader.ui.intents import EngineIntent
from myna_reader.ui.layout import parse_size
from myna_reader.ui.samples import GALLERY
from myna_reader.ui.settings import UiSettings


def main() -> None:
    size, rotation = parse_size(sys.argv[1]), int(sys.argv[2])
    # the engine's intent queue, as the runner has it
    intents: queue.Queue[EngineIntent] = queue.Queue()
    app = App(UiSettings(size=size, rotation=rotation, voice=False), intents.put)

    def commands() -> None:
        for line in sys.stdin:
            word, _, arg = line.strip().partition(" ")
            if word == "show":
                app.post_view(GALLERY[Screen(arg)])
            elif word == "quit":
                break
        app.stop()

    threading.Thread(target=commands, daemon=True).start()
    shown = None
    while app.step():
        while not intents.empty():
            intent = intents.get()
            if isinstance(intent, Pressed):
                data: dict[str, object] = {"button": intent.button.value}
            else:
                assert isinstance(intent, DigitPressed)
                data = {"digit": intent.digit}
            print("INTENT", json.dumps(data), flush=True)
        if app.frame is not None:
            elements = [e.as_json() | {"rect": list(app.layout.to_panel(e.rect))}
                        for e in app.frame.elements]
            if elements != shown:
                shown = elements
                print("FRAME", json.dumps(elements, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
