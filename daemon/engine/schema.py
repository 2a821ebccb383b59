"""Settings declared once: a dataclass's fields, their types and their rules are the schema of
the config keys they hold; `settings_from` checks a parsed document against it and reports
every problem at once.

Each field is a key of its table, under its own name, checked by its type:

    bool, int, float, str, Path, an Enum (its values), X | None
    tuple[X, ...]               a list
    tuple[tuple[K, V], ...]     a table of K = V (K a str or an Enum), merged over the default
    a dataclass                 a table of its own (`field(default_factory=...)`; with the
                                key "", merged into its parent's table)
    tuple[<dataclass>, ...]     an array of tables

and by the `KeyRule` given with `setting(default, KeyRule(...))`: bounds, choices, a check,
its key when that is not the field's name, whether it is a secret. A dataclass also holds
itself to its rules when built (`require_valid` in its `__post_init__`), so a value made in
code keeps the rules a file must; rules that tie fields together (a listener needs a token, an
item on one page only) are the extra problems it passes there.

The engine's tables (settings.py), the display's (ui/settings.py) and the daemon's own
(runtime/config.py) are declared this way; the same check serves config.toml and the
terminal's `config` message. Standard library only, as the engine is (docs/architecture.md):
pydantic or msgspec would need their own types in these annotations to hold the bounds, the
link (a layer below the runtime) could not use them, and msgspec stops at the first error.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from enum import Enum
from pathlib import PurePath
from typing import Any, TypeVar

from myna_reader.daemon.errors import DaemonError

_T = TypeVar("_T")
_RULE = "myna_reader.rule"  # the key of a field's KeyRule in its metadata
MAX_SHOWN = 60  # characters of a bad value quoted in a problem
MAX_PROBLEMS = 100  # a file of garbage gives a screenful, not an endless list
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # TOML keys that need no quotes
_NUL_FIX = "remove the NUL character (\\u0000) from it"


@dataclass(frozen=True, slots=True)
class Problem:
    """One setting the daemon will not run with: where it is, the value as written, the fix."""

    key: str  # dotted as in the file (consent.pages[1].items), or a file's path
    fix: str
    shown: str | None = None  # the bad value as TOML writes it; None where there is none
    what: str = "is not accepted"

    def __str__(self) -> str:
        if self.shown is None:
            return f"{self.key}: {self.fix}"
        return f"{self.key}: {self.shown} {self.what}; {self.fix}"

    def under(self, prefix: str) -> Problem:
        return replace(self, key=_join(prefix, self.key))


class ConfigError(DaemonError, ValueError):
    """Settings the daemon will not run with: every problem found, one line each."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class KeyRule:
    """What a key takes beyond its type. Bounds and choices apply to each item of a list or
    table; `check` to the whole value."""

    low: float | None = None
    high: float | None = None
    unit: str = ""  # "seconds": the fix reads "set a number of seconds between ..."
    choices: tuple[object, ...] = ()
    check: Callable[[Any], str | None] | None = None  # the fix when the value is wrong
    # a value written as text ("800x480"), or a check of the text as written (not made again
    # when a value is built in code); a ValueError's message is the fix
    parse: Callable[[str], object] | None = None
    fix: str = ""  # the fix to give instead of the one made from the above
    what: str = "is not accepted"  # how the problem reads after the value
    key: str | None = None  # the key when not the field's name; "" merges a table into its parent
    secret: bool = False  # never shown, not even in a problem
    redact: Callable[[str], str] | None = None  # how a text is shown (a URL without its token)
    configurable: bool = True  # False: a field that is no key (the path the file was read from)

    @property
    def metadata(self) -> dict[str, KeyRule]:
        """For `field(metadata=...)`, where a field has no default."""
        return {_RULE: self}


NO_RULE = KeyRule()
NOT_A_KEY = KeyRule(configurable=False)


def setting(default: _T, rule: KeyRule = NO_RULE) -> _T:
    """A field with its default and its rule: `pin_s: float = setting(60.0, KeyRule(...))`."""
    value: _T = field(default=default, metadata=rule.metadata, repr=not rule.secret)
    return value


def seconds(default: float, low: float, high: float, key: str | None = None) -> float:
    """A duration in seconds between `low` and `high`."""
    return setting(default, KeyRule(low=low, high=high, unit="seconds", key=key))


