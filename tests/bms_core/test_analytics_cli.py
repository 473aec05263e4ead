"""The command line, run as users run it: ``python -m bms_core`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bms_core import analyze, read_csv, write_csv

pytestmark = pytest.mark.slow  # subprocesses

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bms_core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "pack.csv.gz"
    result = run("simulate", "--days", "3", "--out", str(out), "--seed", "4")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["out"] == str(out)
    return out


def test_simulate_writes_history_and_truth(simulated: Path) -> None:
    truth = json.loads(simulated.with_name("pack.truth.json").read_text())
    columns = read_csv(simulated)
    assert truth["samples"] == columns["timestamp"].size > 3 * 8000
    assert [f"cell_{k}_v" for k in range(1, 17)] == [
        n for n in columns if n.endswith("_v") and n.startswith("cell_")
    ]
    assert 1 <= truth["weak_cell"] <= 16
    for key in ("capacity_ah", "resistance_mohm_25c", "throughput", "events", "current_offset_a"):
        assert key in truth


def test_analyze_prints_the_report_as_json(simulated: Path) -> None:
    result = run("analyze", str(simulated), "--rated-capacity-ah", "100", "--indent", "0")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = analyze(read_csv(simulated), rated_capacity_ah=100)
    assert report == json.loads(json.dumps(expected))
    assert report["samples"] > 0 and "alerts" in report


def test_analyze_continues_from_a_saved_state(simulated: Path, tmp_path: Path) -> None:
    columns = read_csv(simulated)
    half = columns["timestamp"].size // 2
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(
        first, {k: v[:half] for k, v in columns.items()}, timestamps="unix", default_decimals=6
    )
    write_csv(
        second, {k: v[half:] for k, v in columns.items()}, timestamps="unix", default_decimals=6
    )
    state = tmp_path / "state.json"
    step1 = run("analyze", str(first), "--rated-capacity-ah", "100", "--state-out", str(state))
    assert step1.returncode == 0, step1.stderr
    step2 = run("analyze", str(second), "--rated-capacity-ah", "100", "--state-in", str(state))
    assert step2.returncode == 0, step2.stderr
    whole = analyze(read_csv(simulated), rated_capacity_ah=100)
    report = json.loads(step2.stdout)
    assert report["samples"] == whole["samples"]
    assert report["deep_discharge_events"] == whole["deep_discharge_events"]
    assert report["charge_throughput_ah"] == pytest.approx(whole["charge_throughput_ah"], rel=1e-6)


def test_analyze_reports_bad_input_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,current_a\n0,1\n10,2\n")
    result = run("analyze", str(path), "--rated-capacity-ah", "100")
    assert result.returncode == 2
    assert "column 'voltage_v': required column is missing" in result.stderr
    assert result.stdout == ""


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("analyze", "simulate", "can"):
        assert command in result.stdout


def test_truth_path_beside_the_history() -> None:
    from bms_core.__main__ import truth_path

    assert truth_path(Path("d/x.csv.gz")) == Path("d/x.truth.json")
    assert truth_path(Path("x.csv")) == Path("x.truth.json")
