"""Analytics benchmark (``make bench``): a year of 1 Hz data and the rainflow speed-up.

1. A year of 1 Hz samples from a 16-cell pack (31.5 M samples, 16 cell voltages and 16 cell
   temperatures, float32) analysed by the incremental Analyzer one day at a time, as the
   service runs it. The year is built by tiling a simulated March week (every kind of
   anchor, full charges, cold mornings) with timestamps shifted and fresh current-sensor
   noise per day, so that generating it stays cheap; only the ``feed`` and ``report`` calls
   are timed. Target: under 10 s on one core.
2. Rainflow counting of 1 M points: ``bms_core.rainflow.extract_cycles`` against the
   ``rainflow`` package on the same series (the cycles must be identical). Target: 20x.
3. Memory of a history file analysed in chunks (``python -m bms_core analyze``): peak RSS of
   the process for files of one and of six days at 1 Hz (16 cells), to show that it does
   not grow with the file.

Figures go to ``--out`` (default var/bench/analytics.json) and are printed.
"""

from __future__ import annotations

import os

# One core: no BLAS or OpenMP thread pools (set before numpy is imported).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# Run as a script (``python tests/benchmarks/bench_analytics.py``), the checkout is not on the
# path by itself.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bms_core import Analyzer  # noqa: E402
from bms_core.csv_io import CHUNK_ROWS  # noqa: E402
from bms_core.rainflow import extract_cycles  # noqa: E402
from bms_core.simulate import SimulationSettings, iter_days  # noqa: E402

DAY_S = 86400.0
YEAR_TARGET_S = 10.0
SAMPLES_PER_S_TARGET = 3_150_000
RAINFLOW_TARGET = 20.0


def rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def template_week(seed: int) -> list[dict[str, np.ndarray]]:
    settings = SimulationSettings(days=7, seed=seed, sample_s=1.0, start="2024-03-18T00:00:00Z")
    week = []
    for day in iter_days(settings):
        week.append({k: (v if k == "timestamp" else v.astype(np.float32)) for k, v in day.items()})
    return week


def year_days(week: list[dict[str, np.ndarray]], days: int, seed: int):
    """Day after day of a tiled week: shifted timestamps and fresh current noise (0.05 A)."""
    rng = np.random.default_rng(seed)
    for d in range(days):
        template = week[d % len(week)]
        day = dict(template)
        day["timestamp"] = template["timestamp"] + (d - d % len(week)) * DAY_S
        noise = rng.standard_normal(template["current_a"].size, dtype=np.float32)
        day["current_a"] = template["current_a"] + np.float32(0.05) * noise
        yield day


