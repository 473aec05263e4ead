"""manage.py import_telemetry: CSV(.gz) and CAN logs through the same service as the API."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import can
import numpy as np
import pytest
from django.core.management import CommandError, call_command

import bms_core
from bms_core.can import encode_frames
from telemetry.models import Batch
from telemetry.selectors import sample_columns
from tests.telemetry.conftest import make_samples

T0 = datetime(2026, 3, 20, 8, 0, tzinfo=UTC).timestamp()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_telemetry", *args, stdout=out)
    return out.getvalue()


def test_csv_gz_in_batches_and_again_stores_nothing(battery, tmp_path: Path, settings) -> None:
    settings.TELEMETRY_MAX_BATCH_ROWS = 40
    path = tmp_path / "history.csv.gz"
    columns = make_samples(100, cells=16, iso=False)
    bms_core.write_csv(path, {k: np.asarray(v) for k, v in columns.items()}, timestamps="unix")
    output = run(battery.identifier, str(path))
    assert "100 samples stored" in output
    assert Batch.objects.filter(battery=battery, device=None).count() == 3
    stored = sample_columns(battery_id=battery.pk)
    assert stored["timestamp"].size == 100
    assert "cell_16_v" in stored
    assert "0 samples stored" in run(battery.identifier, str(path))
    assert Batch.objects.count() == 3


def test_can_log_through_bms_core_reader(battery, tmp_path: Path) -> None:
    path = tmp_path / "pylontech.log"
    with can.Logger(str(path)) as logger:
        for second in range(5):
            state = {
                "charge_voltage_limit_v": 56.8, "charge_current_limit_a": 50.0,
                "discharge_current_limit_a": 100.0, "soc_pct": 60 + second, "soh_pct": 98,
                "voltage_v": 52.0, "current_a": -20.0 + second, "temperature_c": 21.0,
                "module_count": 1, "charge_enable": True, "discharge_enable": True,
                "manufacturer": "PYLON", "min_cell_v": 3.25, "max_cell_v": 3.27,
                "min_cell_temp_c": 20.0, "max_cell_temp_c": 22.0,
            }
            for index, message in enumerate(encode_frames(state)):
                message.timestamp = T0 + second + index * 0.002
                message.channel = "can0"
                logger.on_message_received(message)
    assert "5 samples stored" in run(battery.identifier, str(path))
    stored = sample_columns(battery_id=battery.pk)
    np.testing.assert_allclose(stored["current_a"], [-20, -19, -18, -17, -16])
    np.testing.assert_allclose(stored["max_cell_v"], 3.27)


def test_refusals_are_command_errors_naming_the_problem(battery, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,current_a,voltage_v\n1773993600,1,52\n1773993610,x,52\n")
    with pytest.raises(CommandError, match="current_a"):
        run(battery.identifier, str(bad))
    with pytest.raises(CommandError, match="not found"):
        run("(01)04012345000016(21)NOSUCH", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        run(battery.identifier, str(tmp_path / "missing.csv"))
    assert not Batch.objects.exists()
