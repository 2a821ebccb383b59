"""The message catalogs (ui/catalog/<lang>.toml): every text the screens show, none in code.

A catalog is a TOML tree flattened to dotted keys ("pin.prompt", "error.short.001").
Languages must hold the same keys, so a missing translation fails at load, not on screen.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources

from myna_reader.daemon.engine import Language
from myna_reader.daemon.errors import DaemonError

Lang = Language  # a catalog per language of the session (the engine's vocabulary)


class CatalogError(DaemonError):
    """A catalog file that is missing, malformed or out of step with the others."""


def _flatten(tree: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, str):
            yield name, value
        else:
            raise CatalogError(f"{name}: a catalog value is text, not {type(value).__name__}")


def load_catalog_file(name: str) -> dict[str, str]:
    """The flattened catalog `ui/catalog/<name>.toml` of the installed package."""
    path = resources.files("myna_reader.ui").joinpath("catalog", f"{name}.toml")
    try:
        tree = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"catalog {name}.toml: {exc}") from exc
    return dict(_flatten(tree))


class Messages:
    """One language's texts. `text(key, **fields)` fills `{field}` placeholders."""

    def __init__(self, lang: Lang, entries: Mapping[str, str]) -> None:
        self.lang = lang
        self._entries = dict(entries)

    def text(self, key: str, **fields: object) -> str:
        try:
            template = self._entries[key]
        except KeyError:
            raise CatalogError(f"{self.lang.value}: no message {key!r}") from None
        return template.format(**fields) if fields else template

    def has(self, key: str) -> bool:
        return key in self._entries

    def all_texts(self) -> list[str]:
        return list(self._entries.values())


def load_messages() -> dict[Lang, Messages]:
    """Every language's catalog, checked to hold the same keys."""
    catalogs = {lang: load_catalog_file(lang.value) for lang in Lang}
    reference = set(catalogs[Lang.JA])
    for lang, entries in catalogs.items():
        if set(entries) != reference:
            diff = sorted(set(entries) ^ reference)
            raise CatalogError(f"{lang.value}.toml and ja.toml differ in keys: {diff}")
    return {lang: Messages(lang, entries) for lang, entries in catalogs.items()}
