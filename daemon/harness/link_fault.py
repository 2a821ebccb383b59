"""A TCP relay between a terminal and the reader whose connections can be cut on demand: the
network fault of the soak (daemon/harness/soak.py) and of the host-link tests.

Both sides see the cut as a real one (a shutdown of both sockets, in the middle of whatever
flows); the terminal reconnects through the relay, which stays up until `close`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

POLL_S = 0.1  # how often the relay's threads look at their stop flag


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._stop = threading.Event()
        self.cuts = 0
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.listener], [], [], POLL_S)
                if not ready:
                    continue
                client, _ = self.listener.accept()
            except (OSError, ValueError):  # closed by close()
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), name="fault-proxy-pump",
                             daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            while True:
                ready, _, _ = select.select([a, b], [], [], POLL_S)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if src is a else a).sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        """Drop every relayed connection at once, in the middle of whatever flows."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
        self.cuts += 1

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self.listener.close()
