"""Where the host link runs: `--link` URLs and the byte streams under the JSON lines.

URL forms (docs/host-protocol.md):
  tcp://127.0.0.1:4730                the reader listens on loopback (the default)
  tcp://0.0.0.0:4730                  any other address needs the pairing secret configured
  serial:///dev/ttyGS0?baudrate=115200 a serial device (USB CDC-ACM gadget, USB adapter)
  /dev/ttyUSB0                        the same, with the default baudrate
  loop://  socket://HOST:PORT  rfc2217://...  pyserial URLs, passed through unchanged
The same URL names the far end for the terminal console (`myna-reader host`): there a tcp://
URL is the reader's listener to connect to. The pairing secret never goes in a URL
(`refuse_url_secret`): it comes from a file, the environment or config.toml.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import select
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import parse_qs, urlsplit

import serial

from myna_reader.daemon.errors import DaemonError

DEFAULT_TCP_PORT = 4730
DEFAULT_BAUDRATE = 115200
MIN_TOKEN_CHARS = 16
POLL_S = 0.2  # how long a read waits, so that stop requests are seen promptly
WRITE_TIMEOUT_S = 10.0  # a peer that stops reading for this long is dropped
PYSERIAL_SCHEMES = frozenset({"loop", "socket", "rfc2217", "spy", "alt", "hwgrep"})
_URL_TOKEN = re.compile(r"([?&]token=)[^&]*")


class LinkUrlError(DaemonError, ValueError):
    """A `--link` URL that cannot be used, with the fix in the message."""


@dataclass(frozen=True, slots=True)
class TcpEndpoint:
    host: str
    port: int
    token: str | None = field(default=None, repr=False)

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return False


@dataclass(frozen=True, slots=True)
class SerialEndpoint:
    url: str  # a device path or a pyserial URL
    baudrate: int = DEFAULT_BAUDRATE


LinkEndpoint = TcpEndpoint | SerialEndpoint


def redact_url(url: str) -> str:
    """`url` with its pairing token hidden: how a URL appears in messages and logs."""
    return _URL_TOKEN.sub(r"\1<hidden>", url)


def parse_link_url(url: str) -> LinkEndpoint:
    """Raises LinkUrlError, whose message never holds the token."""
    if url.startswith("/"):
        return SerialEndpoint(url)
    parts = urlsplit(url)
    if parts.scheme in PYSERIAL_SCHEMES:
        return SerialEndpoint(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    shown = redact_url(url)
    if parts.scheme == "tcp":
        try:
            port = parts.port if parts.port is not None else DEFAULT_TCP_PORT
        except ValueError:
            raise LinkUrlError(f"{shown}: the port must be 0..65535") from None
        if not parts.hostname:
            raise LinkUrlError(f"{shown}: name the address, e.g. tcp://127.0.0.1:{port}")
        tokens = query.get("token")
        token = tokens[-1] if tokens else None
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise LinkUrlError(f"tcp://{parts.netloc}: the pairing token must have at least "
                               f"{MIN_TOKEN_CHARS} characters")
        return TcpEndpoint(parts.hostname, port, token)
    if parts.scheme == "serial":
        if not parts.path:
            raise LinkUrlError(f"{shown}: name the device, e.g. serial:///dev/ttyGS0")
        rates = query.get("baudrate", [str(DEFAULT_BAUDRATE)])
        if not rates[-1].isdigit() or int(rates[-1]) <= 0:
            raise LinkUrlError(f"{shown}: baudrate must be a positive integer")
        return SerialEndpoint(parts.path, int(rates[-1]))
    raise LinkUrlError(f"{shown}: use tcp://HOST:PORT, serial:///dev/DEVICE?baudrate=N, "
                       "a device path, or a pyserial URL (loop://, socket://...)")


def refuse_url_secret(url: str, where: str) -> None:
    """A pairing secret in a command line's URL shows in `ps` and /proc: refuse it there."""
    if "token" in parse_qs(urlsplit(url).query, keep_blank_values=True):
        raise LinkUrlError(f"{where}: {redact_url(url)}: the pairing secret does not go in the "
                           "URL, where `ps` shows it; put it in a file (--link-secret-file, "
                           "mode 0640) or in MYNA_LINK_SECRET")


def require_token_for(endpoint: TcpEndpoint) -> None:
    """A listener beyond loopback without a token would let anyone on the network issue
    staff passcodes: refuse it."""
    if not endpoint.loopback and endpoint.token is None:
        raise LinkUrlError(
            f"tcp://{endpoint.host}:{endpoint.port} listens beyond this machine: give it a "
            f"pairing secret of at least {MIN_TOKEN_CHARS} characters (`openssl rand -hex 32`) "
            "in a file (--link-secret-file FILE, mode 0640) or in MYNA_LINK_SECRET, never in "
            "the URL, and the terminal the same (or listen on 127.0.0.1)")


class ByteStream(Protocol):
    """What the link needs of a transport. `read` returns None when nothing came within
    POLL_S and b"" when the peer is gone; `write` raises OSError when it cannot deliver."""

    name: str

    def read(self) -> bytes | None: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SocketStream:
    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name
        sock.settimeout(WRITE_TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # find half-open peers

    def read(self) -> bytes | None:
        ready, _, _ = select.select([self.sock], [], [], POLL_S)
        if not ready:
            return None
        return self.sock.recv(65536)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already disconnected
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class _Port(Protocol):
    """What every pyserial port class has (the stubs only type SerialBase, without it)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class SerialStream:
    def __init__(self, port: _Port, name: str) -> None:
        self.port = port
        self.name = name

    def read(self) -> bytes | None:
        try:
            data = self.port.read(max(1, self.port.in_waiting))
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc
        except (TypeError, AttributeError) as exc:  # pyserial, closed by another thread
            raise OSError("the port was closed") from exc
        return data or None  # a serial line has no end: silence is not EOF

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialException as exc:  # includes SerialTimeoutException
            raise OSError(str(exc)) from exc
        except (TypeError, AttributeError) as exc:
            raise OSError("the port was closed") from exc

    def close(self) -> None:
        self.port.close()


def open_serial(endpoint: SerialEndpoint) -> SerialStream:
    """Open the device or pyserial URL; OSError (with the device named) when it cannot."""
    try:
        port = serial.serial_for_url(endpoint.url, baudrate=endpoint.baudrate, timeout=POLL_S,
                                     write_timeout=WRITE_TIMEOUT_S)
    except (serial.SerialException, ValueError) as exc:
        raise OSError(f"cannot open {endpoint.url}: {exc}") from exc
    return SerialStream(cast(_Port, port), endpoint.url)


def _proc_net_address(host: str, port: int) -> str:
    """An address as /proc/net/tcp{,6} writes it: 32-bit words in host order, then the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    packed = socket.inet_pton(family, host)
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    return "".join(f"{w:08X}" for w in words) + f":{port:04X}"


def loopback_peer_uid(local: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """Who owns the other end of a loopback TCP connection: the uid the kernel lists for the
    peer's socket in /proc/net/tcp (world-readable), or None when it cannot be found. It lets
    per-peer limits tell local users apart, who all connect from 127.0.0.1."""
    want = (_proc_net_address(*peer[:2]), _proc_net_address(*local[:2]))
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cells = row.split()
            if len(cells) > 7 and (cells[1], cells[2]) == want and cells[7].isdigit():
                return int(cells[7])
    return None


def connect_tcp(endpoint: TcpEndpoint, timeout: float = 5.0) -> SocketStream:
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    return SocketStream(sock, f"{endpoint.host}:{endpoint.port}")
