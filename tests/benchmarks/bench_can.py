"""CAN codec and reader throughput: frames decoded per second, and how long an hour of a battery's
broadcast (candump .log) takes to become samples. Writes its figures as JSON to --out."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import can

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bms_core.can import decode_message, encode_frames, read_log  # noqa: E402

T0 = 1_700_000_000.0
STATE: dict[str, object] = {
    "charge_voltage_limit_v": 56.8,
    "charge_current_limit_a": 50.0,
    "discharge_current_limit_a": 100.0,
    "discharge_voltage_limit_v": 44.8,
    "soc_pct": 80,
    "soh_pct": 97,
    "voltage_v": 53.4,
    "current_a": -12.5,
    "temperature_c": 23.4,
    "module_count": 2,
    "charge_enable": True,
    "discharge_enable": True,
    "manufacturer": "PYLON",
    "min_cell_v": 3.331,
    "max_cell_v": 3.345,
    "min_cell_temp_c": 21.85,
    "max_cell_temp_c": 24.85,
}


def best_of(repeats: int, work: Callable[[], None]) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def bench_decode(bursts: int) -> dict[str, float]:
    frames = encode_frames(STATE) * bursts

    def decode_all() -> None:
        for msg in frames:
            decode_message(msg)

    seconds = best_of(3, decode_all)
    return {
        "frames": len(frames),
        "seconds": round(seconds, 4),
        "frames_per_s": round(len(frames) / seconds),
    }


def bench_read_log(seconds_of_traffic: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "hour.log"
        burst = encode_frames(STATE)
        with can.Logger(path) as logger:
            for second in range(seconds_of_traffic):
                for index, msg in enumerate(burst):
                    msg.timestamp = T0 + second + index * 0.002
                    logger.on_message_received(msg)
        rows = 0

        def read() -> None:
            nonlocal rows
            rows = read_log(path).row_count

        elapsed = best_of(1, read)
    return {
        "log_seconds": seconds_of_traffic,
        "frames": seconds_of_traffic * len(burst),
        "samples": rows,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(rows / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log-seconds", type=int, default=3600)
    args = parser.parse_args()
    figures = {"decode": bench_decode(2000), "read_log_candump": bench_read_log(args.log_seconds)}
    args.out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