# --- the schema of a dataclass -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Kind:
    base: type  # bool, int, float, str, a PurePath, an Enum, a dataclass, or any with a parse
    many: bool = False  # tuple[base, ...]
    keys: type | None = None  # tuple[tuple[keys, base], ...]: a table keys -> base
    optional: bool = False

    @property
    def table(self) -> bool:
        return is_dataclass(self.base) and not self.many


@dataclass(frozen=True, slots=True)
class _Key:
    name: str  # the field
    path: tuple[str, ...]  # its key under the dataclass's table; () merges a table into it
    kind: _Kind
    rule: KeyRule
    required: bool


_SCHEMAS: dict[type, tuple[_Key, ...]] = {}
_TREES: dict[type, dict[str, object]] = {}


def _kind_of(hint: object, rule: KeyRule) -> _Kind:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (types.UnionType, typing.Union) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return replace(_kind_of(inner, rule), optional=True)
    if rule.parse is not None:
        return _Kind(object)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if typing.get_origin(item) is tuple:  # tuple[tuple[K, V], ...]: a table of K = V
            key_type, value_type = typing.get_args(item)
            return _Kind(_scalar(value_type), keys=_scalar(key_type))
        table = isinstance(item, type) and is_dataclass(item)
        return _Kind(typing.cast(type, item) if table else _scalar(item), many=True)
    if isinstance(hint, type) and is_dataclass(hint):
        return _Kind(typing.cast(type, hint))
    return _Kind(_scalar(hint))


def _scalar(hint: object) -> type:
    if isinstance(hint, type) and issubclass(hint, bool | int | float | str | PurePath | Enum):
        return hint
    raise TypeError(f"no config type for {hint!r}: give its field a KeyRule with parse")


def _schema(cls: type) -> tuple[_Key, ...]:
    """The keys of `cls`'s fields, made once per class (its types resolved on first use)."""
    known = _SCHEMAS.get(cls)
    if known is None:
        known = _SCHEMAS[cls] = _schema_of(cls)
    return known


def _schema_of(cls: type) -> tuple[_Key, ...]:
    hints = typing.get_type_hints(cls)
    keys = []
    for f in fields(cls):
        rule = f.metadata.get(_RULE, NO_RULE)
        if not rule.configurable:
            continue
        path = tuple(rule.key.split(".")) if rule.key else () if rule.key == "" else (f.name,)
        required = f.default is MISSING and f.default_factory is MISSING
        keys.append(_Key(f.name, path, _kind_of(hints[f.name], rule), rule, required))
    return tuple(keys)


def _tree(cls: type) -> dict[str, object]:
    """The keys a document of `cls` may hold: a dict per table, a _Kind per value. A key
    declared by two fields is a TypeError: each key is declared once."""
    known = _TREES.get(cls)
    if known is None:
        known = _TREES[cls] = _tree_of(cls)
    return known


def _tree_of(cls: type) -> dict[str, object]:
    tree: dict[str, object] = {}
    for key in _schema(cls):
        where = f"{cls.__name__}.{key.name}"
        if key.kind.table:
            node = _table_at(tree, key.path, where)
            for name, child in _tree(key.kind.base).items():
                _put(node, name, child, where)
        else:
            _put(_table_at(tree, key.path[:-1], where), key.path[-1], key.kind, where)
    return tree


def _table_at(tree: dict[str, object], path: tuple[str, ...], where: str) -> dict[str, object]:
    node = tree
    for part in path:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise TypeError(f"{where}: {part} is declared as a value and as a table")
        node = child
    return node


def _put(node: dict[str, object], name: str, child: object, where: str) -> None:
    if isinstance(child, dict):  # a copy: the cached tree of the nested class stays as it is
        target = _table_at(node, (name,), where)
        for inner, grandchild in child.items():
            _put(target, inner, grandchild, where)
    elif name in node:
        raise TypeError(f"{where}: key {name} is declared twice")
    else:
        node[name] = child


def config_keys(cls: type) -> Iterator[str]:
    """Every key a document of `cls` may hold, dotted (an array of tables' keys as `a[].b`)."""
    yield from _keys_of(_tree(cls), "")


def _keys_of(tree: Mapping[str, object], prefix: str) -> Iterator[str]:
    for name, node in tree.items():
        where = _join(prefix, name)
        if isinstance(node, dict):
            yield from _keys_of(node, where)
        elif isinstance(node, _Kind) and node.many and is_dataclass(node.base):
            yield from _keys_of(_tree(node.base), where + "[]")
        else:
            yield where


# --- checking a document -------------------------------------------------------------------

