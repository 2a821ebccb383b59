"""Update bundles: build (vendor side) and verify (reader side).

A bundle is an uncompressed tar (the wheels inside are compressed already) holding exactly:
  manifest.json   what the bundle is: version, the lowest version it may replace, whether it
                  is signed as a downgrade, build time, platform tags, signing key id, and the
                  sha256 and size of every other file
  manifest.sig    Ed25519 over the manifest's exact bytes
  wheels/*.whl    the project's wheel and the wheel of every dependency for the target
Verification reads the archive's structure first (size, truncation, names, types), then the
signature, then hashes each file while it is copied out, so no unsigned byte is ever used.
Every refusal is its own `BundleError` subclass whose message is one line for a technician.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.files import write_atomic

PROJECT = "myna-reader"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
WHEELS = "wheels"
FORMAT = 1
CHUNK = 1 << 20
TAR_BLOCK = 512
TAR_END = 2 * TAR_BLOCK  # two zero blocks close a tar archive
VERSION_RE = re.compile(r"\d+(\.\d+){0,3}")
WHEEL_RE = re.compile(  # PEP 427 file name: name-version(-build)?-python-abi-platform.whl
    r"(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-"
    r"(?P<plat>[^-]+)\.whl")

# (label, bytes done, bytes total): the CLI draws it; None draws nothing
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Limits:
    bundle_bytes: int = 512 << 20  # a reader's SD card, and the USB stick's copy time
    member_bytes: int = 256 << 20
    members: int = 400
    manifest_bytes: int = 256 << 10


DEFAULT_LIMITS = Limits()


# --- errors: one class per refusal, each message a single line -------------------------------


class BundleError(DaemonError):
    """A bundle that must not be installed; str() is the technician's one line."""


class BundleTooLargeError(BundleError):
    pass


class BundleTruncatedError(BundleError):
    pass


class UnsafePathError(BundleError):
    pass


class BundleLinkError(BundleError):
    pass


class BundleMemberTypeError(BundleError):
    pass


class DuplicateMemberError(BundleError):
    pass


class MissingManifestError(BundleError):
    pass


class ManifestFormatError(BundleError):
    pass


class UnknownKeyError(BundleError):
    pass


class BadSignatureError(BundleError):
    pass


class UnlistedFileError(BundleError):
    pass


class MissingFileError(BundleError):
    pass


class HashMismatchError(BundleError):
    pass


class BuildError(BundleError):
    """The vendor's input cannot make a bundle (no project wheel, bad key file ...)."""


