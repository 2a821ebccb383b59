"""config.toml: every bad value names its key, the value and the fix, all of them at once;
nothing else escapes. (The schema's mechanics: tests/daemon/runtime/test_config_schema.py.)"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna_reader.daemon.engine import StaffScope, config_keys
from myna_reader.daemon.link.transport import SerialEndpoint, TcpEndpoint
from myna_reader.daemon.runtime.checks import check_config, config_checks
from myna_reader.daemon.runtime.config import (
    ConfigError,
    DaemonConfig,
    LinkConfig,
    load_config,
)
from tests.support.repo import REPO

EXAMPLE = REPO / "systemd" / "config.toml.example"
TOKEN = "0123456789abcdef"


def load_text(tmp_path: Path, text: str) -> DaemonConfig:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o640)  # as install.sh leaves it: a config may hold the link's pairing secret
    return load_config(path)


@pytest.mark.parametrize(("text", "message"), [
    ('[ui]\nsize = "800x400"\n',
     'ui.size: "800x400" is not a supported size; use one of 800x480, 1024x600, 720x1280'),
    ('reader = "usb"\n', 'reader: "usb" is not accepted; use one of pcsc, '),
    ('log_level = "loud"\n',
     'log_level: "loud" is not accepted; set one of "debug", "info", "warning", "error"'),
    ('state_dir = "state"\n', 'state_dir: "state" is not accepted; set an absolute directory'),
    ('[link]\nurl = "http://x"\n', 'link.url: "http://x" is not accepted; http://x: use tcp://'),
    ('[link]\nurl = "tcp://0.0.0.0:4730"\n',
     'link.url: "tcp://0.0.0.0:4730" is not accepted; tcp://0.0.0.0:4730 listens beyond this '
     'machine'),
    ('[link]\nurl = "tcp://0.0.0.0:4730?token=0123456789abcdef"\n',
     'link.url: "tcp://0.0.0.0:4730?token=<hidden>" is not accepted; URL: '),
    ('[link]\noutbox_ttl_s = 5\n',
     "link.outbox_ttl_s: 5 is not accepted; set a number of seconds between 60 and 2592000"),
    ('[link]\nhost = "x"\n', "link.host: unknown key; remove it (known keys: url, pairing_token"),
    ("colour = 1\n", "colour: unknown key; remove it (known keys: reader, state_dir"),
    ("link = 3\n", "link: 3 is not accepted; make it a table: [link]"),
    ("[timeouts]\npin_s = 0\n", "timeouts.pin_s: 0 is not accepted; set a number of seconds"),
    ("[timeouts]\npin = 3\n",
     "timeouts.pin: unknown key; remove it (known keys: method_s, pin_s"),
    ('[staff_mode]\nscope = "forever"\n',
     'staff_mode.scope: "forever" is not accepted; set "one" or "until-cancel"'),
    ("[staff_mode]\nlockout_failures = 99\n",
     "staff_mode.lockout_failures: 99 is not accepted; set a whole number 1..20"),
    ('[face]\navailable = "yes"\n', 'face.available: "yes" is not accepted; set true or false'),
    ('[[consent.pages]]\nid = "a"\nitems = ["gossip"]\n',
     'consent.pages[0].items: ["gossip"] is not accepted; list ids from: limit-application, '),
    ('[consent.validity_h]\ndiagnosis = 0\n',
     "consent.validity_h.diagnosis: 0 is not accepted; set a number of hours between 1 and "),
    ("[certificate]\ngrace_months = 13\n",
     "certificate.grace_months: 13 is not accepted; set a whole number of months 0..12"),
    ('[prescription]\nask = "yes"\n',
     'prescription.ask: "yes" is not accepted; set true or false'),
    ('[ui]\nkeypad = "big"\n', 'ui.keypad: "big" is not accepted; set "standard" or "tactile"'),
    ("[ui]\nrotation = 90\n", "ui.rotation: 90 is not accepted; set 0 or 180"),
    ("[ui]\nvolume = 101\n", "ui.volume: 101 is not accepted; set a whole number 0..100"),
    ('[ui]\nlanguage = "fr"\n', 'ui.language: "fr" is not accepted; set "ja" or "en"'),
])
def test_each_bad_value_names_key_value_and_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert len(caught.value.problems) == 1
    assert str(caught.value).startswith(message)


def test_a_short_pairing_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, '[link]\npairing_token = "hunter2"\n')
    assert [p.key for p in caught.value.problems] == ["link.pairing_token"]
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value.problems)
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, '[link]\nurl = "tcp://0.0.0.0:4730?token=hunter2"\n')
    assert [p.key for p in caught.value.problems] == ["link.url"]
    assert "hunter2" not in str(caught.value)


def test_a_pairing_secret_in_a_file_every_user_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[link]\npairing_token = "{TOKEN}"\nurl = "tcp://192.0.2.10:4730"\n')
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"^link\.pairing_token: .* chmod 0640") as caught:
        load_config(path)
    assert TOKEN not in str(caught.value)


def test_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, 'reader = "pcsc"\nreader = \n')
    assert str(caught.value).startswith(f"{tmp_path / 'config.toml'}: TOML syntax error")
    assert "line 2" in str(caught.value)
    assert len(caught.value.problems) == 1


def test_a_number_of_thousands_of_digits_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:  # tomllib's int() refuses it with ValueError
        load_text(tmp_path, "[timeouts]\npin_s = " + "9" * 5000 + "\n")
    assert str(caught.value).endswith("a number has thousands of digits; shorten it")


FIVE_BAD = f"""
reader = "usb"
log_level = "loud"
colour = "red"
[ui]
volume = 500
[timeouts]
pin_s = nan
[link]
url = "tcp://192.0.2.10:4730"
pairing_token = "{TOKEN}"
"""


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, FIVE_BAD)
    keys = [p.key for p in caught.value.problems]
    assert sorted(keys) == ["colour", "log_level", "reader", "timeouts.pin_s", "ui.volume"]
    lines = str(caught.value).splitlines()
    assert lines == [str(p) for p in caught.value.problems]
    assert lines[keys.index("reader")].startswith('reader: "usb" is not accepted; use one of ')
    assert lines[keys.index("timeouts.pin_s")] == (
        "timeouts.pin_s: nan is not accepted; set a number of seconds between 1 and 3600")


def test_the_config_check_gives_one_failing_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'state_dir = "{tmp_path}"\n' + FIVE_BAD, encoding="utf-8")
    path.chmod(0o640)
    checks, config = config_checks(path)
    assert [c.ok for c in checks] == [False] * 5
    assert all(c.fix.startswith(f"edit {path} ") for c in checks)
    # the keys that were right are kept for the other checks, the bad ones are the defaults
    assert (config.link.pairing_token, config.state_dir) == (TOKEN, tmp_path)
    assert (config.ui.volume, config.reader, config.log_level) == (80, "pcsc", "info")
    one, _ = check_config(path)
    assert not one.ok
    assert one.detail.startswith("5 problems: ")

def test_an_explicit_path_must_exist_the_default_may_be_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_a_full_config_loads(tmp_path: Path) -> None:
    config = load_text(tmp_path, f"""
