"""Every tampering is refused with its own error and message; the running release is untouched.

The tampered bundles are made from a good one the way an attacker or a bad USB copy would:
bytes flipped in place, the manifest edited, members added or re-signed with another key.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from myna_reader.daemon.update import bundle as ub
from myna_reader.daemon.update import install as update_install
from myna_reader.daemon.update.install import Layout, install
from tests.daemon.update.conftest import Keys, UpdateCli

Tamper = Callable[[Path, Path, Keys], None]  # (good bundle, out, keys)


def members(bundle: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(bundle) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def repack(out: Path, parts: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(out, "w") as tar:
        for info, data in parts:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def manifest_of(bundle: Path) -> bytes:
    return dict((m.name, d) for m, d in members(bundle))[ub.MANIFEST]


def with_manifest(bundle: Path, out: Path, raw: bytes, signature: bytes) -> None:
    replaced = {ub.MANIFEST: raw, ub.SIGNATURE: signature}
    repack(out, [(m, replaced.get(m.name, d)) for m, d in members(bundle)])


def flip_wheel_byte(good: Path, out: Path, keys: Keys) -> None:
    data = bytearray(good.read_bytes())
    with tarfile.open(good) as tar:
        wheel = next(m for m in tar.getmembers() if m.name.startswith("wheels/myna_reader"))
    data[wheel.offset_data + wheel.size // 2] ^= 0x01
    out.write_bytes(bytes(data))


def edit_manifest(good: Path, out: Path, keys: Keys) -> None:
    raw = manifest_of(good).replace(b'"min_version": "0"', b'"min_version": "9"')
    signature = dict((m.name, d) for m, d in members(good))[ub.SIGNATURE]
    with_manifest(good, out, raw, signature)


def sign_with_wrong_key(good: Path, out: Path, keys: Keys) -> None:
    """The vendor's key id in the manifest, signed by another key."""
    other = ub.load_private_key(keys.other)
    raw = manifest_of(good)
    with_manifest(good, out, raw, other.sign(raw))


def sign_with_unknown_key(good: Path, out: Path, keys: Keys) -> None:
    stranger = Ed25519PrivateKey.generate()
    data = json.loads(manifest_of(good))
    data["key_id"] = ub.key_id(stranger.public_key())
    raw = json.dumps(data).encode()
    with_manifest(good, out, raw, stranger.sign(raw))


def add_member(name: str, kind: bytes = tarfile.REGTYPE) -> Tamper:
    def tamper(good: Path, out: Path, keys: Keys) -> None:
        extra = tarfile.TarInfo(name)
        extra.type = kind
        if kind == tarfile.SYMTYPE:
            extra.linkname = "/etc/passwd"
        repack(out, [*members(good), (extra, b"#!/bin/sh\n" if kind == tarfile.REGTYPE else b"")])
    return tamper


def duplicate_wheel(good: Path, out: Path, keys: Keys) -> None:
    parts = members(good)
    repack(out, [*parts, parts[-1]])


def truncate(good: Path, out: Path, keys: Keys) -> None:
    out.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def cut_end_blocks(good: Path, out: Path, keys: Keys) -> None:
    """Cut just inside the last member's data: every header reads, the data does not."""
    with tarfile.open(good) as tar:
        last = tar.getmembers()[-1]
    out.write_bytes(good.read_bytes()[: last.offset_data + last.size - 1])


def oversize(good: Path, out: Path, keys: Keys) -> None:
    out.write_bytes(good.read_bytes())
    os.truncate(out, ub.DEFAULT_LIMITS.bundle_bytes + 1)  # sparse: costs no disk


def drop_signature(good: Path, out: Path, keys: Keys) -> None:
    repack(out, [(m, d) for m, d in members(good) if m.name != ub.SIGNATURE])


CASES: list[tuple[str, Tamper, type[Exception], str]] = [
    ("flipped byte in a wheel", flip_wheel_byte, ub.HashMismatchError,
     r"wheels/myna_reader-1\.0\.0-.*differs from the signed manifest"),
    ("edited manifest", edit_manifest, ub.BadSignatureError,
     r"not signed by key [0-9a-f]{16} as it claims \(altered after signing"),
    ("unknown key", sign_with_unknown_key, ub.UnknownKeyError, r"signed with unknown key"),
    ("path traversal", add_member("wheels/../../../../etc/cron.d/x"), ub.UnsafePathError,
     r"a path escapes the bundle \(wheels/\.\./"),
    ("absolute path", add_member("/etc/cron.d/x"), ub.UnsafePathError,
     r"absolute path \(/etc/cron\.d/x\)"),
    ("symlink", add_member("wheels/link.whl", tarfile.SYMTYPE), ub.BundleLinkError,
     r"holds a link \(wheels/link\.whl\)"),
    ("device file", add_member("wheels/dev", tarfile.CHRTYPE), ub.BundleMemberTypeError,
     r"wheels/dev is not a regular file"),
    ("duplicate name", duplicate_wheel, ub.DuplicateMemberError, r"appears twice"),
    ("unlisted file", add_member("wheels/extra-1.0-py3-none-any.whl"), ub.UnlistedFileError,
     r"extra-1\.0-py3-none-any\.whl is in the bundle but not in its manifest"),
    ("no signature", drop_signature, ub.MissingManifestError, r"no manifest\.sig"),
    ("truncated file", truncate, ub.BundleTruncatedError, r"truncated"),
    ("truncated last member", cut_end_blocks, ub.BundleTruncatedError, r"truncated"),
    ("oversized archive", oversize, ub.BundleTooLargeError, r"over the limit of 536870912"),
]


