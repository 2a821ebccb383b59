"""Consent items and the pages that ask them.

The six items are the ones of the terminal's result file, in that file's order (each a flag
and a time there). Pages are data: config may regroup them, drop items a facility does not
ask (a 資格確認限定型 site asks none) or ask one item per page. The default groups them the
way the certified readers ask: past medication and treatment (incl. surgery) first, then
the health check-ups, then the high-cost and specified-disease certificates.

A page is answered as a whole (同意する / 同意しない applies to every item on it); a facility
that wants a per-item choice configures one item per page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.engine.errors import SessionConfigError


class ConsentItem(StrEnum):
    """Consent items, declared in the result file's order (限度額 ... 手術)."""

    LIMIT_APPLICATION = "limit-application"  # 限度額適用認定証関連
    SPECIFIC_DISEASE = "specific-disease"  # 特定疾病療養受療証関連
    HEALTH_CHECKUPS = "health-checkups"  # 特定健診情報
    PHARMACEUTICAL = "pharmaceutical"  # 薬剤情報
    DIAGNOSIS = "diagnosis"  # 診療情報
    OPERATION = "operation"  # 手術情報


RESULT_ORDER: tuple[ConsentItem, ...] = tuple(ConsentItem)


@dataclass(frozen=True, slots=True)
class ConsentPage:
    id: str
    items: tuple[ConsentItem, ...]


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """One item's answer and the wall-clock time (epoch seconds) it was given."""

    item: ConsentItem
    agreed: bool
    time: float


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


def validate_pages(pages: Sequence[ConsentPage], key: str = "consent.pages") -> None:
    """Each page has an id and at least one item; no page id or item appears twice."""
    seen_items: set[ConsentItem] = set()
    seen_ids: set[str] = set()
    for index, page in enumerate(pages):
        where = f"{key}[{index}]"
        if not page.id or page.id in seen_ids:
            raise SessionConfigError(f"{where}.id", "give every page its own non-empty id")
        if not page.items:
            raise SessionConfigError(f"{where}.items", "list at least one consent item")
        for item in page.items:
            if item in seen_items:
                raise SessionConfigError(f"{where}.items", f"ask {item.value!r} on one page only")
            seen_items.add(item)
        seen_ids.add(page.id)


def pages_from_config(raw: Sequence[Mapping[str, object]]) -> tuple[ConsentPage, ...]:
    """Pages from config data: `[{"id": "...", "items": ["pharmaceutical", ...]}, ...]`."""
    known = ", ".join(item.value for item in ConsentItem)
    pages = []
    for index, entry in enumerate(raw):
        where = f"consent.pages[{index}]"
        page_id, items = entry.get("id"), entry.get("items")
        if not isinstance(page_id, str):
            raise SessionConfigError(f"{where}.id", "set a page id (text)")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise SessionConfigError(f"{where}.items", f"set a list of item ids from: {known}")
        try:
            parsed = tuple(ConsentItem(i) for i in items)
        except ValueError:
            raise SessionConfigError(f"{where}.items", f"use item ids from: {known}") from None
        pages.append(ConsentPage(page_id, parsed))
    validate_pages(pages)
    return tuple(pages)


def in_result_order(answers: Sequence[ConsentAnswer]) -> tuple[ConsentAnswer, ...]:
    """The answers sorted the way the terminal's result file lists the items."""
    rank = {item: i for i, item in enumerate(RESULT_ORDER)}
    return tuple(sorted(answers, key=lambda a: rank[a.item]))
