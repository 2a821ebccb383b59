"""The auth certificate's life cycle on the day of a session: valid, expiring, grace, expired.

The 利用者証明用電子証明書 is judged by calendar dates in Japan (docs/session.md, "The
certificate's life cycle"): the expiry date is notAfter's date in Japan, and the periods are
whole calendar months, as the public notices state them: a notice from the same day 3 months
before, and 資格情報のみ for 3 months from the end of the expiry's month (so to the end of the
third month after it). Japan's civil time is a fixed UTC+09:00:
JST has kept no daylight saving time since 1951, so a fixed offset is exact and needs no tz
database on the reader.

    [certificate]
    notice_months = 3   # months before expiry in which the patient sees the date (0: never)
    grace_months = 3    # months after expiry in which a plastic card still confirms 資格情報のみ

CertificatePolicy is that table's schema (schema.py): its fields are the keys.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from myna_reader.daemon.engine.schema import KeyRule, require_valid, setting
from myna_reader.daemon.engine.vocabulary import CertificateLife

JST = timezone(timedelta(hours=9), "JST")
MAX_MONTHS = 12


@dataclass(frozen=True, slots=True)
class CertificatePolicy:
    notice_months: int = setting(3, KeyRule(low=0, high=MAX_MONTHS, unit="months"))
    grace_months: int = setting(3, KeyRule(low=0, high=MAX_MONTHS, unit="months"))

    def __post_init__(self) -> None:
        require_valid(self)


@dataclass(frozen=True, slots=True)
class Assessment:
    life: CertificateLife
    expiry: date  # notAfter's date in Japan
    grace_until: date  # the last day a plastic card confirms 資格情報のみ


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def japan_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("a certificate time must be timezone-aware")
    return moment.astimezone(JST).date()


def assess(not_after: datetime, now_wall: float, policy: CertificatePolicy) -> Assessment:
    """The certificate's state at wall time `now_wall` (epoch seconds).

    Expired means past notAfter itself (to the second, as the terminal will judge it). The
    notice starts on the day `notice_months` before the expiry date; the grace ends with the
    last day of the month `grace_months` after the expiry's. Every day is a date in Japan.
    """
    now = datetime.fromtimestamp(now_wall, UTC)
    expiry = japan_date(not_after)
    today = japan_date(now)
    grace_until = end_of_month(add_months(expiry, policy.grace_months))
    if now > not_after:
        in_grace = policy.grace_months > 0 and today <= grace_until
        life = CertificateLife.GRACE if in_grace else CertificateLife.EXPIRED
    elif policy.notice_months and today >= add_months(expiry, -policy.notice_months):
        life = CertificateLife.EXPIRING
    else:
        life = CertificateLife.VALID
    return Assessment(life, expiry, grace_until)
