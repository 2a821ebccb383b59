"""What a local attacker does to the reader's link: run as the second user, standard library
only (the attacker has no pairing secret and no access to the reader's files).

    rogue_link.py terminal HOST PORT STATE_DIR PID   -> one JSON object on stdout
    rogue_link.py starve HOST PORT SECONDS           -> one JSON object on stdout

`terminal` plays the rogue terminal: it connects, records everything the reader sends, and
sends what the real terminal would (ack of every result id it could learn, passcode.issue,
challenge, pair); it also tries to read the secret from the state dir and the reader's
/proc/PID/cmdline and environ. `starve` tries to hold every pairing slot: it keeps opening
connections and dribbles a newline into each every 50 ms, for SECONDS.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import sys
import time

LINES = [
    {"type": "pair", "id": "x1", "v": 1, "token": "guess-guess-guess-guess"},
    {"type": "ack", "id": "x2", "v": 1, "ref": "s-1"},
    {"type": "passcode.issue", "id": "x3", "v": 1, "passcode": "0000"},
    {"type": "challenge", "id": "x4", "v": 1,
     "challenge": base64.b64encode(b"attacker-chosen-bytes-to-sign-32").decode()},
    {"type": "auth", "id": "x5", "v": 1, "nonce": base64.b64encode(bytes(32)).decode(),
     "key": base64.b64encode(bytes(32)).decode(), "proof": base64.b64encode(bytes(32)).decode()},
]


def _receive_all(sock: socket.socket, limit_s: float) -> bytes:
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, OSError):
        pass
    return data


def terminal(host: str, port: int, state_dir: str, pid: int) -> dict[str, object]:
    seen: list[object] = []
    for line in LINES:  # one connection per attempt: each gets a fresh chance
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(json.dumps(line).encode() + b"\n")
            for raw in _receive_all(sock, 8.0).splitlines():
                try:
                    seen.append(json.loads(raw))
                except ValueError:
                    seen.append({"unparsed": len(raw)})
    tried: dict[str, str] = {}
    for path in (os.path.join(state_dir, "link.secret"), f"/proc/{pid}/environ",
                 f"/proc/{pid}/cmdline"):
        try:
            with open(path, "rb") as f:
                tried[path] = base64.b64encode(f.read()).decode()
        except OSError as exc:
            tried[path] = f"error {exc.errno}"
    return {"seen": seen, "files": tried}


def starve(host: str, port: int, seconds: float) -> dict[str, object]:
    end = time.monotonic() + seconds
    open_socks: list[tuple[socket.socket, float]] = []
    tried = refused = dropped = 0
    most_open = 0
    longest_held = 0.0
    while time.monotonic() < end:
        if len(open_socks) < 64:
            tried += 1
            try:
                sock = socket.create_connection((host, port), timeout=2)
                sock.setblocking(False)
                open_socks.append((sock, time.monotonic()))
            except OSError:
                refused += 1
        still: list[tuple[socket.socket, float]] = []
        for sock, since in open_socks:
            try:
                sock.send(b"\n")
                ready, _, _ = select.select([sock], [], [], 0)
                if ready and sock.recv(65536) == b"":
                    raise ConnectionError
                still.append((sock, since))
            except OSError:
                dropped += 1
                longest_held = max(longest_held, time.monotonic() - since)
                sock.close()
        open_socks = still
        most_open = max(most_open, len(open_socks))
        time.sleep(0.05)
    now = time.monotonic()
    held_now = [now - since for _, since in open_socks]
    for sock, _ in open_socks:
        sock.close()
    return {"tried": tried, "refused": refused, "dropped": dropped, "most_open": most_open,
            "longest_held_s": round(max([longest_held, *held_now]), 2),
            "open_at_end": len(held_now)}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "terminal":
        out = terminal(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        out = starve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    print(json.dumps(out))