class _BadValueError(Exception):
    """Internal: a value a key does not take; `fix` when the key's own fix is not the one."""

    def __init__(self, fix: str = "") -> None:
        self.fix = fix


def settings_and_problems(cls: type[_T], document: Mapping[str, object],
                          base: _T | None = None) -> tuple[_T, tuple[Problem, ...]]:
    """`base` (the defaults when None) with the document's keys applied, and every problem.

    A bad key keeps base's value, so the result is usable as it stands (doctor runs its other
    checks on it); absent keys keep base's values too, which is how overrides work.
    """
    problems: list[Problem] = []
    _unknown_keys(_tree(cls), document, "", problems)
    start = base if base is not None else cls()
    built = _build(cls, document, start, "", problems)
    return (start if built is None else built), tuple(problems[:MAX_PROBLEMS])


def settings_from(cls: type[_T], document: Mapping[str, object], base: _T | None = None) -> _T:
    """`base` (the defaults when None) with the document's keys applied; ConfigError listing
    every problem if any key is bad."""
    value, problems = settings_and_problems(cls, document, base)
    if problems:
        raise ConfigError(problems)
    return value


def require_valid(instance: object, extra: Iterable[Problem] = ()) -> None:
    """For `__post_init__`: ConfigError naming each field of `instance` that breaks its rule,
    and the `extra` problems (keys relative to the instance's table)."""
    found = []
    for key in _schema(type(instance)):
        if key.kind.table:
            continue  # a nested table checked itself when it was built
        value = getattr(instance, key.name)
        fix = _rule_fix(key, value)
        if fix is not None:
            found.append(Problem(_join("", *key.path), fix, _shown(value, key.rule)))
    found += extra
    if found:
        raise ConfigError(found)


def problem_at(instance: object, name: str, fix: str, part: str = "",
               value: object = MISSING) -> Problem:
    """A problem of field `name` of `instance` (or of `part` of it, e.g. "[1].items"), keyed
    as in the file, its value shown as the field's rule shows values."""
    (key,) = (k for k in _schema(type(instance)) if k.name == name)
    shown = getattr(instance, name) if value is MISSING else value
    return Problem(_join("", *key.path) + part, fix, _shown(shown, key.rule))


def _build(cls: type[_T], document: Mapping[str, object], base: _T | None, prefix: str,
           problems: list[Problem]) -> _T | None:
    """An instance of `cls` from the table `document` at `prefix` over `base` (None: an item
    of an array of tables, which has no default), or None when it cannot be made."""
    values: dict[str, object] = {}
    complete = True
    for key in _schema(cls):
        where = _join(prefix, *key.path)
        raw = _at(document, key.path)
        if key.kind.table:
            inner = raw if isinstance(raw, Mapping) else {}
            built = _build(key.kind.base, inner, getattr(base, key.name, None), where, problems)
            if built is not None:
                values[key.name] = built
            continue
        value = MISSING if raw is MISSING else _value(
            key, raw, where, getattr(base, key.name, None), problems)
        if value is not MISSING:
            values[key.name] = value
        elif base is None and key.required:
            complete = False
            if raw is MISSING:
                problems.append(Problem(where, f"missing; {_fix(key, where)}"))
    if not complete:
        return None
    return _construct(cls, base, values, prefix, problems)


def _construct(cls: type[_T], base: _T | None, values: dict[str, object], prefix: str,
               problems: list[Problem]) -> _T | None:
    try:
        return cls(**values) if base is None else _replace(base, values)
    except ConfigError as exc:
        found = [p.under(prefix) for p in exc.problems]
    problems += found
    if base is None:
        return None
    # leave out the fields the problems name, so that the keys that were right still count
    named = {key.name for key in _schema(cls)
             if any(_within(p.key, owned) for owned in _owned(key, prefix) for p in found)}
    try:
        return _replace(base, {n: v for n, v in values.items() if n not in named})
    except ConfigError:
        return base


def _replace(instance: _T, values: Mapping[str, object]) -> _T:
    result: _T = replace(typing.cast(Any, instance), **values)
    return result


