"""`myna-reader readers`, `card info`, `card read-cert`: the technician's view of a card."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from myna_reader.daemon.cli.options import add_reader, read_pin
from myna_reader.daemon.runtime.card_info import TextApSummary, read_text_ap, summarize
from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import to_pem
from myna_reader.drivers.channel import CardChannel, trace_to_log
from myna_reader.drivers.errors import MynaError, NoCardError
from myna_reader.drivers.pin import four_digit_pin
from myna_reader.drivers.readers import open_reader
from myna_reader.drivers.sim.profile import profile_names

CARD_WAIT_SECONDS = 10.0


@contextmanager
def card_session(spec: str, *, exclusive: bool = False) -> Iterator[MyNumberCard]:
    """Open the reader, wait for a card, power it; unpower and close on the way out."""
    reader: Reader = open_reader(spec)
    try:
        reader.check_attached()  # a reader that is not there fails now, not after a wait
        if not reader.card_present():
            print(f"Place the card on {reader.name} ...", file=sys.stderr)
            event = reader.wait_for_event(CARD_WAIT_SECONDS)
            while event is not None and not reader.card_present():
                event = reader.wait_for_event(CARD_WAIT_SECONDS)
            if not reader.card_present():
                raise NoCardError(f"no card on {reader.name} within {CARD_WAIT_SECONDS:.0f} s")
        reader.connect(exclusive=exclusive)
        try:
            yield MyNumberCard(CardChannel(reader, (trace_to_log,)))
        finally:
            reader.disconnect(unpower=True)
    finally:
        reader.close()


def cmd_readers(args: argparse.Namespace) -> int:
    rows: list[tuple[str, str]] = []
    try:
        from myna_reader.drivers.backends.pcsc import list_readers

        rows += [(f"pcsc:{name}", name) for name in list_readers()]
    except MynaError as exc:
        print(f"pcsc: unavailable ({exc})", file=sys.stderr)
    try:
        from myna_reader.drivers.backends.nfc import NfcReader

        nfc_log = logging.getLogger("nfc.clf")
        level = nfc_log.level
        nfc_log.setLevel(logging.CRITICAL)  # "no reader" is an answer here
        try:
            with NfcReader("usb") as nfc_reader:  # nfcpy finds the first supported USB device
                rows.append(("nfc:usb", nfc_reader.name))
        finally:
            nfc_log.setLevel(level)
    except MynaError:
        pass  # no NFC front end on USB: nothing to list (serial ones need their port named)
    rows += [(f"sim:{name}", "simulated card") for name in profile_names()]
    width = max(len(spec) for spec, _ in rows)
    for spec, name in rows:
        print(f"{spec.ljust(width)}  {name}")
    return 0


def _text_ap_lines(summary: TextApSummary, show_personal: bool) -> dict[str, object]:
    cvc = summary.certificate
    info: dict[str, object] = {
        "text_ap_identification": summary.info.identification.hex(" ").upper(),
        "text_ap_key_id": summary.info.key_id.hex().upper(),
        "text_ap_certificate_issuer": str(cvc.issuer),
        "text_ap_certificate_subject": str(cvc.subject),
        "text_pin_tries_left": summary.pin.tries_left,
    }
    check = summary.integrity
    if check is None:
        info["text_ap_integrity"] = "not checked: the text-AP PIN is blocked"
        return info
    info.update({
        "my_number_digest_ok": check.my_number_digest_ok,
        "attributes_digest_ok": check.attributes_digest_ok,
        "integrity_signature_ok": check.signature_ok,
    })
    if show_personal:
        four = check.basic_four
        info.update({"my_number": check.my_number, "name": four.name, "address": four.address,
                     "birth_date": four.birth, "sex": four.sex.name.lower()})
    return info


def cmd_card_info(args: argparse.Namespace) -> int:
    text_pin = ""
    if args.text:  # asked and checked before the card is touched
        text_pin = read_pin("Text-AP PIN (券面事項入力補助用暗証番号, 4 digits, not shown): ",
                            args.pin_stdin)
        four_digit_pin(text_pin)
    # a VERIFY unlocks the text AP: no other PC/SC client may reach the card meanwhile
    with card_session(args.reader, exclusive=args.text) as card:
        summary = summarize(card)
        text = read_text_ap(card, text_pin) if args.text else None
        reader_name = card.channel.reader.name  # says so when the card is a simulated one
    now = datetime.now(UTC)
    cert = summary.certificate
    info: dict[str, object] = {
        "reader": reader_name,
        "token": summary.token.name.lower().replace("_", "-"),
        "sign_certificate": summary.availability.sign,
        "auth_certificate": summary.availability.auth,
    }
    if summary.auth_pin is None:
        info["auth_pin"] = "none on the reader (the holder authenticates on the phone)"
    else:
        info["auth_pin_tries_left"] = summary.auth_pin.tries_left
        info["auth_pin_blocked"] = summary.auth_pin.blocked
    if cert is None:
        info["certificate"] = "needs the auth PIN first (Android token)"
    else:
        info.update({
            "certificate_fingerprint": cert.fingerprint,
            "certificate_serial": cert.serial_hex,
            "certificate_not_before": cert.not_before.isoformat(),
            "certificate_not_after": cert.not_after.isoformat(),
            "certificate_expired": cert.is_expired(now),
        })
        if args.show_personal:
            info["certificate_subject"] = cert.personal_subject()
    if text is not None:
        info.update(_text_ap_lines(text, args.show_personal))
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key.replace('_', ' ').ljust(width)}  {value}")
    return 1 if text is not None and text.integrity is not None and not text.integrity.ok else 0


def cmd_read_cert(args: argparse.Namespace) -> int:
    with card_session(args.reader) as card:
        jpki = card.jpki()
        der = jpki.read_auth_ca_certificate() if args.ca else jpki.read_auth_certificate()
    data = to_pem(der).encode("ascii") if args.pem else der
    if args.out:
        Path(args.out).write_bytes(data)
    elif args.pem:
        sys.stdout.write(data.decode("ascii"))
    elif sys.stdout.isatty():
        print("myna-reader: DER is binary: use --pem or --out FILE", file=sys.stderr)
        return 2
    else:
        sys.stdout.buffer.write(data)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("readers", help="list the readers this machine can use")
    p.set_defaults(handler=cmd_readers)

    card = sub.add_parser("card", help="read a card (technician diagnostics)")
    card_sub = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)
    p = card_sub.add_parser("info", help="token kind, certificates, PIN tries; no personal data")
    add_reader(p)
    p.add_argument("--text", action="store_true",
                   help="also read the 券面事項入力補助AP and check its integrity record "
                   "(asks for the text-AP PIN; exit 1 if a digest or the signature fails)")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read the text-AP PIN from standard input (else asked on the tty)")
    p.add_argument("--show-personal", action="store_true",
                   help="also print the certificate subject and, with --text, the My Number "
                   "and the 4 basic attributes (personal data)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_card_info)
    p = card_sub.add_parser("read-cert", help="write the auth certificate (or its CA) as DER/PEM")
    add_reader(p)
    p.add_argument("--ca", action="store_true", help="the CA certificate instead")
    p.add_argument("--pem", action="store_true", help="PEM instead of DER")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.set_defaults(handler=cmd_read_cert)