# --- keys ------------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key(prefix: Path) -> tuple[Path, Path, str]:
    """PREFIX (the private key, PKCS#8 PEM, 0600) and PREFIX.pub; returns both and the key id."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pub_path = prefix.with_name(prefix.name + ".pub")
    if prefix.exists() or pub_path.exists():
        raise BuildError(f"{prefix} or {pub_path.name} exists already; choose another --out")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(prefix, pem, mode=0o600)
    write_atomic(pub_path, public_pem(private.public_key()), mode=0o644)
    return prefix, pub_path, key_id(private.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise BuildError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BuildError(f"{path} is not an Ed25519 private key (make one: update keygen)")
    return key


def load_trusted_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """Every readable Ed25519 key in DIRECTORY/*.pub, by key id (an unreadable file is skipped:
    `update status` lists the ids, so a technician sees which keys count)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("*.pub")):
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(key, Ed25519PublicKey):
            keys[key_id(key)] = key
    return keys


# --- versions and platforms ------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    """Release versions only ("1.2.3"): a reader never installs a dev or pre-release build."""
    if not VERSION_RE.fullmatch(text):
        raise ManifestFormatError(f"version {text!r} is not a release version like 1.2.3")
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True, slots=True)
class WheelName:
    name: str
    version: str
    python: tuple[str, ...]
    abi: str
    platforms: tuple[str, ...]

    def fits(self, machine: str, python: tuple[int, int]) -> bool:
        """True when pip on this interpreter and machine could install this wheel."""
        major, minor = python
        def python_fits(tag: str) -> bool:
            if tag in (f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"):
                return True
            # abi3 wheels built for an older CPython 3 run on newer ones
            return self.abi == "abi3" and tag.startswith(f"cp{major}") and \
                tag[2:].isdigit() and int(tag[3:] or 0) <= minor
        platform_ok = "any" in self.platforms or any(
            p == machine or p.endswith(f"_{machine}") for p in self.platforms)
        return platform_ok and any(python_fits(tag) for tag in self.python)


def parse_wheel_name(filename: str) -> WheelName:
    match = WHEEL_RE.fullmatch(filename)
    if not match:
        raise ManifestFormatError(f"{filename} is not a wheel file name")
    return WheelName(match["name"].lower().replace("_", "-"), match["version"],
                     tuple(match["py"].split(".")), match["abi"],
                     tuple(match["plat"].split(".")))


# --- the manifest ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    min_version: str
    downgrade: bool
    built: str
    key_id: str
    platforms: tuple[str, ...]
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    replaces: str | None = None  # a downgrade's: the one installed version it may replace

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "name": PROJECT, "version": self.version,
                "min_version": self.min_version, "downgrade": self.downgrade,
                "replaces": self.replaces,
                "built": self.built, "key_id": self.key_id, "platforms": list(self.platforms),
                "files": {name: {"sha256": e.sha256, "size": e.size}
                          for name, e in sorted(self.files.items())}}
        return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data["format"] != FORMAT or data["name"] != PROJECT:
                raise ManifestFormatError(f"not a {PROJECT} bundle of format {FORMAT}")
            files = {str(name): FileEntry(str(e["sha256"]), int(e["size"]))
                     for name, e in dict(data["files"]).items()}
            manifest = cls(str(data["version"]), str(data["min_version"]),
                           data["downgrade"] is True, str(data["built"]), str(data["key_id"]),
                           tuple(str(p) for p in data["platforms"]), files,
                           None if data.get("replaces") is None else str(data["replaces"]))
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError,
                RecursionError) as exc:
            raise ManifestFormatError(f"the manifest is malformed ({exc!r})") from None
        parse_version(manifest.version)
        parse_version(manifest.min_version)
        if manifest.downgrade:
            if manifest.replaces is None:  # else it could be replayed over any later release
                raise ManifestFormatError("a downgrade bundle must name the version it replaces")
            parse_version(manifest.replaces)
        return manifest

    def project_wheel(self) -> str:
        for name in self.files:
            wheel = parse_wheel_name(PurePosixPath(name).name)
            if wheel.name == PROJECT and wheel.version == self.version:
                return name
        raise ManifestFormatError(f"the bundle holds no {PROJECT} {self.version} wheel")


# --- build -----------------------------------------------------------------------------------


def _hash_file(path: Path, progress: Progress | None, done: int, total: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("hash", done, total)
    return digest.hexdigest()


def build_bundle(wheel_dir: Path, out: Path, key_path: Path, *, min_version: str | None = None,
                 downgrade_from: str | None = None, progress: Progress | None = None,
                 now: datetime | None = None) -> Manifest:
    """Sign WHEEL_DIR/*.whl (one must be the project's) into the bundle OUT; with
    `downgrade_from`, as a downgrade that replaces that one version only."""
    key = load_private_key(key_path)
    wheels = sorted(wheel_dir.glob("*.whl"))
    names = [parse_wheel_name(w.name) for w in wheels]
    own = [n for n in names if n.name == PROJECT]
    if len(own) != 1:
        raise BuildError(f"{wheel_dir} must hold exactly one {PROJECT} wheel "
                         f"(found {len(own)}); build it with: pip wheel . -w {wheel_dir}")
    version = own[0].version
    parse_version(version)
    floor = min_version or "0"
    parse_version(floor)
    total = sum(w.stat().st_size for w in wheels)
    files: dict[str, FileEntry] = {}
    done = 0
    for wheel in wheels:
        files[f"{WHEELS}/{wheel.name}"] = FileEntry(_hash_file(wheel, progress, done, total),
                                                    wheel.stat().st_size)
        done += wheel.stat().st_size
    platforms = sorted({p for n in names for p in n.platforms})
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    if downgrade_from is not None:
        parse_version(downgrade_from)
    manifest = Manifest(version, floor, downgrade_from is not None, stamp,
                        key_id(key.public_key()), tuple(platforms), files, downgrade_from)
    raw = manifest.to_bytes()
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, raw)
            _add_bytes(tar, SIGNATURE, key.sign(raw))
            done = 0
            for wheel in wheels:
                info = _member(f"{WHEELS}/{wheel.name}", wheel.stat().st_size)
                with wheel.open("rb") as f:
                    tar.addfile(info, f)
                done += info.size
                if progress:
                    progress("write", done, total)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    return info  # uid, gid, mtime 0: the archive says nothing about the build machine


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, len(data)), io.BytesIO(data))


# --- verify ----------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if name.startswith("/") or path.is_absolute():
        raise UnsafePathError(f"refused: the bundle holds an absolute path ({name})")
    if ".." in path.parts or "\\" in name:
        raise UnsafePathError(f"refused: a path escapes the bundle ({name})")


_EXTENDED_HEADERS = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                     tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


def _bounded_headers(limit: int) -> type[tarfile.TarInfo]:
    """A TarInfo whose extended headers (pax, GNU long names) are refused when they claim
    more than `limit` bytes: tarfile reads such a header whole into memory, before anything
    is verified, so an unsigned archive could otherwise make the reader allocate gigabytes."""

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in _EXTENDED_HEADERS and self.size > limit:
                raise BundleTooLargeError(f"refused: a tar header of {self.size} bytes, over "
                                          f"the limit of {limit}")
            return super()._proc_member(tarfile_)  # type: ignore[misc,no-any-return]

    return BoundedTarInfo


def _read_structure(tar: tarfile.TarFile, size: int, limits: Limits) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    end = 0
    while True:
        try:
            info = tar.next()
        except (tarfile.ReadError, EOFError) as exc:
            if tar.offset >= size:
                raise BundleTruncatedError(f"refused: the bundle is truncated ({size} bytes, "
                                           f"its members need over {tar.offset}); copy it "
                                           "again") from None
            raise BundleTruncatedError(f"refused: the bundle is corrupt at byte {tar.offset} "
                                       f"({exc}); copy it again") from None
        if info is None:
            break
        _check_name(info.name)
        if info.issym() or info.islnk():
            raise BundleLinkError(f"refused: the bundle holds a link ({info.name})")
        if not info.isfile():
            raise BundleMemberTypeError(f"refused: {info.name} is not a regular file")
        if info.name in members:
            raise DuplicateMemberError(f"refused: {info.name} appears twice in the bundle")
        if info.size > limits.member_bytes:
            raise BundleTooLargeError(f"refused: {info.name} is {info.size} bytes, over the "
                                      f"limit of {limits.member_bytes}")
        if len(members) >= limits.members:
            raise BundleTooLargeError(f"refused: more than {limits.members} files in the bundle")
        members[info.name] = info
        end = max(end, info.offset_data + -(-info.size // TAR_BLOCK) * TAR_BLOCK)
    if size < end + TAR_END:  # the data or the end-of-archive blocks were cut off
        raise BundleTruncatedError(f"refused: the bundle is truncated ({size} bytes, its "
                                   f"members need {end + TAR_END}); copy it again")
    return members


def _read_small(tar: tarfile.TarFile, members: Mapping[str, tarfile.TarInfo], name: str,
                limits: Limits) -> bytes:
    info = members.get(name)
    if info is None:
        raise MissingManifestError(f"refused: no {name} in the bundle (not an update bundle?)")
    if info.size > limits.manifest_bytes:
        raise BundleTooLargeError(f"refused: {name} is over {limits.manifest_bytes} bytes")
    handle = tar.extractfile(info)
    assert handle is not None  # a regular file, checked in _read_structure
    return handle.read()


def _verify_signature(raw: bytes, signature: bytes,
                      trusted: Mapping[str, Ed25519PublicKey]) -> Manifest:
    try:
        claimed = json.loads(raw)["key_id"]
    except (ValueError, KeyError, TypeError):
        raise ManifestFormatError("refused: the manifest is malformed (no key_id)") from None
    key = trusted.get(str(claimed))
    if key is None:
        raise UnknownKeyError(f"refused: signed with unknown key {claimed} (trusted: "
                              f"{', '.join(sorted(trusted)) or 'none installed'})")
    try:
        key.verify(signature, raw)
    except InvalidSignature:
        # an edited manifest and a signature by another key than the one named look the
        # same to Ed25519: both are "these bytes were not signed by that key"
        raise BadSignatureError(f"refused: the manifest was not signed by key {claimed} as it "
                                "claims (altered after signing, or signed with another key)"
                                ) from None
    return Manifest.from_bytes(raw)


def _copy_hashed(source: IO[bytes], name: str, entry: FileEntry, dest: Path | None,
                 progress: Progress | None, done: int, total: int) -> int:
    digest = hashlib.sha256()
    sink = dest.open("wb") if dest is not None else None
    try:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if sink:
                sink.write(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    finally:
        if sink:
            sink.close()
    if digest.hexdigest() != entry.sha256:
        if dest is not None:
            dest.unlink(missing_ok=True)
        raise HashMismatchError(f"refused: {name} differs from the signed manifest "
                                "(damaged or altered file)")
    return done


def open_bundle(path: Path, trusted: Mapping[str, Ed25519PublicKey], dest: Path | None = None,
                limits: Limits = DEFAULT_LIMITS, progress: Progress | None = None) -> Manifest:
    """Verify PATH against the trusted keys; with DEST, copy the wheels into DEST as well.

    On any refusal nothing verified is left in DEST (the caller owns DEST and discards it).
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleTruncatedError(f"cannot read {path}: {exc.strerror}") from None
    if size > limits.bundle_bytes:
        raise BundleTooLargeError(f"refused: the bundle is {size} bytes, over the limit of "
                                  f"{limits.bundle_bytes}")
    try:
        # uncompressed only: no decompression bomb; closed by the `with` below
        tar = tarfile.open(path, "r:",  # noqa: SIM115
                           tarinfo=_bounded_headers(limits.manifest_bytes))
    except (tarfile.ReadError, EOFError) as exc:
        raise BundleTruncatedError(f"refused: not a bundle, or truncated ({exc})") from None
    with tar:
        members = _read_structure(tar, size, limits)
        raw = _read_small(tar, members, MANIFEST, limits)
        signature = _read_small(tar, members, SIGNATURE, limits)
        manifest = _verify_signature(raw, signature, trusted)
        listed = set(manifest.files)
        present = set(members) - {MANIFEST, SIGNATURE}
        if extra := sorted(present - listed):
            raise UnlistedFileError(f"refused: {extra[0]} is in the bundle but not in its "
                                    "manifest")
        if missing := sorted(listed - present):
            raise MissingFileError(f"refused: {missing[0]} is in the manifest but not in the "
                                   "bundle")
        for name in manifest.files:
            if PurePosixPath(name).parent != PurePosixPath(WHEELS):
                raise UnsafePathError(f"refused: {name} is not under {WHEELS}/")
            parse_wheel_name(PurePosixPath(name).name)
        manifest.project_wheel()
        total = sum(e.size for e in manifest.files.values())
        done = 0
        for name, entry in sorted(manifest.files.items()):
            handle = tar.extractfile(members[name])
            assert handle is not None
            target = None if dest is None else dest / PurePosixPath(name).name
            try:
                done = _copy_hashed(handle, name, entry, target, progress, done, total)
            except (tarfile.ReadError, EOFError) as exc:
                raise BundleTruncatedError(f"refused: {name} is cut short ({exc})") from None
    return manifest
