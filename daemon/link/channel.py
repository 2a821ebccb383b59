"""The TCP link's authenticated, encrypted channel over the pairing secret (docs/security.md).

Every TCP connection starts with a handshake; only after it does the v1 session begin:

  reader   -> terminal  auth.hello  {nonce, key}          fresh 32-byte nonce, X25519 public key
  terminal -> reader    auth        {nonce, key, proof}   proof = HMAC(secret, "terminal" | T)
  reader   -> terminal  auth.ok     {proof}               proof = HMAC(secret, "reader" | T)

T is the transcript: both nonces and both public keys. The secret itself never crosses the
wire; a proof is good for one transcript only (the other side's fresh nonce is in it), so a
recorded handshake cannot be replayed, and each side proves that it holds the secret before the
other sends anything that matters (the terminal checks the reader's proof before it sends a
passcode). Then every line in both directions is sealed with ChaCha20-Poly1305 under keys
derived (HKDF-SHA256) from the secret and the X25519 shared secret: a line that was changed,
replayed, dropped or reordered fails to open and ends the connection. The X25519 part gives
forward secrecy: a secret stolen later does not open recorded sessions.

Why not TLS: the standard library's ssl gains TLS-PSK only in Python 3.13 (the reader runs
Debian 12's 3.11), and TLS with certificates would need a PKI on the terminal's side. The
primitives here come from the `cryptography` package (PyCA), which the updater uses already.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.link.protocol import (
    MAX_LINE_BYTES,
    Fault,
    HostProtocolError,
    LineSplitter,
    decode_frame,
    encode,
    outgoing,
)
from myna_reader.daemon.link.transport import ByteStream

SECRET_ENV = "MYNA_LINK_SECRET"  # noqa: S105  (the variable's name, not a secret)
MIN_SECRET_CHARS = 16
STATE_SECRET_FILE = "link.secret"  # noqa: S105  (a file name)
NONCE_BYTES = 32
KEY_BYTES = 32
HANDSHAKE_LINE_MAX = 1024  # a handshake line is ~200 bytes: anything longer is not one
LABEL = b"myna-reader host link v1"
_TAG_BYTES = 16
# a sealed line is base64 of (line + tag): its longest form on the wire
SEALED_LINE_MAX = 4 * -(-(MAX_LINE_BYTES + _TAG_BYTES) // 3)
_TOO_LONG_LINE = b"\0" * (MAX_LINE_BYTES + 1) + b"\n"  # what the line splitter refuses

Clock = Callable[[], float]


class LinkSecretError(DaemonError, ValueError):
    """A pairing secret that cannot be used (too short, unreadable, readable by everyone)."""


@dataclass(frozen=True, slots=True)
class LinkSecret:
    """The shared pairing secret; never shown (repr hides it)."""

    value: bytes = field(repr=False)

    @classmethod
    def from_text(cls, text: str, source: str) -> LinkSecret:
        text = text.strip()
        if len(text) < MIN_SECRET_CHARS or not text.isprintable():
            raise LinkSecretError(f"{source}: the pairing secret must have at least "
                                  f"{MIN_SECRET_CHARS} printable characters (make one with "
                                  "`openssl rand -hex 32`)")
        return cls(text.encode("utf-8"))

    @classmethod
    def generate(cls) -> LinkSecret:
        return cls(secrets.token_hex(32).encode("ascii"))

    def text(self) -> str:
        """The secret as it is written in a file or config (for `run --simulate`'s terminal)."""
        return self.value.decode("utf-8")


def read_secret_file(path: Path) -> LinkSecret:
    """The secret in `path`: a regular file (no symlink) that other users cannot read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY)
    except OSError as exc:
        raise LinkSecretError(f"{path}: cannot read the pairing secret ({exc.strerror})"
                              ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LinkSecretError(f"{path}: the pairing secret must be a regular file")
        if info.st_mode & stat.S_IROTH:
            raise LinkSecretError(f"{path}: every user can read this pairing secret; "
                                  f"chmod 0640 {path}")
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LinkSecretError(f"{path}: the pairing secret must be UTF-8 text") from None
    return LinkSecret.from_text(text, str(path))


def state_dir_secret(state_dir: Path) -> LinkSecret:
    """The secret a reader with none configured makes for itself, once: STATE_DIR/link.secret,
    0600, readable by the service's user and root only (a terminal on the same machine reads
    it with --link-secret-file). Never used for a listener beyond loopback."""
    path = state_dir / STATE_SECRET_FILE
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return read_secret_file(path)
    except OSError as exc:
        raise LinkSecretError(f"{path}: cannot make a pairing secret ({exc.strerror})") from None
    secret = LinkSecret.generate()
    try:
        os.write(fd, secret.value + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return secret


def secret_from_environment(environ: dict[str, str] | None = None) -> LinkSecret | None:
    env = os.environ if environ is None else environ
    text = env.get(SECRET_ENV)
    return None if text is None else LinkSecret.from_text(text, SECRET_ENV)


# --- the handshake ----------------------------------------------------------------------------


class AuthError(DaemonError):
    """The handshake failed: `fault` says how (for the reader's error reply and its log)."""

    def __init__(self, fault: Fault, detail: str) -> None:
        super().__init__(f"{fault.value}: {detail}")
        self.fault = fault
        self.detail = detail


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(obj: dict[str, object], name: str, size: int) -> bytes:
    value = obj.get(name)
    try:
        raw = base64.b64decode(value if isinstance(value, str) else "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise AuthError(Fault.BAD_FIELD, f"{name}: {size} bytes, base64")
    return raw


def _proof(secret: LinkSecret, role: bytes, transcript: bytes) -> bytes:
    return hmac.new(secret.value, LABEL + b" " + role + b"\0" + transcript,
                    hashlib.sha256).digest()


@dataclass(slots=True)
class _Ephemeral:
    nonce: bytes = field(default_factory=lambda: secrets.token_bytes(NONCE_BYTES))
    private: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes_raw()


def _keys(secret: LinkSecret, mine: _Ephemeral, their_key: bytes,
          transcript: bytes) -> tuple[bytes, bytes]:
    """(reader-to-terminal key, terminal-to-reader key)."""
    try:
        shared = mine.private.exchange(X25519PublicKey.from_public_bytes(their_key))
    except ValueError:  # a low-order point: no shared secret
        raise AuthError(Fault.PAIRING_FAILED, "unusable key") from None
    material = HKDF(hashes.SHA256(), 2 * KEY_BYTES, salt=hashlib.sha256(transcript).digest(),
                    info=LABEL + b" keys").derive(secret.value + shared)
    return material[:KEY_BYTES], material[KEY_BYTES:]


class _Lines:
    """Handshake lines from a raw stream, within a deadline that data cannot extend. What
    follows the last line taken stays in `rest` (sealed lines may share its packet)."""

    def __init__(self, stream: ByteStream, deadline: float, clock: Clock) -> None:
        self.stream = stream
        self.deadline = deadline
        self.clock = clock
        self.rest = b""

    def next(self) -> dict[str, object]:
        while (end := self.rest.find(b"\n")) < 0:
            if len(self.rest) > HANDSHAKE_LINE_MAX:
                raise AuthError(Fault.LINE_TOO_LONG, "not a handshake line")
            if self.clock() >= self.deadline:
                raise AuthError(Fault.PAIRING_FAILED, "no handshake in time")
            data = self.stream.read()
            if data == b"":
                raise AuthError(Fault.PAIRING_FAILED, "the peer closed the connection")
            self.rest += data or b""
        line, self.rest = self.rest[:end].removesuffix(b"\r"), self.rest[end + 1:]
        if len(line) > HANDSHAKE_LINE_MAX:
            raise AuthError(Fault.LINE_TOO_LONG, "not a handshake line")
        try:
            return decode_frame(line)
        except HostProtocolError as exc:
            raise AuthError(exc.fault, exc.detail) from None


def _expect(obj: dict[str, object], kind: str) -> None:
    if obj.get("type") != kind:
        raise AuthError(Fault.NOT_PAIRED, f"the handshake needs {kind} here")


def reader_handshake(stream: ByteStream, secret: LinkSecret, deadline: float,
                     clock: Clock) -> SealedStream:
    """The reader's side: challenge the terminal, check its proof, prove itself."""
    mine = _Ephemeral()
    stream.write(encode(outgoing({"type": "auth.hello", "nonce": _b64(mine.nonce),
                                  "key": _b64(mine.public)}, "r-auth-1")))
    lines = _Lines(stream, deadline, clock)
    answer = lines.next()
    _expect(answer, "auth")
    their_nonce = _unb64(answer, "nonce", NONCE_BYTES)
    their_key = _unb64(answer, "key", KEY_BYTES)
    proof = _unb64(answer, "proof", hashlib.sha256().digest_size)
    transcript = mine.nonce + mine.public + their_nonce + their_key
    if not hmac.compare_digest(proof, _proof(secret, b"terminal", transcript)):
        raise AuthError(Fault.PAIRING_FAILED, "wrong pairing secret")
    if lines.rest:  # nothing may follow the proof before the reader's answer
        raise AuthError(Fault.PAIRING_FAILED, "data before auth.ok")
    to_terminal, to_reader = _keys(secret, mine, their_key, transcript)
    stream.write(encode(outgoing({"type": "auth.ok",
                                  "proof": _b64(_proof(secret, b"reader", transcript))},
                                 "r-auth-2")))
    return SealedStream(stream, send_key=to_terminal, receive_key=to_reader)


def terminal_handshake(stream: ByteStream, secret: LinkSecret, deadline: float,
                       clock: Clock) -> SealedStream:
    """The terminal's side: answer the reader's challenge, then check the reader's proof."""
    lines = _Lines(stream, deadline, clock)
    hello = lines.next()
    _expect(hello, "auth.hello")
    their_nonce = _unb64(hello, "nonce", NONCE_BYTES)
    their_key = _unb64(hello, "key", KEY_BYTES)
    mine = _Ephemeral()
    transcript = their_nonce + their_key + mine.nonce + mine.public
    stream.write(encode(outgoing({"type": "auth", "nonce": _b64(mine.nonce),
                                  "key": _b64(mine.public),
                                  "proof": _b64(_proof(secret, b"terminal", transcript))},
                                 "t-auth-1")))
    answer = lines.next()
    if answer.get("type") == "error":
        raise AuthError(Fault.PAIRING_FAILED, "the reader refused the pairing secret")
    _expect(answer, "auth.ok")
    proof = _unb64(answer, "proof", hashlib.sha256().digest_size)
    if not hmac.compare_digest(proof, _proof(secret, b"reader", transcript)):
        raise AuthError(Fault.PAIRING_FAILED, "the reader does not hold the pairing secret")
    to_terminal, to_reader = _keys(secret, mine, their_key, transcript)
    return SealedStream(stream, send_key=to_reader, receive_key=to_terminal,
                        already_read=lines.rest)


# --- the sealed stream ------------------------------------------------------------------------


class SealedStream:
    """A ByteStream whose lines are sealed on the wire: `write` takes plain v1 lines, `read`
    returns the opened ones. Nonces are per-direction counters, so the order is part of the
    seal. A line that does not open raises OSError: the connection is over."""

    def __init__(self, raw: ByteStream, *, send_key: bytes, receive_key: bytes,
                 already_read: bytes = b"") -> None:
        self.raw = raw
        self.name = raw.name
        self._send = ChaCha20Poly1305(send_key)
        self._receive = ChaCha20Poly1305(receive_key)
        self._sent = 0
        self._received = 0
        self._splitter = LineSplitter(SEALED_LINE_MAX)
        self._already_read = already_read  # sealed bytes that came with the handshake

    @staticmethod
    def _nonce(counter: int) -> bytes:
        return counter.to_bytes(12, "big")

    def write(self, data: bytes) -> None:
        out = bytearray()
        for line in data.split(b"\n")[:-1]:  # encode() ends every line in one "\n"
            sealed = self._send.encrypt(self._nonce(self._sent), line, None)
            self._sent += 1
            out += base64.b64encode(sealed) + b"\n"
        self.raw.write(bytes(out))

    def read(self) -> bytes | None:
        data, self._already_read = self._already_read or self.raw.read(), b""
        if not data:
            return data
        opened = bytearray()
        for item in self._splitter.feed(data):
            if isinstance(item, HostProtocolError):
                # skipped whole, as a plain line would be; it counts as the peer's next line,
                # and the layer above answers it with line-too-long
                self._received += 1
                opened += _TOO_LONG_LINE
                continue
            try:
                line = self._receive.decrypt(self._nonce(self._received),
                                             base64.b64decode(item, validate=True), None)
            except (InvalidTag, binascii.Error, ValueError):
                raise OSError("a line failed its seal (altered, replayed or out of order)"
                              ) from None
            self._received += 1
            opened += line + b"\n"
        return bytes(opened) if opened else None

    def close(self) -> None:
        self.raw.close()