reader = "nfc:tty:AMA0:pn532"
state_dir = "/srv/reader"
log_level = "debug"
[link]
url = "tcp://192.0.2.10:4730"
pairing_token = "{TOKEN}"
outbox_ttl_s = 3600
[ui]
size = "720x1280"
rotation = 180
facility_name = "みなと薬局"
[staff_mode]
scope = "until-cancel"
""")
    assert config.reader == "nfc:tty:AMA0:pn532"
    assert config.state_dir == Path("/srv/reader")
    assert config.link == LinkConfig("tcp://192.0.2.10:4730", TOKEN, 3600.0)
    assert config.link.endpoint() == TcpEndpoint("192.0.2.10", 4730, TOKEN)
    assert (config.ui.size, config.ui.rotation) == ((720, 1280), 180)
    assert config.session.staff.scope is StaffScope.UNTIL_CANCEL
    assert config.source == tmp_path / "config.toml"
    assert TOKEN not in repr(config)


def test_run_flags_override_and_are_checked_like_keys() -> None:
    base = DaemonConfig()
    config = base.with_overrides(reader="sim:standard", link="serial:/dev/ttyGS0",
                                 state_dir="/tmp/state", size="1024x600")
    assert (config.reader, config.link.url, config.state_dir, config.ui.size) == (
        "sim:standard", "serial:/dev/ttyGS0", Path("/tmp/state"), (1024, 600))
    assert config.link.endpoint() == SerialEndpoint("/dev/ttyGS0")
    assert base.with_overrides() == base
    with pytest.raises(ConfigError, match=r'^--size: "800x400" is not a supported size'):
        base.with_overrides(size="800x400")
    with pytest.raises(ConfigError, match=r"^--link: .* listens beyond this machine"):
        base.with_overrides(link="tcp://0.0.0.0:4730")
    with pytest.raises(ConfigError) as caught:  # every bad flag at once
        base.with_overrides(reader="usb", state_dir="relative", size="1x1")
    assert [p.key for p in caught.value.problems] == ["--reader", "--state-dir", "--size"]


def uncomment_settings(text: str) -> str:
    """The example with every `#key = value` and `#[table]` line made live."""
    return "\n".join(line[1:] if re.match(r"#[\[a-z]", line) else line
                     for line in text.splitlines())


def test_the_example_documents_every_key_at_its_default(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    live = uncomment_settings(text).replace('pairing_token = "..."', f'pairing_token = "{TOKEN}"')
    config = load_text(tmp_path, live)
    defaults = DaemonConfig(link=LinkConfig(pairing_token=TOKEN), source=config.source)
    assert config == defaults
    assert load_text(tmp_path, text) == DaemonConfig(source=config.source)  # as shipped


def test_the_example_shows_every_key_of_the_schema() -> None:
    """A setting someone adds to a dataclass is a key; the example must show it."""
    text = EXAMPLE.read_text(encoding="utf-8")
    tables = set(re.findall(r"^#\s?\[+([a-z_.]+)\]+", text, re.MULTILINE))
    missing = []
    for key in config_keys(DaemonConfig):
        table, _, name = key.replace("[]", "").rpartition(".")
        if name == "validity_h":  # a table of item = hours
            shown = f"[{key}]" in text
        else:
            shown = bool(re.search(rf"^#\s?{re.escape(name)} =", text, re.MULTILINE)) and (
                not table or table in tables)
        if not shown:
            missing.append(key)
    assert missing == []


# --- fuzz: any TOML document gives a config or a ConfigError, never another exception ---

def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


KNOWN_NAMES = ["reader", "state_dir", "log_level", "link", "ui", "timeouts", "staff_mode",
               "face", "consent", "url", "pairing_token", "outbox_ttl_s", "size", "rotation",
               "language", "volume", "voice", "fonts", "pages", "id", "items", "pin_s",
               "scope", "available", "lockout_s", "facility_name", "voice_dir"]
KNOWN_TEXTS = ["pcsc", "sim:standard", "tcp://0.0.0.0:1", "tcp://127.0.0.1:4730",
               "serial:/dev/ttyGS0", "800x480", "ja", "one", "diagnosis", "/var/lib/x", TOKEN]
names = st.sampled_from(KNOWN_NAMES) | st.text(max_size=8)
scalars = (st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
           | st.sampled_from(KNOWN_TEXTS) | st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(names, inner, max_size=4), max_leaves=12)


def load_or_error(path: Path) -> DaemonConfig | ConfigError:
    """The config, or the ConfigError; any other exception fails the test."""
    try:
        return load_config(path)
    except ConfigError as exc:
        return exc


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, values, max_size=6))
def test_fuzzed_documents_load_or_raise_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                     document: dict[str, object]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_text("\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in document.items()),
                    encoding="utf-8")
    result = load_or_error(path)
    assert isinstance(result, DaemonConfig) or all(p.key and p.fix for p in result.problems)
    assert isinstance(result, DaemonConfig) or "Error" not in str(result)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_load_or_raise_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                 data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config.toml"
    path.write_bytes(data)
    result = load_or_error(path)
    assert isinstance(result, DaemonConfig) or all(p.key and p.fix for p in result.problems)


def test_a_float_rotation_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^ui\.rotation: "):
        load_text(tmp_path, "[ui]\nrotation = 0.0\n")
