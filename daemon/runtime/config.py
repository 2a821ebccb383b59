"""The daemon's settings: /etc/myna-reader/config.toml, validated before anything starts.

Every key is optional; see systemd/config.toml.example for each one and its default. A bad
value, an unknown key or a TOML syntax error is a ConfigError that names the key, the bad
value and the fix: the daemon refuses to start rather than guess. Tables owned by other parts
are parsed by their own code: `[ui]` by ui/settings.py, `[timeouts]`, `[staff_mode]`,
`[face]` and `[consent]` by daemon/engine/settings.py; their errors are re-raised here with
the bad value added.

    reader = "pcsc"                       # a reader spec (drivers/readers.py)
    state_dir = "/var/lib/myna-reader"
    log_level = "info"                    # debug | info | warning | error
    [link]
    url = "tcp://127.0.0.1:4730"          # daemon/link/transport.py: tcp://HOST:PORT (the
                                          # reader listens) | serial:///dev/DEVICE[?baudrate=N]
    pairing_token = "..."                 # the pairing secret of a tcp:// link (the file is
                                          # then 0640 root:myna-reader); required beyond loopback
    outbox_ttl_s = 86400                  # undelivered results expire after this long

The pairing secret of a tcp:// link comes from `--link-secret-file`, else MYNA_LINK_SECRET,
else `link.pairing_token`; a loopback listener with none of them uses the one the reader made
in its state directory (daemon/link/channel.py). It never comes from a URL.
"""

from __future__ import annotations

import json
import math
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from myna_reader.daemon.engine import SessionConfig, SessionConfigError, session_config_from_mapping
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.link.channel import LinkSecret
from myna_reader.daemon.link.transport import (
    MIN_TOKEN_CHARS,
    LinkEndpoint,
    LinkUrlError,
    TcpEndpoint,
    parse_link_url,
    redact_url,
    refuse_url_secret,
    require_token_for,
)
from myna_reader.drivers.readers import SPEC_FORMS, ReaderSpecError, parse_spec

if TYPE_CHECKING:
    from myna_reader.ui.settings import UiSettings

DEFAULT_CONFIG_PATH = Path("/etc/myna-reader/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/myna-reader")
DEFAULT_LINK_URL = "tcp://127.0.0.1:4730"
DEFAULT_OUTBOX_TTL_S = 86400.0  # a day: a confirmation older than that is of no use at a counter
OUTBOX_TTL_RANGE_S = (60.0, 30 * 86400.0)
LOG_LEVELS = ("debug", "info", "warning", "error")

TOP_KEYS = ("reader", "state_dir", "log_level", "link", "ui",
            "timeouts", "staff_mode", "face", "consent")
LINK_KEYS = ("url", "pairing_token", "outbox_ttl_s")
SECRET_KEYS = frozenset({"link.pairing_token"})
_NO_VALUE = object()
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # TOML keys that need no quotes


class ConfigError(DaemonError, ValueError):
    """A config value the daemon will not run with: the key, the value and the fix."""

    def __init__(self, key: str, fix: str, value: object = _NO_VALUE,
                 problem: str = "is not accepted") -> None:
        self.key = key
        self.fix = fix
        shown = "" if value is _NO_VALUE else f"{_show(key, value)} {problem}; "
        super().__init__(f"{key}: {shown}{fix}")


