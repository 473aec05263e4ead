"""The history format: validation errors name the column and the reason; CSV round trips."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from bms_core.columns import format_time, parse_timestamps, validate
from bms_core.csv_io import read_csv, write_csv


def _history(n: int = 50) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    columns = {
        "timestamp": 1_700_000_000.0 + 10.0 * np.arange(n),
        "current_a": np.round(rng.normal(0, 20, n), 2),
        "voltage_v": np.round(52 + rng.normal(0, 0.3, n), 2),
        "temperature_c": np.round(20 + rng.normal(0, 1, n), 1),
        "soc_pct": np.round(np.linspace(40, 60, n)),
    }
    for k in range(1, 5):
        columns[f"cell_{k}_v"] = np.round(3.3 + rng.normal(0, 0.01, n), 3)
        columns[f"cell_{k}_temp_c"] = np.round(20 + rng.normal(0, 1, n), 1)
    return columns


@pytest.mark.parametrize("timestamps", ["iso", "unix"])
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_csv_round_trip(tmp_path: Path, timestamps: str, suffix: str) -> None:
    columns = _history()
    path = tmp_path / f"history{suffix}"
    write_csv(path, columns, timestamps=timestamps)
    if suffix.endswith(".gz"):
        assert gzip.open(path, "rt").readline().startswith("timestamp,current_a")
    back = read_csv(path)
    assert list(back) == list(columns)
    for name, values in columns.items():
        np.testing.assert_allclose(back[name], values, rtol=0, atol=1e-9, err_msg=name)


def test_csv_with_fractional_iso_times_and_offsets(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "timestamp,current_a,voltage_v\n"
        "2024-03-01T12:00:00.250Z,1,52\n"
        "2024-03-01 13:00:01+01:00,2,52\n"  # the same day 12:00:01 UTC, space separator
        "2024-03-01T12:00:02-00:30,3,52\n"
    )
    columns = read_csv(path)
    expected = parse_timestamps(["2024-03-01T12:00:00.25"]) + np.array([0.0, 0.75, 1800 + 1.75])
    np.testing.assert_allclose(columns["timestamp"], expected)
    assert format_time(columns["timestamp"][0]) == "2024-03-01T12:00:00.250Z"


def test_empty_optional_fields_become_nan(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("timestamp,current_a,voltage_v,temperature_c\n0,1,52,20\n10,1,52,\n")
    columns = read_csv(path)
    assert np.isnan(columns["temperature_c"][1])
    validate(columns)  # optional columns may have holes


def test_csv_reports_the_column_of_a_bad_number(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("timestamp,current_a,voltage_v\n0,1,52\n10,abc,52\n")
    with pytest.raises(ValueError, match="column 'current_a'"):
        read_csv(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.pop("voltage_v"), "column 'voltage_v': required column is missing"),
        (lambda c: c["timestamp"].__setitem__(3, c["timestamp"][1]), "rows out of order: row 3"),
        (lambda c: c["current_a"].__setitem__(7, np.nan), "column 'current_a': NaN .* row 7"),
        (
            lambda c: c["cell_2_v"].__setitem__(4, np.inf),
            "column 'cell_2_v': infinite value at row 4",
        ),
        (lambda c: c.pop("cell_3_v"), "column 'cell_3_v': missing"),
        (lambda c: c.__setitem__("soc_pct", c["soc_pct"][:-1]), "column 'soc_pct': has 49 rows"),
        (
            lambda c: c.__setitem__(
                "timestamp", np.array(["2024-01-01T00:00:00Z", "yesterday"] * 25)
            ),
            "column 'timestamp': not an ISO 8601 time .* row 1",
        ),
    ],
)
def test_validation_names_column_and_reason(mutate, message: str) -> None:
    columns = _history()
    mutate(columns)
    with pytest.raises(ValueError, match=message):
        validate(columns)


def test_timestamps_in_every_accepted_form_agree() -> None:
    iso = parse_timestamps(np.array(["2024-01-01T00:00:10Z", "2024-01-01T01:00:10+01:00"]))
    unix = parse_timestamps(np.array([1704067210, 1704067210]))
    datetimes = parse_timestamps(np.array(["2024-01-01T00:00:10"] * 2, dtype="datetime64[s]"))
    numeric_text = parse_timestamps(np.array(["1704067210", "1704067210.0"]))
    for parsed in (iso, unix, datetimes, numeric_text):
        np.testing.assert_array_equal(parsed, [1704067210.0, 1704067210.0])
