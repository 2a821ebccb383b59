"""The daemon's settings: /etc/myna-reader/config.toml, checked whole before anything starts.

The file's schema is DaemonConfig below (daemon/engine/schema.py): its fields, and those of the
tables it holds, are the keys: the display's [ui] (ui/settings.py), the engine's [timeouts],
[staff_mode], [face], [consent], [certificate] and [prescription] (daemon/engine/settings.py),
and the daemon's own, here. systemd/config.toml.example shows every key at its default. Every
problem in the file (a bad value, an unknown key) is reported at once, one line each naming the
key, the value and the fix, in one ConfigError: the daemon refuses to start rather than guess.

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

import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from myna_reader.daemon.engine import (
    NOT_A_KEY,
    ConfigError,
    KeyRule,
    Problem,
    SessionConfig,
    problem_at,
    require_valid,
    seconds,
    setting,
    settings_and_problems,
)
from myna_reader.daemon.link.channel import LinkSecret, LinkSecretError
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
from myna_reader.ui.settings import UiSettings

__all__ = ["ConfigError", "DaemonConfig", "LinkConfig", "Problem", "load_config"]

DEFAULT_CONFIG_PATH = Path("/etc/myna-reader/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/myna-reader")
DEFAULT_LINK_URL = "tcp://127.0.0.1:4730"
DEFAULT_OUTBOX_TTL_S = 86400.0  # a day: a confirmation older than that is of no use at a counter
OUTBOX_TTL_RANGE_S = (60.0, 30 * 86400.0)
LOG_LEVELS = ("debug", "info", "warning", "error")
# the keys `myna-reader run` flags set, as the flags' problems name them
FLAG_KEYS = {"reader": "--reader", "link.url": "--link", "state_dir": "--state-dir",
             "ui.size": "--size"}


def _url_problem(url: str) -> str | None:
    """The link URL's own check (daemon/link/transport.py)."""
    try:
        parse_link_url(url)
    except LinkUrlError as exc:
        return str(exc)
    return None


def _url_as_written(url: str) -> str:
    """A URL in the file or on the command line holds no secret (`ps` shows argv)."""
    refuse_url_secret(url, "URL")
    return url


def _token_problem(token: str) -> str | None:
    try:
        LinkSecret.from_text(token, "link.pairing_token")
    except LinkSecretError:
        return (f"set at least {MIN_TOKEN_CHARS} printable characters, e.g. from "
                "`openssl rand -hex 32`")
    return None


def _reader_problem(spec: str) -> str | None:
    try:
        parse_spec(spec)
    except ReaderSpecError:
        return f"use one of {', '.join(SPEC_FORMS)}"
    return None


def _absolute_problem(path: Path) -> str | None:
    return None if path.is_absolute() else \
        f"set an absolute directory path, e.g. {DEFAULT_STATE_DIR}"


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """The terminal link: where it listens or which serial device, and the outbox's TTL."""

    url: str = setting(DEFAULT_LINK_URL, KeyRule(parse=_url_as_written, check=_url_problem,
                                                 redact=redact_url))
    pairing_token: str | None = setting(None, KeyRule(check=_token_problem, secret=True))
    outbox_ttl_s: float = seconds(DEFAULT_OUTBOX_TTL_S, *OUTBOX_TTL_RANGE_S)

    def __post_init__(self) -> None:
        require_valid(self, self._listener_problems())

    def endpoint(self) -> LinkEndpoint:
        """Where the link runs (daemon/link/transport.py), with the pairing token applied."""
        endpoint = parse_link_url(self.url)
        if isinstance(endpoint, TcpEndpoint) and self.pairing_token is not None:
            return replace(endpoint, token=self.pairing_token)
        return endpoint

    def _listener_problems(self) -> Iterator[Problem]:
        """A tcp:// listener beyond loopback needs the pairing secret."""
        if _url_problem(self.url) is not None:
            return  # the url's own rule names it
        endpoint = self.endpoint()
        if isinstance(endpoint, TcpEndpoint):
            try:
                require_token_for(endpoint)
            except LinkUrlError as exc:
                yield problem_at(self, "url", f"{exc}; or set link.pairing_token")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """The whole of config.toml; `session` holds the engine's tables at the file's top level."""

    reader: str = setting("pcsc", KeyRule(check=_reader_problem))
    state_dir: Path = field(default=DEFAULT_STATE_DIR,
                            metadata=KeyRule(check=_absolute_problem).metadata)
    log_level: str = setting("info", KeyRule(choices=LOG_LEVELS))
    link: LinkConfig = field(default_factory=LinkConfig)
    ui: UiSettings = field(default_factory=UiSettings)
    session: SessionConfig = field(default_factory=SessionConfig,
                                   metadata=KeyRule(key="").metadata)
    # the file read, None for built-in defaults
    source: Path | None = field(default=None, metadata=NOT_A_KEY.metadata)

    def __post_init__(self) -> None:
        require_valid(self)

    def with_overrides(self, *, reader: str | None = None, link: str | None = None,
                       link_secret: LinkSecret | None = None,
                       state_dir: str | Path | None = None,
                       size: str | None = None) -> DaemonConfig:
        """The config with `myna-reader run` flags (and MYNA_LINK_SECRET, as `link_secret`)
        applied, checked like the file's keys; a problem names the flag."""
        link_table = {"url": link, "pairing_token": None if link_secret is None
                      else link_secret.text()}
        document = {"reader": reader, "state_dir": None if state_dir is None else str(state_dir),
                    "link": {k: v for k, v in link_table.items() if v is not None},
                    "ui": {} if size is None else {"size": size}}
        config, problems = settings_and_problems(
            DaemonConfig, {k: v for k, v in document.items() if v is not None}, self)
        if problems:
            raise ConfigError(replace(p, key=FLAG_KEYS.get(p.key, p.key)) for p in problems)
        return config


