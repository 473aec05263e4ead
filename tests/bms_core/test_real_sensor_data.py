"""What real BMS logs do to the analysis: a reversed current sign, another chemistry, dropped
readings, repeated and disordered rows, and the CSV files people actually have."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bms_core import Analyzer, analyze, analyze_file, iter_csv, read_csv, write_csv
from bms_core.columns import validate
from bms_core.simulate import simulate_history

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def fortnight() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    return simulate_history(days=14, seed=4, cells=8, start="2024-02-01T00:00:00Z")


@pytest.fixture(scope="module")
def fortnight_report(fortnight: tuple[dict[str, np.ndarray], dict[str, Any]]) -> dict[str, Any]:
    return analyze(fortnight[0], rated_capacity_ah=100)


# Current sign


def test_a_reversed_current_sign_is_refused_with_the_option_that_fixes_it(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
    fortnight_report: dict[str, Any],
) -> None:
    columns = dict(fortnight[0])
    columns["current_a"] = -columns["current_a"]
    with pytest.raises(ValueError, match=r"column 'current_a'.*reversed.*current_sign=-1"):
        analyze(columns, rated_capacity_ah=100)

    # With the option the report is the one of the right sign.
    report = analyze(columns, rated_capacity_ah=100, current_sign=-1)
    for key in ("charge_throughput_ah", "time_charging_below_low_temp_min", "soc_pct"):
        assert report[key] == pytest.approx(fortnight_report[key]), key
    assert report["anchors"] == fortnight_report["anchors"]
    assert report["current_sign"]["verified"] is True
    assert report["current_sign"]["option"] == -1


def test_the_sign_check_is_refused_before_a_batch_is_analysed(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
) -> None:
    columns = dict(fortnight[0])
    columns["current_a"] = -columns["current_a"]
    analyzer = Analyzer(rated_capacity_ah=100)
    with pytest.raises(ValueError, match="reversed"):
        analyzer.feed(columns)
    assert analyzer.samples == 0  # nothing of the refused batch was analysed


def test_a_right_sign_is_reported_as_verified(fortnight_report: dict[str, Any]) -> None:
    sign = fortnight_report["current_sign"]
    assert sign["verified"] is True and sign["consistent_share"] > 0.95
    assert sign["steps_checked"] >= 20


# Chemistry


@pytest.fixture(scope="module")
def nmc() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    return simulate_history(days=30, seed=1, chemistry="NMC", cells=14)


def test_an_nmc_pack_is_not_analysed_with_lfp_assumptions(
    nmc: tuple[dict[str, np.ndarray], dict[str, Any]],
) -> None:
    with pytest.raises(ValueError, match="does not look like LFP.*chemistry='NMC'"):
        analyze(nmc[0], rated_capacity_ah=100)


def test_an_nmc_pack_with_its_chemistry(nmc: tuple[dict[str, np.ndarray], dict[str, Any]]) -> None:
    columns, truth = nmc
    report = analyze(columns, rated_capacity_ah=100, chemistry="NMC")
    assert report["chemistry"] == "NMC"
    assert report["options"]["max_cell_v"] == 4.25
    assert report["overvoltage_events"] == truth["events"]["overvoltage"]
    assert report["deep_discharge_events"] == truth["events"]["deep_discharge"]
    assert report["soc_pct"] == pytest.approx(truth["soc_pct_end"], abs=3.0)
    low, high = report["capacity_interval_ah"]
    assert low <= truth["capacity_ah"]["pack"] * 1.01 and high >= truth["capacity_ah"]["pack"]
    if report["capacity_ah"] is not None:
        assert report["capacity_ah"] == pytest.approx(truth["capacity_ah"]["pack"], rel=0.03)


def test_an_lfp_pack_declared_nmc_is_refused(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
) -> None:
    with pytest.raises(ValueError, match="does not look like NMC"):
        analyze(fortnight[0], rated_capacity_ah=100, chemistry="NMC")


def test_an_unknown_chemistry_is_refused() -> None:
    with pytest.raises(ValueError, match="chemistry: 'NCA' is not supported"):
        Analyzer(rated_capacity_ah=100, chemistry="NCA")


def test_explicit_voltages_win_over_the_chemistry_defaults() -> None:
    options = Analyzer(rated_capacity_ah=100, chemistry="NMC", max_cell_v=4.3).options
    assert options.max_cell_v == 4.3 and options.full_cell_v == 4.18


# Missing readings, repeated and disordered rows


def test_missing_cell_and_temperature_readings_are_gaps_in_their_column(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
    fortnight_report: dict[str, Any],
) -> None:
    columns = {k: v.copy() for k, v in fortnight[0].items()}
    rng = np.random.default_rng(0)
    n = columns["timestamp"].size
    holes = {"cell_3_v": 40, "cell_5_temp_c": 300, "temperature_c": 25}
    for name, count in holes.items():
        columns[name][rng.choice(n, count, replace=False)] = np.nan
    report = analyze(columns, rated_capacity_ah=100)
    assert report["missing_values"] == holes
    assert report["samples"] == fortnight_report["samples"]
    assert report["anchors"] == fortnight_report["anchors"]
    assert report["deep_discharge_events"] == fortnight_report["deep_discharge_events"]
    assert report["lowest_cell"] == fortnight_report["lowest_cell"]
    assert report["resistance_mohm"]["cells"] == pytest.approx(
        fortnight_report["resistance_mohm"]["cells"], rel=0.05
    )
    json.dumps(report, allow_nan=False)


def test_a_row_with_every_cell_missing_is_kept_and_counted() -> None:
    n = 200
    columns: dict[str, np.ndarray] = {
        "timestamp": 1_700_000_000.0 + 10.0 * np.arange(n),
        "current_a": np.full(n, -20.0),
        "voltage_v": np.full(n, 13.2),
    }
    for k in range(1, 5):
        columns[f"cell_{k}_v"] = np.full(n, 3.3)
        columns[f"cell_{k}_v"][50] = np.nan
    report = analyze(columns, rated_capacity_ah=100)
    assert report["samples"] == n
    assert report["missing_values"] == {f"cell_{k}_v": 1 for k in range(1, 5)}
    state = Analyzer(rated_capacity_ah=100).feed({k: v[:51] for k, v in columns.items()})
    restored = Analyzer.from_state(json.loads(json.dumps(state.to_state())))
    restored.feed({k: v[51:] for k, v in columns.items()})
    assert restored.report()["discharge_throughput_ah"] == pytest.approx(
        report["discharge_throughput_ah"]
    )


def test_identical_repeated_rows_are_dropped_and_counted(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
    fortnight_report: dict[str, Any],
) -> None:
    columns = fortnight[0]
    repeat = np.sort(np.random.default_rng(1).choice(columns["timestamp"].size, 30, replace=False))
    order = np.sort(np.concatenate((np.arange(columns["timestamp"].size), repeat)))
    doubled = {k: v[order] for k, v in columns.items()}
    report = analyze(doubled, rated_capacity_ah=100)
    assert report["duplicate_rows_dropped"] == 30
    assert report["samples"] == fortnight_report["samples"]
    assert report["charge_throughput_ah"] == fortnight_report["charge_throughput_ah"]


def test_a_batch_repeating_the_last_row_of_the_previous_one() -> None:
    columns = _small_history(100)
    analyzer = Analyzer(rated_capacity_ah=100, series_cells=16)
    analyzer.feed({k: v[:60] for k, v in columns.items()})
    analyzer.feed({k: v[59:] for k, v in columns.items()})
    report = analyzer.report()
    assert report["samples"] == 100 and report["duplicate_rows_dropped"] == 1


def test_the_same_time_with_different_values_is_an_error_naming_the_rows() -> None:
    columns = _small_history(20)
    columns["timestamp"][7] = columns["timestamp"][6]
    with pytest.raises(ValueError, match=r"rows 6 and 7 have the same time .* 'current_a'"):
        validate(columns)


def test_out_of_order_rows_are_an_error_naming_them() -> None:
    columns = _small_history(20)
    columns["timestamp"][[9, 10]] = columns["timestamp"][[10, 9]]
    with pytest.raises(ValueError, match=r"rows out of order: row 10 .* before row 9.*Sort"):
        validate(columns)


def _small_history(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    return {
        "timestamp": 1_700_000_000.0 + 10.0 * np.arange(n),
        "current_a": rng.normal(-10.0, 5.0, n),
        "voltage_v": rng.normal(52.8, 0.1, n),
        "temperature_c": np.full(n, 20.0),
    }


# Files


def test_millisecond_timestamps_are_detected(tmp_path: Path) -> None:
    columns = _small_history(50)
    seconds = analyze(columns, rated_capacity_ah=100, series_cells=16)
    columns["timestamp"] = columns["timestamp"] * 1000.0
    assert analyze(columns, rated_capacity_ah=100, series_cells=16)["end"] == seconds["end"]
    path = tmp_path / "ms.csv"
    write_csv(path, columns, timestamps="iso")
    path.write_text(
        "timestamp,current_a,voltage_v,temperature_c\n"
        + "".join(
            f"{t:.0f},{i:.3f},{v:.3f},20\n"
            for t, i, v in zip(
                columns["timestamp"], columns["current_a"], columns["voltage_v"], strict=True
            )
        )
    )
    from_file = analyze_file(path, rated_capacity_ah=100, series_cells=16)
    assert from_file["end"] == seconds["end"] and from_file["samples"] == 50


def test_mixed_seconds_and_milliseconds_are_refused() -> None:
    columns = _small_history(50)
    columns["timestamp"][25:] *= 1000.0
    with pytest.raises(ValueError, match="mixes Unix seconds and milliseconds"):
        validate(columns)


@pytest.mark.parametrize(
    "header",
    [
        '\ufeff"timestamp";"current_a";"voltage_v"',
        "\ufefftimestamp,current_a,voltage_v",
        "timestamp\tcurrent_a\tvoltage_v",
    ],
)
def test_spreadsheet_headers_and_separators(tmp_path: Path, header: str) -> None:
    delimiter = ";" if ";" in header else ("\t" if "\t" in header else ",")
    rows = ["2024-03-01T12:00:00Z", "2024-03-01T12:00:10Z"]
    lines = [header]
    for k, t in enumerate(rows):
        current = f"{-10.5 - k}".replace(".", ",") if delimiter == ";" else f"{-10.5 - k}"
        voltage = "52,8" if delimiter == ";" else "52.8"
        quoted = f'"{t}"' if '"' in header else t
        lines.append(delimiter.join([quoted, current, voltage]))
    path = tmp_path / "h.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    columns = read_csv(path)
    assert list(columns) == ["timestamp", "current_a", "voltage_v"]
    np.testing.assert_allclose(columns["current_a"], [-10.5, -11.5])
    np.testing.assert_allclose(columns["voltage_v"], [52.8, 52.8])


def test_a_truncated_gzip_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.csv.gz"
    write_csv(path, _small_history(5000))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="gzip file is truncated or damaged"):
        analyze_file(path, rated_capacity_ah=100)


def test_a_header_without_rows_is_an_error_not_an_empty_report(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("timestamp,current_a,voltage_v\n")
    with pytest.raises(ValueError, match="a header but no data rows"):
        analyze_file(path, rated_capacity_ah=100)
    with pytest.raises(ValueError, match="no rows"):
        analyze({"timestamp": [], "current_a": [], "voltage_v": []}, rated_capacity_ah=100)


def test_reading_in_chunks_gives_the_one_pass_report(
    tmp_path: Path, fortnight: tuple[dict[str, np.ndarray], dict[str, Any]]
) -> None:
    columns = {k: v[:40_000] for k, v in fortnight[0].items()}
    path = tmp_path / "h.csv.gz"
    write_csv(path, columns, timestamps="unix", default_decimals=6)
    whole = analyze(read_csv(path), rated_capacity_ah=100)
    chunked = analyze_file(path, rated_capacity_ah=100, chunk_rows=7_000)
    assert sum(1 for _ in iter_csv(path, 7_000)) == 6
    assert chunked["samples"] == whole["samples"] == 40_000
    assert chunked["anchors"] == whole["anchors"]
    assert chunked["charge_throughput_ah"] == pytest.approx(whole["charge_throughput_ah"])
    assert gzip.open(path, "rt").readline().startswith("timestamp,")


# Temperature coverage and old states


def test_temperature_coverage_says_how_many_cells_the_probes_cover(
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
) -> None:
    columns = {k: v for k, v in fortnight[0].items() if not k.endswith("_temp_c")}
    for k in (1, 2):
        columns[f"cell_{k}_temp_c"] = fortnight[0][f"cell_{k * 4}_temp_c"]
    coverage = analyze(columns, rated_capacity_ah=100)["temperature_coverage"]
    assert coverage["cells"] == 8 and coverage["cell_probes"] == 2
    assert coverage["cells_covered"] == 2 and coverage["share_covered"] == 0.25
    assert "2 cell probe(s) for 8 cells" in coverage["note"]


def test_a_state_written_by_version_1_still_loads() -> None:
    state = json.loads((DATA / "state_v1_two_days.json").read_text())
    assert state["version"] == 1
    analyzer = Analyzer.from_state(state)
    report = analyzer.report()
    assert report["samples"] == 2880
    assert report["current_sign"]["steps_checked"] == 0
    assert report["chemistry"] == "LFP"


def test_the_command_line_refuses_a_reversed_sign_and_accepts_the_option(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fortnight: tuple[dict[str, np.ndarray], dict[str, Any]],
) -> None:
    from bms_core.__main__ import main

    columns = {k: v[:20_000] for k, v in fortnight[0].items()}
    columns["current_a"] = -columns["current_a"]
    path = tmp_path / "reversed.csv.gz"
    write_csv(path, columns, timestamps="unix", default_decimals=4)
    assert main(["analyze", str(path), "--rated-capacity-ah", "100"]) == 2
    assert "current_sign=-1" in capsys.readouterr().err
    assert main(["analyze", str(path), "--rated-capacity-ah", "100", "--current-sign", "-1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["current_sign"]["option"] == -1 and report["current_sign"]["verified"]