def _show(key: str, value: object) -> str:
    """The bad value as it would read in TOML, short, and never a secret."""
    if key in SECRET_KEYS:
        return "the value (hidden)"
    if isinstance(value, str):
        value = redact_url(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # inf/nan floats
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """The terminal link: where it listens or which serial device, and the outbox's TTL."""

    url: str = DEFAULT_LINK_URL
    pairing_token: str | None = field(default=None, repr=False)
    outbox_ttl_s: float = DEFAULT_OUTBOX_TTL_S

    def endpoint(self) -> LinkEndpoint:
        """Where the link runs (daemon/link/transport.py), with the pairing token applied."""
        endpoint = parse_link_url(self.url)
        if isinstance(endpoint, TcpEndpoint) and self.pairing_token is not None:
            return replace(endpoint, token=self.pairing_token)
        return endpoint


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    reader: str = "pcsc"
    link: LinkConfig = field(default_factory=LinkConfig)
    state_dir: Path = DEFAULT_STATE_DIR
    log_level: str = "info"
    ui: UiSettings = field(default_factory=lambda: _ui_settings({}))
    session: SessionConfig = field(default_factory=SessionConfig)
    source: Path | None = None  # the file read, None for built-in defaults

    def with_overrides(self, *, reader: str | None = None, link: str | None = None,
                       link_secret: LinkSecret | None = None,
                       state_dir: str | Path | None = None,
                       size: str | None = None) -> DaemonConfig:
        """The config with `myna-reader run` flags (and MYNA_LINK_SECRET, as `link_secret`)
        applied, checked like the file's keys."""
        config = self
        if reader is not None:
            config = replace(config, reader=_reader(reader, "--reader"))
        if link is not None or link_secret is not None:
            token = self.link.pairing_token if link_secret is None else link_secret.text()
            config = replace(config, link=_link_config(
                {"url": link or self.link.url, "pairing_token": token,
                 "outbox_ttl_s": self.link.outbox_ttl_s},
                url_key="--link" if link is not None else "link.url"))
        if state_dir is not None:
            config = replace(config, state_dir=_state_dir(str(state_dir), "--state-dir"))
        if size is not None:
            config = replace(config, ui=replace(config.ui, size=_size(size, "--size")))
        return config


def load_config(path: Path | None = None) -> DaemonConfig:
    """The config at `path`, or at /etc/myna-reader/config.toml when None.

    A missing file at the default path means the defaults; a path given explicitly must exist.
    """
    document = read_config_document(path)
    if document is None:
        return DaemonConfig()
    source = path or DEFAULT_CONFIG_PATH
    config = replace(config_from_mapping(document), source=source)
    if config.link.pairing_token is not None and _readable_by_all(source):
        raise ConfigError("link.pairing_token", f"{source} holds the link's pairing secret and "
                          f"every user can read it: chmod 0640 {source} (root:myna-reader)")
    return config


def _readable_by_all(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:  # it was just read: gone since then is nothing to protect
        return False


def read_config_document(path: Path | None = None) -> dict[str, object] | None:
    """The parsed TOML at `path` (default /etc/myna-reader/config.toml), not yet validated;
    None when the default file is absent. Doctor validates it key by key (runtime/checks.py)."""
    target = path or DEFAULT_CONFIG_PATH
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        if path is None:
            return None
        raise ConfigError(str(target), "no such file; give the path of an existing config "
                          f"file (or omit --config to use {DEFAULT_CONFIG_PATH})") from None
    except OSError as exc:
        raise ConfigError(str(target), f"cannot read it ({exc.strerror}); check its "
                          "permissions: the daemon's user must be able to read it") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(target), "save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(target), f"TOML syntax error ({exc}); fix the syntax") from None
    except RecursionError:  # arrays or tables nested deeper than tomllib's stack
        raise ConfigError(str(target), "values nested too deeply; flatten them") from None
    return raw


def config_from_mapping(raw: Mapping[str, object]) -> DaemonConfig:
    """DaemonConfig from a parsed TOML document (see the module docstring for the keys)."""
    _reject_unknown(raw, "", TOP_KEYS)
    link_raw = raw.get("link", {})
    if not isinstance(link_raw, Mapping):
        raise ConfigError("link", "make it a table: [link]", link_raw)
    _reject_unknown(link_raw, "link.", LINK_KEYS)
    ui_raw = raw.get("ui", {})
    if not isinstance(ui_raw, Mapping):
        raise ConfigError("ui", "make it a table: [ui]", ui_raw)
    try:
        session = session_config_from_mapping(raw)
    except SessionConfigError as exc:
        raise _from_session_error(exc, raw) from None
    return DaemonConfig(
        reader=_reader(raw.get("reader", "pcsc"), "reader"),
        link=_link_config(link_raw, url_key="link.url"),
        state_dir=_state_dir(raw.get("state_dir", str(DEFAULT_STATE_DIR)), "state_dir"),
        log_level=_log_level(raw.get("log_level", "info")),
        ui=_ui_settings(ui_raw),
        session=session,
    )


def _from_session_error(exc: SessionConfigError, raw: Mapping[str, object]) -> ConfigError:
    """Another part's key error, with the bad value added (an unknown key has none)."""
    if exc.fix.startswith("unknown key"):
        return ConfigError(exc.key, exc.fix)
    return ConfigError(exc.key, exc.fix, _lookup(raw, exc.key))


def _lookup(raw: Mapping[str, object], dotted: str) -> object:
    """The value at a dotted key such as `consent.pages[1].items`, or no value."""
    node: object = raw
    for part in dotted.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _NO_VALUE
    return node


def _reject_unknown(table: Mapping[str, object], prefix: str, known: tuple[str, ...]) -> None:
    for name in table:
        if name not in known:
            shown = name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)
            raise ConfigError(f"{prefix}{shown}",
                              f"unknown key; remove it (known keys: {', '.join(known)})")


def _text(value: object, key: str, fix: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, fix, value)
    return value


def _reader(value: object, key: str) -> str:
    fix = f"use one of {', '.join(SPEC_FORMS)}"
    try:
        return str(parse_spec(_text(value, key, fix)))
    except ReaderSpecError:
        raise ConfigError(key, fix, value) from None


def _state_dir(value: object, key: str) -> Path:
    text = _text(value, key, "set an absolute directory path")
    if not text.startswith("/"):
        raise ConfigError(key, f"set an absolute directory path, e.g. {DEFAULT_STATE_DIR}",
                          value)
    return Path(text)


def _log_level(value: object) -> str:
    if value not in LOG_LEVELS:
        raise ConfigError("log_level", f"use one of {', '.join(LOG_LEVELS)}", value)
    return str(value)


def _link_config(raw: Mapping[str, object], url_key: str) -> LinkConfig:
    url = _text(raw.get("url", DEFAULT_LINK_URL), url_key,
                "write tcp://HOST:PORT or serial:///dev/DEVICE")
    token = raw.get("pairing_token")
    if token is not None:
        token = _text(token, "link.pairing_token", "set a text")
        if len(token) < MIN_TOKEN_CHARS or not token.isprintable() or token != token.strip():
            raise ConfigError("link.pairing_token",
                              f"set at least {MIN_TOKEN_CHARS} printable characters without "
                              "spaces at the ends, e.g. from `openssl rand -hex 16`")
    ttl = raw.get("outbox_ttl_s", DEFAULT_OUTBOX_TTL_S)
    low, high = OUTBOX_TTL_RANGE_S
    if (isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl)
            or not low <= ttl <= high):
        raise ConfigError("link.outbox_ttl_s",
                          f"set a number of seconds between {low:g} and {high:g}", ttl)
    link = LinkConfig(url, token, float(ttl))
    try:
        refuse_url_secret(url, url_key)
        endpoint = link.endpoint()
    except LinkUrlError as exc:
        raise ConfigError(url_key, str(exc), url) from None
    if isinstance(endpoint, TcpEndpoint):
        try:
            require_token_for(endpoint)
        except LinkUrlError as exc:
            raise ConfigError(url_key, f"{exc}; or set link.pairing_token", url) from None
    return link


def _size(value: object, key: str) -> tuple[int, int]:
    from myna_reader.ui.layout import SIZES

    names = [f"{w}x{h}" for w, h in SIZES]
    if not isinstance(value, str) or value.strip().lower() not in names:
        raise ConfigError(key, f"use one of {', '.join(names)}", value,
                          problem="is not a supported size")
    return SIZES[names.index(value.strip().lower())]


def _ui_settings(raw: Mapping[str, object]) -> UiSettings:
    # the UI owns its table; imported here so config errors need no display stack
    from myna_reader.ui.settings import ui_settings_from_mapping

    if "size" in raw:
        _size(raw["size"], "ui.size")
    try:
        return ui_settings_from_mapping(raw)
    except SessionConfigError as exc:
        raise _from_session_error(exc, {"ui": raw}) from None