def bench_year(days: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    week = template_week(seed)
    generation_s = time.perf_counter() - started
    rss_before = rss_mb()
    analyzer = Analyzer(rated_capacity_ah=100.0)
    wall = cpu = 0.0
    samples = 0
    slowest_day = 0.0
    for day in year_days(week, days, seed):
        t0, c0 = time.perf_counter(), time.process_time()
        analyzer.feed(day)
        elapsed = time.perf_counter() - t0
        wall += elapsed
        cpu += time.process_time() - c0
        slowest_day = max(slowest_day, elapsed)
        samples += day["timestamp"].size
    t0, c0 = time.perf_counter(), time.process_time()
    report = analyzer.report()
    report_s = time.perf_counter() - t0
    wall += report_s
    cpu += time.process_time() - c0
    state_bytes = len(json.dumps(analyzer.to_state()))

    # The analysis's own working memory for one day's batch, traced separately (tracing
    # slows allocation, so not during the timed run).
    traced = Analyzer(rated_capacity_ah=100.0)
    tracemalloc.start()
    for day in year_days(week, 3, seed):
        traced.feed(day)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    columns = len(week[0])
    return {
        "days": days,
        "samples": samples,
        "columns": columns,
        "sample_interval_s": 1.0,
        "batch": "one UTC day (86400 rows) per feed()",
        "input_dtype": "float32 (timestamps float64)",
        "template_generation_s": round(generation_s, 2),
        "analysis_wall_s": round(wall, 3),
        "analysis_cpu_s": round(cpu, 3),
        "report_s": round(report_s, 4),
        "slowest_day_s": round(slowest_day, 4),
        "mean_day_ms": round(1000.0 * wall / days, 2),
        "samples_per_s": round(samples / wall),
        "target_s": YEAR_TARGET_S,
        # The analysis is single-threaded, so its CPU time is its time on one core; the wall
        # time also counts whatever else the machine was running (see the load average).
        "meets_target": cpu < YEAR_TARGET_S,
        "meets_target_wall_clock": wall < YEAR_TARGET_S,
        "peak_rss_mb": round(rss_mb(), 1),
        "rss_before_analysis_mb": round(rss_before, 1),
        "one_day_batch_traced_peak_mb": round(traced_peak / 2**20, 1),
        "state_json_kb": round(state_bytes / 1024, 1),
        "samples_per_s_cpu": round(samples / cpu),
        "target_samples_per_s": SAMPLES_PER_S_TARGET,
        "meets_samples_per_s_target": samples / cpu >= SAMPLES_PER_S_TARGET,
        "report_excerpt": {
            "equivalent_full_cycles": report["equivalent_full_cycles"],
            "capacity_ah": report["capacity_ah"],
            "capacity_interval_ah": report["capacity_interval_ah"],
            "capacity_trend": report["capacity_trend"],
            "resistance_25c_pack_mohm": report["resistance_25c_mohm"]["pack_mohm"],
            "power_capability_discharge_w": report["power_capability_w"]["discharge_w"],
            "round_trip_efficiency_pct": report["round_trip_efficiency"]["pct"],
            "usable_energy_kwh": report["usable_energy_kwh"]["kwh"],
            "deep_discharge_events": report["deep_discharge_events"],
            "alerts": sorted({a["kind"] for a in report["alerts"]}),
        },
    }


def bench_file_memory(seed: int) -> dict[str, object]:
    """Peak RSS of ``bms_core.analyze_file`` on 1-day and 6-day 1 Hz CSV files."""
    from bms_core import write_csv

    week = template_week(seed)
    results: dict[str, object] = {"chunk_rows": CHUNK_ROWS, "files": []}
    with tempfile.TemporaryDirectory() as directory:
        for days in (1, 6):
            path = Path(directory) / f"h{days}.csv"
            parts = list(year_days(week, days, seed))
            columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            write_csv(path, columns, timestamps="unix")
            # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork and exec, so a child of
            # this (large) process would report the parent's peak.
            code = (
                "import sys, bms_core\n"
                "bms_core.analyze_file(sys.argv[1], rated_capacity_ah=100.0)\n"
                "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
                "print(status.split()[0])\n"
            )
            started = time.perf_counter()
            output = subprocess.run(
                [sys.executable, "-c", code, str(path)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            results["files"].append(  # type: ignore[union-attr]
                {
                    "days": days,
                    "rows": int(columns["timestamp"].size),
                    "csv_mb": round(path.stat().st_size / 2**20, 1),
                    "peak_rss_mb": round(int(output.split()[-1]) / 1024.0, 1),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
    return results


def _best(function, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_rainflow(points: int, seed: int) -> dict[str, object]:
    import rainflow

    rng = np.random.default_rng(seed)
    series = {
        "random_walk": np.cumsum(rng.standard_normal(points)),
        "white_noise": rng.standard_normal(points),
    }
    results: dict[str, object] = {"points": points, "target_speedup": RAINFLOW_TARGET}
    for name, x in series.items():
        ours = extract_cycles(x)
        theirs = list(rainflow.extract_cycles(x))
        identical = sorted(ours.as_tuples()) == sorted(theirs)
        reference_s = _best(lambda x=x: list(rainflow.extract_cycles(x)), 2)
        ours_s = _best(lambda x=x: extract_cycles(x), 5)
        results[name] = {
            "cycles": len(theirs),
            "identical_to_rainflow_package": identical,
            "rainflow_package_s": round(reference_s, 4),
            "bms_core_s": round(ours_s, 4),
            "speedup": round(reference_s / ours_s, 1),
        }
    results["meets_target"] = all(
        results[name]["speedup"] >= RAINFLOW_TARGET
        and results[name]["identical_to_rainflow_package"]  # type: ignore[index]
        for name in series
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "analytics.json")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rainflow-points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    figures = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        },
        "rainflow": bench_rainflow(args.rainflow_points, args.seed),
        "year_1hz": bench_year(args.days, args.seed),
        "file_memory": bench_file_memory(args.seed),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