def tree(layout: Layout) -> dict[str, tuple[int, int]]:
    """The installed releases and `current`, with sizes and mtimes (anything touched shows)."""
    return {str(p.relative_to(layout.opt)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in [layout.current, *layout.releases.rglob("*")]
            if "__pycache__" not in p.parts}


def test_each_tampering_is_refused_and_the_release_is_untouched(
        layout: Layout, bundles: dict[str, Path], keys: Keys, tmp_path: Path,
        update_cli: UpdateCli) -> None:
    install(bundles["1.0.0"], layout)
    before = tree(layout)
    messages = set()
    for name, tamper, error, pattern in CASES:
        bad = tmp_path / f"{name.replace(' ', '-')}.bundle"
        tamper(bundles["1.0.0"], bad, keys)
        with pytest.raises(error, match=pattern) as refused:
            install(bad, layout)
        assert type(refused.value) is error, name
        messages.add(str(refused.value))
        assert "\n" not in str(refused.value), name
        assert tree(layout) == before, name
        assert update_install.status(layout)["last"]["outcome"] == "refused", name
    assert len(messages) == len(CASES)  # each refusal says what it is

    # the vendor's key id, signed by another key: to Ed25519 the same as an edited manifest
    bad = tmp_path / "wrong-key.bundle"
    sign_with_wrong_key(bundles["1.0.0"], bad, keys)
    with pytest.raises(ub.BadSignatureError, match="or signed with another key"):
        install(bad, layout)
    assert tree(layout) == before

    # as the technician sees it: one line on stderr, exit 1, nothing installed
    bad = tmp_path / "cli.bundle"
    flip_wheel_byte(bundles["1.1.0"], bad, keys)
    done = update_cli("install", bad, "--root", layout.root)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("myna-reader: refused: wheels/myna_reader-1.1.0-")
    assert tree(layout) == before


def test_the_other_vendors_key_is_unknown_until_trusted(layout: Layout,
                                                        bundles: dict[str, Path],
                                                        keys: Keys) -> None:
    """Key rotation: a bundle signed with a new key installs once its .pub is trusted."""
    with pytest.raises(ub.UnknownKeyError, match=r"trusted: [0-9a-f]{16}\)"):
        install(bundles["1.0.0-other-key"], layout)
    assert not layout.current.exists()
    (layout.keys_dir / "other.pub").write_bytes(keys.other.with_name("other.pub").read_bytes())
    assert install(bundles["1.0.0-other-key"], layout).outcome == "installed"


def test_the_limits_hold_for_members_and_manifest(bundles: dict[str, Path], keys: Keys) -> None:
    trusted = {ub.key_id(ub.load_private_key(keys.vendor).public_key()):
               ub.load_private_key(keys.vendor).public_key()}
    good = bundles["1.0.0"]
    with pytest.raises(ub.BundleTooLargeError, match=r"over the limit of 1000"):
        ub.open_bundle(good, trusted, limits=ub.Limits(member_bytes=1000))
    with pytest.raises(ub.BundleTooLargeError, match=r"more than 3 files"):
        ub.open_bundle(good, trusted, limits=ub.Limits(members=3))
    assert ub.open_bundle(good, trusted).version == "1.0.0"


def test_an_unsigned_tar_header_over_the_bound_is_refused_before_it_is_read(
        tmp_path: Path, keys: Keys) -> None:
    """A pax header claiming 64 MiB: refused from its size alone, without reading it in."""
    bundle = tmp_path / "huge-header.bundle"
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("manifest.json")
        info.pax_headers = {"comment": "x" * (64 << 20)}
        tar.addfile(info, io.BytesIO(b""))
    tracemalloc.start()
    try:
        with pytest.raises(ub.BundleTooLargeError, match="a tar header of"):
            ub.open_bundle(bundle, ub.load_trusted_keys(
                keys.vendor.parent))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # the 64 MiB header was never read into memory
