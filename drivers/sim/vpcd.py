"""The card side of vsmartcard's vpcd protocol: a simulated card behind a real pcscd.

vpcd (a pcscd reader driver) listens on TCP; the card connects to it as a client. Connecting
means the card is inserted, closing means it is removed. Every message is a 2-byte big-endian
length and a payload: a 1-byte payload is a control code (0 power off, 1 power on, 2 reset,
4 send the ATR); a longer payload is a command APDU, answered with data + SW1 SW2.

Latency: vpcd writes the length and the APDU in two sends with Nagle on. Unless the card side
sets TCP_NODELAY and re-arms TCP_QUICKACK after every recv, each APDU waits for a delayed ACK
(~40 ms on Linux instead of ~0.1 ms).

`insert()` and `remove()` place and take out the card from code; from outside the process,
`myna-reader sim serve --vpcd PORT` maps SIGUSR1/SIGUSR2 onto them (daemon/cli/sim.py). A
card keeps its state (PIN counters) across a removal, as a real one does; removal powers it
off, which clears every verified state.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from myna_reader.drivers.sim.card import CardModel, answer_apdu

log = logging.getLogger(__name__)

VPCD_DEFAULT_PORT = 35963  # vsmartcard-vpcd's stock /etc/reader.conf.d/vpcd (CHANNELID 0x8C7B)
CTRL_POWER_OFF = 0
CTRL_POWER_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4
_LENGTH = struct.Struct(">H")
_RECONNECT_INTERVAL_S = 0.2
_CONNECT_TIMEOUT_S = 2.0


class VpcdBridge:
    """Connects `card` to a vpcd reader at host:port, in a background thread.

    `insert()` connects (retrying until vpcd listens, so it may run before pcscd starts);
    `remove()` closes the connection; both are idempotent. If vpcd drops the connection
    while the card is inserted (pcscd restarted), the bridge reconnects. `tcp_tuning=False`
    leaves Nagle and delayed ACKs on: only for measuring the latency trap.
    """

    def __init__(
        self,
        card: CardModel,
        host: str = "127.0.0.1",
        port: int = VPCD_DEFAULT_PORT,
        *,
        tcp_tuning: bool = True,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.tcp_tuning = tcp_tuning
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()

    @property
    def inserted(self) -> bool:
        return self._thread is not None

    def wait_connected(self, timeout: float) -> bool:
        """Whether the TCP link to vpcd is up (vpcd accepts the card on its next poll)."""
        return self._connected.wait(timeout)

    def insert(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"vpcd-card:{self.port}", daemon=True
            )
            self._thread.start()

    def remove(self) -> None:
        """Take the card out. Safe from any thread, including the card's own `process`."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            self._drop_socket()
        if thread is not threading.current_thread():
            thread.join(timeout=5)

    def close(self) -> None:
        self.remove()

    def __enter__(self) -> VpcdBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the connection thread -------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._connect()
            if sock is None:
                self._stop.wait(_RECONNECT_INTERVAL_S)
                continue
            self._connected.set()
            try:
                self._serve(sock)
            except OSError as exc:
                if not self._stop.is_set():
                    log.info("vpcd link on port %d lost: %s", self.port, exc)
            finally:
                self._connected.clear()
                # Leaving the reader cuts the card's power: verified states end here.
                self.card.power_off()
                with self._lock:
                    if self._sock is sock:
                        self._drop_socket()
            self._stop.wait(_RECONNECT_INTERVAL_S)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=_CONNECT_TIMEOUT_S)
        except OSError:
            return None
        sock.settimeout(None)
        if self.tcp_tuning:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._stop.is_set():
                sock.close()
                return None
            self._sock = sock
        return sock

    def _drop_socket(self) -> None:
        if self._sock is None:
            return
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._sock = None

    def _serve(self, sock: socket.socket) -> None:
        while True:
            (length,) = _LENGTH.unpack(self._recv_exact(sock, _LENGTH.size))
            payload = self._recv_exact(sock, length)
            answer = self._handle(payload)
            if answer is not None:
                sock.sendall(_LENGTH.pack(len(answer)) + answer)

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) != 1:
            return answer_apdu(self.card, payload)  # a crash of the card must not pull it out
        code = payload[0]
        if code == CTRL_POWER_OFF:
            self.card.power_off()
        elif code == CTRL_POWER_ON:
            self.card.power_on()
        elif code == CTRL_RESET:
            self.card.power_off()
            self.card.power_on()
        elif code == CTRL_ATR:
            return self.card.atr
        else:
            log.warning("vpcd sent unknown control code %d", code)
        return None

    def _recv_exact(self, sock: socket.socket, size: int) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            chunk = sock.recv(size - len(buf))
            if not chunk:
                raise ConnectionResetError("vpcd closed the connection")
            buf += chunk
            # Linux clears QUICKACK after use: re-arm it so our ACK is never delayed.
            if self.tcp_tuning and hasattr(socket, "TCP_QUICKACK"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return bytes(buf)

