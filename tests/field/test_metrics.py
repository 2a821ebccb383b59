"""Fleet metrics: the node_exporter textfile of a real daemon run (the simulated tour through
the real engine, link and screens) and the audit-derived set of `myna-reader metrics`, parsed
back with prometheus_client's own parser; no personal data and no free text in any label."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from myna_reader.daemon.engine import AuditEvent, AuditOutcome, AuditRecord, Method, Mode
from myna_reader.daemon.store.audit import AuditLog
from tests.support.repo import REPO

FINGERPRINT = "c0ffee00aa11bb22"  # what an audit line carries and a metric must not


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_from_the_audit_log(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path)
    for outcome, code in ((AuditOutcome.CONFIRMED, None), (AuditOutcome.CONFIRMED, None),
                          (AuditOutcome.ERROR, "109"), (AuditOutcome.TIMEOUT, None)):
        audit.append(AuditRecord(AuditEvent.CONFIRMATION, Mode.UNATTENDED, outcome, "session-a",
                                 Method.PIN, FINGERPRINT, code))
    audit.append(AuditRecord(AuditEvent.STAFF_ENTER, Mode.STAFF, AuditOutcome.ENTERED))
    audit.append(AuditRecord(AuditEvent.STAFF_LOCKOUT, Mode.STAFF, AuditOutcome.LOCKED))
    with audit.path.open("a") as f:  # a damaged line and a foreign value are not labels
        f.write('{"event": "confirmation", "method": "Taro Yamada", "outcome": "x"}\n{broken\n')
    done = subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "metrics",
                           "--state-dir", str(tmp_path), "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=True)
    got = samples(done.stdout)
    pin = "myna_reader_confirmations_total"
    assert got[(pin, (("method", "pin"), ("outcome", "confirmed")))] == 2
    assert got[(pin, (("method", "pin"), ("outcome", "error")))] == 1
    assert got[(pin, (("method", "pin"), ("outcome", "timeout")))] == 1
    assert got[(pin, (("method", "other"), ("outcome", "other")))] == 1
    assert got[("myna_reader_errors_total", (("code", "109"),))] == 1
    assert got[("myna_reader_staff_entries_total", ())] == 1
    assert got[("myna_reader_staff_lockouts_total", ())] == 1
    assert got[("myna_reader_release_info", (("version", "none"),))] == 1
    for text in (FINGERPRINT, "session-a", "Taro", "Yamada"):
        assert text not in done.stdout


def test_the_daemon_writes_the_textfile(tmp_path: Path) -> None:
    """`run --simulate`: a staff and a PIN confirmation, each timed from the screens."""
    textfile = tmp_path / "metrics" / "myna-reader.prom"
    textfile.parent.mkdir()
    env = {**os.environ, "MYNA_METRICS_TEXTFILE": str(textfile), "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "run", "--simulate",
                           "--screenshots", str(tmp_path / "tour")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert oct(textfile.stat().st_mode & 0o777) == "0o644"  # node_exporter's user reads it
    text = textfile.read_text()
    got = samples(text)
    confirmed = {labels: value for (name, labels), value in got.items()
                 if name == "myna_reader_confirmations_total"}
    assert sum(confirmed.values()) == 2, confirmed
    assert got[("myna_reader_card_read_seconds_count", ())] == 2
    assert got[("myna_reader_confirmation_seconds_count", ())] == 2
    assert 0 < got[("myna_reader_confirmation_seconds_sum", ())] < 300
    assert ("myna_reader_link_up", ()) in got
    labels = {value for (_, pairs) in got for key, value in pairs if key != "le"}
    closed = {m.value for m in Method} | {o.value for o in AuditOutcome} | {
        "other", "none", "up", "down"}
    assert labels <= closed, labels - closed


def test_the_dashboard_asks_only_for_metrics_the_reader_writes(tmp_path: Path) -> None:
    import json
    import re

    from myna_reader.daemon.runtime.metrics import FleetMetrics
    from myna_reader.daemon.update.install import Layout

    dashboard = json.loads((REPO / "docs"
                            / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    wanted = {name for expr in exprs for name in re.findall(r"myna_reader_[a-z_]+", expr)}
    metrics = FleetMetrics()
    metrics.card_read.observe(1.0)  # a histogram writes its buckets once it has a value
    metrics.link(True)
    metrics.audit_line({"event": "confirmation", "method": "pin", "outcome": "error",
                        "code": "109"})
    metrics.audit_line({"event": "update", "outcome": "installed"})
    metrics.update_state(Layout(tmp_path))
    written = {s.name for family in text_string_to_metric_families(
        metrics.exposition().decode()) for s in family.samples}
    assert wanted and wanted <= written, wanted - written