def load_config(path: Path | None = None) -> DaemonConfig:
    """The config at `path`, or at /etc/myna-reader/config.toml when None.

    A missing file at the default path means the defaults; a path given explicitly must exist.
    ConfigError lists every problem of the file.
    """
    document = read_config_document(path)
    if document is None:
        return DaemonConfig()
    config, problems = check_config_document(document, path or DEFAULT_CONFIG_PATH)
    if problems:
        raise ConfigError(problems)
    return config


def check_config_document(document: Mapping[str, object], source: Path
                          ) -> tuple[DaemonConfig, tuple[Problem, ...]]:
    """The config of a parsed file, with its bad keys left at their defaults, and every
    problem (none: the file is good). Doctor runs its other checks on that config."""
    config, problems = settings_and_problems(DaemonConfig, document)
    if config.link.pairing_token is not None and _readable_by_all(source):
        problems += (Problem("link.pairing_token", f"{source} holds the link's pairing secret "
                             f"and every user can read it: chmod 0640 {source} "
                             "(root:myna-reader)"),)
    return replace(config, source=source), problems


def config_from_mapping(raw: Mapping[str, object]) -> DaemonConfig:
    """DaemonConfig from a parsed TOML document; ConfigError lists every problem."""
    config, problems = settings_and_problems(DaemonConfig, raw)
    if problems:
        raise ConfigError(problems)
    return config


def _readable_by_all(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:  # it was just read: gone since then is nothing to protect
        return False


def _file_error(target: Path, fix: str) -> ConfigError:
    return ConfigError([Problem(str(target), fix)])


def read_config_document(path: Path | None = None) -> dict[str, object] | None:
    """The parsed TOML at `path` (default /etc/myna-reader/config.toml), not yet validated;
    None when the default file is absent. ConfigError when it cannot be read or parsed."""
    target = path or DEFAULT_CONFIG_PATH
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        if path is None:
            return None
        raise _file_error(target, "no such file; give the path of an existing config file "
                          f"(or omit --config to use {DEFAULT_CONFIG_PATH})") from None
    except PermissionError as exc:
        raise _file_error(target, f"cannot read it ({exc.strerror}); check its permissions: "
                          "the daemon's user must be able to read it") from None
    except OSError as exc:  # EIO: the storage under the file, not its permissions
        raise _file_error(target, f"cannot read it ({exc.strerror}); check the storage "
                          "(the kernel log names the device) and restore the file") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _file_error(target, "save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise _file_error(target, f"TOML syntax error ({exc}); fix the syntax") from None
    except ValueError:  # an integer past Python's 4300 digits for int()
        raise _file_error(target, "a number has thousands of digits; shorten it") from None
    except RecursionError:  # arrays or tables nested deeper than tomllib's stack
        raise _file_error(target, "values nested too deeply; flatten them") from None