def _value(key: _Key, raw: object, where: str, current: object,
           problems: list[Problem]) -> object:
    """The field's value from `raw`, or MISSING after adding its problem."""
    kind, rule = key.kind, key.rule
    try:
        if raw is None and kind.optional:
            return None
        if rule.parse is not None:
            try:
                value = rule.parse(_text(raw))
            except ValueError as exc:  # its message is the fix, unless the rule has one
                raise _BadValueError(rule.fix or str(exc)) from None
        elif kind.keys is not None:
            return _pairs(key, raw, where, current, problems)
        elif kind.many and is_dataclass(kind.base):
            return _tables(key, raw, where, problems)
        elif kind.many:
            if not isinstance(raw, list):
                raise _BadValueError()
            value = tuple(_scalar_value(kind.base, item) for item in raw)
        else:
            value = _scalar_value(kind.base, raw)
        fix = _rule_fix(key, value)
        if fix is not None:
            raise _BadValueError(fix)
    except _BadValueError as refused:
        problems.append(Problem(where, refused.fix or _fix(key, where), _shown(raw, rule),
                                rule.what))
        return MISSING
    return value


def _pairs(key: _Key, raw: object, where: str, current: object,
           problems: list[Problem]) -> object:
    """A table of K = V, merged over the field's current pairs."""
    assert key.kind.keys is not None
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, _fix(key, where), _shown(raw, key.rule)))
        return MISSING
    merged = dict(typing.cast(tuple[tuple[object, object], ...], current or ()))
    for name, item in raw.items():
        at = _join(where, _quoted(name))
        try:
            item_key = _scalar_value(key.kind.keys, name)
        except _BadValueError:
            problems.append(Problem(at, "unknown key; remove it (known keys: "
                                    f"{', '.join(_names(key.kind.keys))})"))
            continue
        try:
            value = _scalar_value(key.kind.base, item)
            if _breaks(key.rule, value):
                raise _BadValueError()
        except _BadValueError as refused:
            fix = refused.fix or key.rule.fix or _scalar_fix(key.rule, key.kind.base)
            problems.append(Problem(at, fix, _shown(item, key.rule), key.rule.what))
            continue
        merged[item_key] = value
    return tuple(merged.items())


def _tables(key: _Key, raw: object, where: str, problems: list[Problem]) -> object:
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        problems.append(Problem(where, _fix(key, where), _shown(raw, key.rule), key.rule.what))
        return MISSING
    items = [_build(key.kind.base, item, None, f"{where}[{i}]", problems)
             for i, item in enumerate(raw)]
    if any(item is None for item in items):
        return MISSING
    return tuple(items)


def _scalar_value(base: type, raw: object) -> object:
    """`raw` as a `base`; _BadValueError when it is not one (the key's fix then says what is)."""
    if base is bool:
        if isinstance(raw, bool):
            return raw
    elif base is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
    elif base is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            try:
                number = float(raw)
            except OverflowError:  # an int past float's range
                raise _BadValueError() from None
            if math.isfinite(number):
                return number
    elif issubclass(base, Enum):
        try:
            return base(_text(raw))
        except ValueError:
            pass
    elif issubclass(base, PurePath):
        return base(_text(raw))
    elif base is str:
        return _text(raw)
    raise _BadValueError()


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise _BadValueError()
    if "\x00" in raw:
        raise _BadValueError(_NUL_FIX)
    return raw


def _rule_fix(key: _Key, value: object) -> str | None:
    """The fix when a typed value breaks the key's rule, else None."""
    if value is None:
        return None
    if key.kind.keys is not None:
        items = [item for _, item in typing.cast(tuple[tuple[object, object], ...], value)]
    elif key.kind.many and not is_dataclass(key.kind.base):
        items = list(typing.cast(tuple[object, ...], value))
    else:
        items = [value]
    if any(_breaks(key.rule, item) for item in items):
        return _fix(key, _join("", *key.path))
    return None if key.rule.check is None else key.rule.check(value)


def _breaks(rule: KeyRule, item: object) -> bool:
    """Whether one value is out of the rule's bounds or choices."""
    if isinstance(item, int | float) and not isinstance(item, bool) and not (
            _low(rule) <= item <= _high(rule)):
        return True
    return bool(rule.choices) and item not in rule.choices


def _low(rule: KeyRule) -> float:
    return -math.inf if rule.low is None else rule.low


def _high(rule: KeyRule) -> float:
    return math.inf if rule.high is None else rule.high


def _unknown_keys(tree: Mapping[str, object], document: Mapping[str, object], prefix: str,
                  problems: list[Problem]) -> None:
    for name, raw in document.items():
        where = _join(prefix, _quoted(name))
        node = tree.get(name)
        if node is None:
            problems.append(Problem(where, "unknown key; remove it (known keys: "
                                    f"{', '.join(tree)})"))
        elif isinstance(node, dict):
            if isinstance(raw, Mapping):
                _unknown_keys(node, raw, where, problems)
            else:
                problems.append(Problem(where, f"make it a table: [{where}]", _shown(raw)))
        elif (isinstance(node, _Kind) and node.many and is_dataclass(node.base)
              and isinstance(raw, list)):
            for i, item in enumerate(raw):
                if isinstance(item, Mapping):
                    _unknown_keys(_tree(node.base), item, f"{where}[{i}]", problems)


