"""A test card profile in a temp dir: the bundled synthetic `face-card` (no PIN set) whose 券面AP
photo (DF27) is the greyscale JPEG 2000 of a real public face, re-signed with the profile's
own throwaway card key exactly as hw-fixtures/generate.py signs it (reference §5.2)."""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from myna_reader.drivers import tlv
from myna_reader.drivers.sim.card import sign_pkcs1_type1
from myna_reader.fixtures.generate import _with_offsets
from myna_reader.fixtures.generate import tlv as encode

SIGNED_GROUPS = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))
SHA256_DIGEST_INFO = bytes.fromhex("3071300d06096086480165030402010500")


def face_card_with_photo(photo_jp2: bytes, folder: Path) -> Path:
    doc = json.loads((resources.files("myna_reader.fixtures") / "profiles" /
                      "face-card.json").read_text(encoding="utf-8"))
    visual = doc["visual"]
    record = tlv.decode_ber_object(base64.b64decode(visual["card_face"]))
    values = {item.tag: item.value for item in record.children()}
    values[0xDF27] = photo_jp2
    key = serialization.load_pem_private_key(visual["card_key_pem"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    digests = b"".join(hashlib.sha256(b"".join(encode(t, values[t]) for t in group)).digest()
                       for group in SIGNED_GROUPS)
    values[0xDF28] = sign_pkcs1_type1(key, SHA256_DIGEST_INFO + encode(0x04, digests))
    order = [0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A]
    visual["card_face"] = base64.b64encode(
        _with_offsets([(t, values[t]) for t in order], 3)).decode()
    doc["name"] = "face-card-real-photo"
    path = folder / "face-card-real-photo.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
