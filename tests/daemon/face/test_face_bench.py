"""`myna-reader bench face` runs the product's face attempt end to end on the simulated card and
reports every stage. Figures are not asserted (speed belongs to the bench, not to tests): the
test checks that the attempt decided (the bench raises otherwise) and the report is whole."""

from __future__ import annotations

from myna_reader.daemon.cli import main
from myna_reader.daemon.harness.face_bench import face_figures

STAGES = {"total_s", "card_io_s", "ocr_s", "ocr_frames", "chip_photo_s", "live_s",
          "live_frames", "cpu_ms_per_ocr_frame", "cpu_ms_per_live_frame",
          "wall_ms_per_live_frame"}


def test_the_face_bench_reports_every_stage() -> None:
    figures = face_figures(runs=1)
    medians = figures["median"]
    assert isinstance(medians, dict)
    assert set(medians) == STAGES
    assert medians["ocr_frames"] >= 2  # two agreeing card reads before the one VERIFY
    assert 7 <= medians["live_frames"] <= 14  # baseline, the asked turn, back: in the clip
    assert all(value > 0 for value in medians.values())


def test_the_cli_refuses_zero_runs() -> None:
    assert main(["bench", "face", "--runs", "0"]) == 2