# --- words ---------------------------------------------------------------------------------

def _fix(key: _Key, where: str) -> str:
    """How to write a good value for `key` (at `where`), made from its type and rule."""
    rule, kind = key.rule, key.kind
    if rule.fix:
        return rule.fix
    if kind.many and is_dataclass(kind.base):
        return f"make it an array of tables [[{where}]] with {', '.join(_tree(kind.base))}"
    if kind.many and issubclass(kind.base, Enum):
        return f"list ids from: {', '.join(_names(kind.base))}"
    if kind.many and kind.base is str:
        return "set a list of texts"
    if kind.many:
        return f"set a list, each item: {_scalar_fix(rule, kind.base).removeprefix('set ')}"
    if kind.keys is not None:
        names = ", ".join(_names(kind.keys)) or "any name"
        return (f"make it a table [{where}] of NAME = "
                f"{_scalar_fix(rule, kind.base).removeprefix('set ')} (names: {names})")
    return _scalar_fix(rule, kind.base)


def _scalar_fix(rule: KeyRule, base: type) -> str:
    choices = rule.choices or tuple(_names(base))
    if choices:
        words = [_shown(c) for c in choices]
        if len(words) == 2:
            return f"set {words[0]} or {words[1]}"
        return f"set one of {', '.join(words)}"
    unit = f" of {rule.unit}" if rule.unit else ""
    if base is bool:
        return "set true or false"
    if base is int:
        bounds = f" {_number(_low(rule))}..{_number(_high(rule))}" if rule.low is not None else ""
        return f"set a whole number{unit}{bounds}"
    if base is float:
        bounds = (f" between {_number(_low(rule))} and {_number(_high(rule))}"
                  if rule.low is not None else "")
        return f"set a number{unit}{bounds}"
    if issubclass(base, PurePath):
        return "set a path"
    return "set a text"


def _names(enum_or_type: type) -> list[str]:
    return [str(m.value) for m in enum_or_type] if issubclass(enum_or_type, Enum) else []


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _shown(value: object, rule: KeyRule = NO_RULE) -> str:
    """A bad value as TOML writes it, short, and never a secret."""
    if rule.secret:
        return "the value (hidden)"
    if rule.redact is not None and isinstance(value, str):
        value = rule.redact(value)
    text = _toml(value, depth=0)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _toml(value: object, depth: int) -> str:
    if depth > 3:
        return "..."
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            digits = str(value)
        except ValueError:  # past Python's limit for int -> str
            return "a number of thousands of digits"
        return digits if len(digits) <= 20 else f"a {len(digits.lstrip('-'))}-digit number"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str | PurePath):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + _joined((f"{_quoted(str(k))} = {_toml(v, depth + 1)}"
                              for k, v in value.items())) + "}"
    if isinstance(value, list | tuple):
        if value and all(is_dataclass(v) for v in value):
            return f"[{len(value)} tables]"
        return "[" + _joined(_toml(v, depth + 1) for v in value) + "]"
    return "a table" if is_dataclass(value) else "a value"


def _joined(parts: Iterable[str]) -> str:
    """Parts joined with commas, stopping once longer than a problem shows."""
    out: list[str] = []
    length = 0
    for part in parts:
        if length > MAX_SHOWN:
            out.append("...")
            break
        out.append(part)
        length += len(part) + 2
    return ", ".join(out)


def _quoted(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def _join(prefix: str, *parts: str) -> str:
    joined = prefix
    for part in parts:
        joined = part if not joined else joined + part if part.startswith("[") \
            else f"{joined}.{part}"
    return joined


def _owned(key: _Key, prefix: str) -> Iterator[str]:
    """The keys in the file that a field holds (a table: each of its own keys)."""
    where = _join(prefix, *key.path)
    if key.kind.table:
        yield from (_join(where, inner) for inner in config_keys(key.kind.base))
    else:
        yield where


def _within(key: str, owned: str) -> bool:
    return key == owned or key.startswith(owned + ".") or key.startswith(owned + "[")


def _at(document: Mapping[str, object], path: tuple[str, ...]) -> object:
    node: object = document
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node
