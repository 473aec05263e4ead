"""`python -m bms_core can ...`: decode CAN logs, turn them into analytics samples, collect live.

    can decode LOGFILE                 one JSON object per frame
    can samples LOGFILE [--out CSV]    samples in the analytics CSV format
    can collect --interface socketcan --channel can0 (--duration S | --max-samples N) [--out CSV]

`register(subparsers)` plugs the `can` command into the top-level CLI; each subcommand stores its
handler as `func` (Namespace -> exit code). `main(argv)` runs the command on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import can

from .codec import decode_message
from .errors import FrameDecodeError
from .ids import format_id
from .reader import DEFAULT_CYCLE_GAP_S, DEFAULT_STALE_AFTER_S, collect, open_log, read_log
from .samples import SampleTable, write_csv

EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_BITRATE = 500_000
DESCRIPTION = "Pylontech CAN: decode logs, extract samples, collect from a bus"


def frame_record(msg: can.Message) -> dict[str, object]:
    """The JSON object `can decode` prints for one frame."""
    record: dict[str, object] = {
        "timestamp": msg.timestamp,
        "arbitration_id": format_id(msg.arbitration_id),
    }
    try:
        signals = decode_message(msg)
    except FrameDecodeError as error:
        record.update(error=error.reason, data=bytes(msg.data).hex())
        return record
    if signals is None:
        # Kept in the output so a decode of a shared bus shows everything that was on it.
        record.update(ignored="not a Pylontech frame", data=bytes(msg.data).hex())
    else:
        record.update(signals)
    return record


def _reports_errors(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A missing file or an unreadable log is a usage problem: one line on stderr, exit 2."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (OSError, ValueError, can.CanError) as error:
            print(f"can {args.can_command}: {error}", file=sys.stderr)
            return EXIT_USAGE

    return run


@_reports_errors
def _run_decode(args: argparse.Namespace) -> int:
    malformed = 0
    with open_log(args.logfile) as reader, _stdout_closed_quietly():
        for msg in reader:
            record = frame_record(msg)
            malformed += "error" in record
            sys.stdout.write(json.dumps(record) + "\n")
    if malformed:
        print(f"{args.logfile}: {malformed} malformed frames", file=sys.stderr)
    return EXIT_OK


@_reports_errors
def _run_samples(args: argparse.Namespace) -> int:
    table = read_log(args.logfile, cycle_gap_s=args.cycle_gap, stale_after_s=args.stale_after)
    _write_table(table, args.out)
    print(f"{args.logfile}: {table.stats.summary()}", file=sys.stderr)
    return EXIT_OK


@_reports_errors
def _run_collect(args: argparse.Namespace) -> int:
    if args.duration is None and args.max_samples is None:
        print("can collect: give --duration or --max-samples", file=sys.stderr)
        return EXIT_USAGE
    with can.Bus(interface=args.interface, channel=args.channel, bitrate=args.bitrate) as bus:
        table = collect(
            bus,
            duration_s=args.duration,
            max_samples=args.max_samples,
            cycle_gap_s=args.cycle_gap,
            stale_after_s=args.stale_after,
        )
    _write_table(table, args.out)
    print(f"{args.interface}:{args.channel}: {table.stats.summary()}", file=sys.stderr)
    return EXIT_OK


def _write_table(table: SampleTable, out: Path | None) -> None:
    if out is None:
        with _stdout_closed_quietly():
            write_csv(table, sys.stdout)
        return
    with out.open("w", newline="", encoding="utf-8") as file:
        write_csv(table, file)


@contextlib.contextmanager
def _stdout_closed_quietly() -> Iterator[TextIO]:
    """`... | head` closes the pipe early; that is the reader's choice, not an error."""
    try:
        yield sys.stdout
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _add_grouping_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cycle-gap",
        type=float,
        default=DEFAULT_CYCLE_GAP_S,
        metavar="S",
        help="quiet time that ends a broadcast cycle (default %(default)s s)",
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        default=DEFAULT_STALE_AFTER_S,
        metavar="S",
        help="oldest SOC / cell values a sample may carry (default %(default)s s)",
    )


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `can` command to a top-level argparse CLI."""
    can_parser = subparsers.add_parser("can", help=DESCRIPTION, description=DESCRIPTION)
    commands = can_parser.add_subparsers(dest="can_command", required=True, metavar="COMMAND")

    decode = commands.add_parser(
        "decode",
        help="print one JSON object per frame of a CAN log (candump .log, ASC, BLF, TRC, CSV)",
    )
    decode.add_argument("logfile", type=Path)
    decode.set_defaults(func=_run_decode)

    samples = commands.add_parser("samples", help="write the samples of a CAN log as analytics CSV")
    samples.add_argument("logfile", type=Path)
    samples.add_argument("--out", type=Path, help="CSV file to write (default: stdout)")
    _add_grouping_options(samples)
    samples.set_defaults(func=_run_samples)

    live = commands.add_parser(
        "collect", help="collect samples from a live CAN bus as analytics CSV"
    )
    live.add_argument("--interface", required=True, help="python-can interface, e.g. socketcan")
    live.add_argument("--channel", required=True, help="e.g. can0")
    live.add_argument("--bitrate", type=int, default=DEFAULT_BITRATE)
    live.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    live.add_argument("--max-samples", type=int, metavar="N", help="stop after N samples")
    live.add_argument("--out", type=Path, help="CSV file to write (default: stdout)")
    _add_grouping_options(live)
    live.set_defaults(func=_run_collect)
    return can_parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bms_core.can.cli", description=DESCRIPTION)
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
