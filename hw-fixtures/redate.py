"""A bundled profile whose user-authentication certificate has other dates.

The certificate's life cycle (docs/session.md) is judged against the day a card is placed,
so a card near its expiry, or in the grace after it, has to be made for the day of the test:
a fixed profile would drift out of its period. The certificate is re-issued for the profile's
own auth key (so its signatures still verify) by a fresh throwaway auth CA, whose certificate
replaces EF 000B, so that the chain a terminal checks verifies too. Nothing else changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.fixtures.generate import HOLDERS, make_ca, make_user_cert

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def end_of_day_in_japan(day: dt.date) -> dt.datetime:
    """23:59:59 in Japan on `day`: when a JPKI certificate valid until `day` ends."""
    return dt.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=JST)


def with_auth_validity(profile: CardProfile | str, expiry: dt.date, *,
                       name: str | None = None) -> CardProfile:
    """`profile` with its auth certificate valid from five years before `expiry` to the end
    of `expiry` in Japan; `name` names the new profile (default: `<name>-until-<date>`)."""
    base = load_profile(profile) if isinstance(profile, str) else profile
    key = load_pem_private_key(base.jpki.auth_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"profile {base.name}: the auth key is not RSA")
    serial = x509.load_der_x509_certificate(base.jpki.auth_cert).serial_number
    ca = make_ca("auth")
    not_after = end_of_day_in_japan(expiry)
    not_before = not_after.replace(year=not_after.year - 5, day=min(not_after.day, 28))
    holder = HOLDERS.get(base.name, HOLDERS["standard"])  # unused by an auth certificate's SAN
    cert = make_user_cert(ca, key, holder, serial, (not_before, not_after))
    jpki = dataclasses.replace(base.jpki, auth_cert=cert, auth_ca_cert=ca.der)
    return dataclasses.replace(base, name=name or f"{base.name}-until-{expiry.isoformat()}",
                               description=f"{base.description} Auth certificate re-issued "
                                           f"to end {expiry.isoformat()} (Japan).",
                               jpki=jpki)
