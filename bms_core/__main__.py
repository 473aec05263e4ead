"""Command line: ``python -m bms_core {analyze,simulate,can} ...`` (also installed as ``bms-core``).

- ``analyze FILE.csv[.gz] --rated-capacity-ah 100`` prints the analysis report as JSON.
- ``simulate --days 30 --out FILE.csv.gz`` writes a synthetic history and FILE.truth.json.
- ``can ...`` decodes Pylontech CAN logs (see ``bms_core.can.cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bms_core.analyzer import Analyzer
from bms_core.csv_io import iter_csv, write_csv
from bms_core.simulate import simulate_history

can_cli: ModuleType | None
try:
    from bms_core.can import cli as can_cli
except ModuleNotFoundError as error:
    # The CAN commands are built separately from the analytics; without them (a checkout
    # where bms_core.can is absent) analyze and simulate must still work. Any other missing
    # module is a real error.
    if error.name not in ("bms_core.can", "bms_core.can.cli"):
        raise
    can_cli = None

# Numeric options of ``analyze``: flag -> (AnalysisOptions field, type, help).
ANALYZE_OPTIONS: dict[str, tuple[str, type, str]] = {
    "--series-cells": ("series_cells", int, "cells in series (needed without cell_<k>_v columns)"),
    "--chemistry": ("chemistry", str, "LFP (default) or NMC: voltage limits and OCV curve"),
    "--current-sign": (
        "current_sign",
        int,
        "1 (default): positive current_a is charging; -1: positive is discharging",
    ),
    "--current-accuracy-pct": (
        "current_accuracy_pct",
        float,
        "declared current-sensor gain accuracy, %% of reading (default 1)",
    ),
    "--min-cell-v": ("min_cell_v", float, "deep-discharge limit per cell (default 2.5)"),
    "--max-cell-v": ("max_cell_v", float, "overvoltage limit per cell (default 3.65)"),
    "--low-temp-c": ("low_temp_c", float, "low temperature boundary (default 0)"),
    "--high-temp-c": ("high_temp_c", float, "high temperature boundary (default 45)"),
    "--gap-limit-s": ("gap_limit_s", float, "longer intervals are gaps (default 300)"),
    "--dead-band-a": ("dead_band_a", float, "current counted as zero (default 1 %% of C)"),
    "--full-cell-v": ("full_cell_v", float, "charge voltage of a full charge (default 3.45)"),
    "--tail-current-a": (
        "tail_current_a",
        float,
        "tapered current of a full charge (default C/20)",
    ),
    "--rest-min-s": ("rest_min_s", float, "rest needed to read a relaxed voltage (default 1800)"),
    "--empty-cell-v": ("empty_cell_v", float, "cut-off voltage under light load (default 2.9)"),
    "--capacity-min-delta-soc-pct": (
        "capacity_min_delta_soc_pct",
        float,
        "least SOC difference of an anchor pair (default 50)",
    ),
}


def _add_analyze(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse a history CSV (plain or .gz) and print the report as JSON",
        description="Analyse a battery history; see docs/analytics.md for the report.",
    )
    parser.add_argument("file", type=Path, help="history CSV, plain or gzip")
    parser.add_argument("--rated-capacity-ah", type=float, required=True)
    for flag, (_, kind, help_text) in ANALYZE_OPTIONS.items():
        parser.add_argument(flag, type=kind, help=help_text)
    parser.add_argument(
        "--state-in", type=Path, help="continue from a state saved by --state-out (options too)"
    )
    parser.add_argument("--state-out", type=Path, help="save the analysis state as JSON")
    parser.add_argument("--indent", type=int, default=2, help="JSON indentation (0: one line)")
    parser.set_defaults(func=_run_analyze)


def _run_analyze(args: argparse.Namespace) -> int:
    if args.state_in is not None:
        analyzer = Analyzer.from_state(json.loads(args.state_in.read_text()))
    else:
        options: dict[str, Any] = {
            field: getattr(args, flag[2:].replace("-", "_"))
            for flag, (field, _, _) in ANALYZE_OPTIONS.items()
            if getattr(args, flag[2:].replace("-", "_")) is not None
        }
        analyzer = Analyzer(rated_capacity_ah=args.rated_capacity_ah, **options)
    # Chunk by chunk: memory stays bounded by the chunk, whatever the file's size.
    for chunk in iter_csv(args.file):
        analyzer.feed(chunk)
    if args.state_out is not None:
        args.state_out.write_text(json.dumps(analyzer.to_state()))
    json.dump(analyzer.report(), sys.stdout, indent=args.indent or None, allow_nan=False)
    sys.stdout.write("\n")
    return 0


def truth_path(out: Path) -> Path:
    """FILE.csv.gz / FILE.csv -> FILE.truth.json."""
    name = out.name
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return out.with_name(name + ".truth.json")


# Decimals written per column: the simulated sensors' resolution.
SIMULATED_DECIMALS = {"current_a": 1, "voltage_v": 2, "temperature_c": 1, "soc_pct": 0}


def _add_simulate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="write a synthetic 16s LFP home-storage history and its ground truth",
        description="Simulate a battery history; the truth goes to FILE.truth.json beside it.",
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.csv.gz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-s", type=float, default=10.0, help="sampling interval (1 or 10)")
    parser.add_argument("--start", default="2024-01-08T00:00:00Z", help="first day (ISO 8601)")
    parser.add_argument("--capacity-ah", type=float, default=100.0)
    parser.add_argument("--cells", type=int, default=16)
    parser.add_argument("--healthy", action="store_true", help="no weak cell and no abuse events")
    parser.set_defaults(func=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    columns, truth = simulate_history(
        args.days,
        args.seed,
        sample_s=args.sample_s,
        cells=args.cells,
        capacity_ah=args.capacity_ah,
        start=args.start,
        weak_cell=None if args.healthy else "random",
        harmful_events=not args.healthy,
    )
    decimals = dict(SIMULATED_DECIMALS)
    for k in range(1, args.cells + 1):
        decimals[f"cell_{k}_v"] = 3
        decimals[f"cell_{k}_temp_c"] = 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(args.out, columns, decimals=decimals)
    truth_file = truth_path(args.out)
    truth_file.write_text(json.dumps(truth, indent=2))
    summary = {
        "out": str(args.out),
        "truth": str(truth_file),
        "samples": truth["samples"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bms_core", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_analyze(subparsers)
    _add_simulate(subparsers)
    if can_cli is not None:
        can_cli.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as error:
        print(f"bms_core {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
