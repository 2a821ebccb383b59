"""Consent items and the pages that ask them.

The items are the ones of the terminal's result file, in that file's order. Each is keyed by
the names of its flags in the terminal's schema (`…ConsFlg`, with its `…ConsTime` and, for the
items that open data for viewing, `…AvailableTime`): docs/host-protocol.md has the table. The
電子カルテ情報共有サービス's consent covers its six clinical records with one answer, so that
one item stands for six flags.

Pages are data: config may regroup them, drop items a facility does not ask (a 資格確認限定型
site asks none) or ask one item per page. The default groups them the way the certified
readers ask: past medication and treatment (incl. surgery) first, then the health check-ups,
then the high-cost and specified-disease certificates. The clinical-records item is on no
default page: a facility in the 電子カルテ情報共有サービス adds a page for it.

A page is answered as a whole (同意する / 同意しない applies to every item on it); a facility
that wants a per-item choice configures one item per page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from myna_reader.daemon.engine.schema import KeyRule, problem_at, require_valid, setting


class ConsentItem(StrEnum):
    """Consent items, declared in the result file's order (限度額 ... 手術)."""

    LIMIT_APPLICATION = "limit-application"  # 限度額適用認定証関連
    SPECIFIC_DISEASE = "specific-disease"  # 特定疾病療養受療証関連
    HEALTH_CHECKUPS = "health-checkups"  # 特定健診情報
    PHARMACEUTICAL = "pharmaceutical"  # 薬剤情報
    DIAGNOSIS = "diagnosis"  # 診療情報
    OPERATION = "operation"  # 手術情報
    CLINICAL_RECORDS = "clinical-records"  # 電子カルテ情報共有サービスの6情報

    @property
    def flags(self) -> tuple[str, ...]:
        """The item's `…ConsFlg` names in the terminal's result schema."""
        return SCHEMA_FLAGS[self]

    @property
    def viewing(self) -> bool:
        """Whether agreeing opens the patient's data for viewing (it has an AvailableTime).
        資格情報のみ (an expired certificate in its grace) asks none of these."""
        return self not in (ConsentItem.LIMIT_APPLICATION, ConsentItem.SPECIFIC_DISEASE)


SCHEMA_FLAGS: dict[ConsentItem, tuple[str, ...]] = {
    ConsentItem.LIMIT_APPLICATION: ("LimitApplicationCertificateRelatedConsFlg",),
    ConsentItem.SPECIFIC_DISEASE: ("SpecificDiseasesCertificateRelatedConsFlg",),
    ConsentItem.HEALTH_CHECKUPS: ("SpecificHealthCheckupsInfoConsFlg",),
    ConsentItem.PHARMACEUTICAL: ("PharmacistsInfoConsFlg",),
    ConsentItem.DIAGNOSIS: ("DiagnosisInfoConsFlg",),
    ConsentItem.OPERATION: ("OperationInfoConsFlg",),
    # 傷病名, 感染症, その他アレルギー等, 薬剤アレルギー等, 検査, 処方
    ConsentItem.CLINICAL_RECORDS: (
        "DiagnosisNameConsFlg", "InfectiousInfoConsFlg", "AllergyInfoConsFlg",
        "ContraindicationInfoConsFlg", "TestInfoConsFlg", "PrescriptionInfoConsFlg",
    ),
}
RESULT_ORDER: tuple[ConsentItem, ...] = tuple(ConsentItem)


def _named(page_id: str) -> str | None:
    return None if page_id else "give every page its own non-empty id"


def _asks(items: tuple[ConsentItem, ...]) -> str | None:
    return None if items else "list at least one consent item"


@dataclass(frozen=True, slots=True)
class ConsentPage:
    """One page of `[[consent.pages]]`: its id and the items it asks."""

    id: str = field(metadata=KeyRule(check=_named).metadata)
    items: tuple[ConsentItem, ...] = field(metadata=KeyRule(check=_asks).metadata)

    def __post_init__(self) -> None:
        require_valid(self)


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """One item's answer and the wall-clock time (epoch seconds) it was given; an agreed
    viewing item also says until when the consent holds."""

    item: ConsentItem
    agreed: bool
    time: float
    available_until: float | None = None


DEFAULT_CONSENT_PAGES: tuple[ConsentPage, ...] = (
    ConsentPage(
        "medication-treatment",
        (ConsentItem.PHARMACEUTICAL, ConsentItem.DIAGNOSIS, ConsentItem.OPERATION),
    ),
    ConsentPage("health-checkups", (ConsentItem.HEALTH_CHECKUPS,)),
    ConsentPage(
        "certificates", (ConsentItem.LIMIT_APPLICATION, ConsentItem.SPECIFIC_DISEASE)
    ),
)


MAX_VALIDITY_H = 24.0 * 366
#: Hours a viewing consent holds: 24 h in outpatient care, each visit asks again.
DEFAULT_VALIDITY_H = 24.0


@dataclass(frozen=True, slots=True)
class ConsentValidity:
    """How long each viewing item's consent holds, in hours (`[consent.validity_h]`, item =
    hours; items not named keep 24 h)."""

    hours: tuple[tuple[ConsentItem, float], ...] = setting(
        tuple((item, DEFAULT_VALIDITY_H) for item in ConsentItem if item.viewing),
        KeyRule(low=1.0, high=MAX_VALIDITY_H, unit="hours", key="validity_h"))

    def __post_init__(self) -> None:
        require_valid(self, (problem_at(self, "hours", "only viewing items have a validity; "
                                        "remove it", f".{item.value}", hours)
                             for item, hours in self.hours if not item.viewing))

    def until(self, item: ConsentItem, agreed: bool, time: float) -> float | None:
        if not agreed:
            return None
        hours = dict(self.hours).get(item)
        return None if hours is None else time + hours * 3600.0


def asked_pages(pages: Sequence[ConsentPage], qualification_only: bool
                ) -> tuple[ConsentPage, ...]:
    """The pages a session asks: under 資格情報のみ without the viewing items, and without a
    page that has nothing left to ask."""
    if not qualification_only:
        return tuple(pages)
    kept = ((p.id, tuple(i for i in p.items if not i.viewing)) for p in pages)
    return tuple(ConsentPage(page_id, items) for page_id, items in kept if items)


def repeated_on_pages(pages: Sequence[ConsentPage]) -> Iterator[tuple[str, object, str]]:
    """A page id or an item that appears twice: (its part of the pages' key, its value, the
    fix), for SessionConfig's check. Each item is asked on one page at most."""
    seen_items: set[ConsentItem] = set()
    seen_ids: set[str] = set()
    for index, page in enumerate(pages):
        if page.id in seen_ids:
            yield f"[{index}].id", page.id, "give every page its own non-empty id"
        for item in page.items:
            if item in seen_items:
                yield f"[{index}].items", page.items, f"ask {item.value!r} on one page only"
            seen_items.add(item)
        seen_ids.add(page.id)


def in_result_order(answers: Sequence[ConsentAnswer]) -> tuple[ConsentAnswer, ...]:
    """The answers sorted the way the terminal's result file lists the items."""
    rank = {item: i for i, item in enumerate(RESULT_ORDER)}
    return tuple(sorted(answers, key=lambda a: rank[a.item]))
