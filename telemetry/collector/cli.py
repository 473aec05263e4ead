"""`python -m telemetry.collector`: collect from a live bus or replay a log into the service.

    python -m telemetry.collector --bus socketcan --channel can0 \\
        --url https://passport.example.com --key "$KEY" --battery BAT-0001
    python -m telemetry.collector --log capture.blf --url ... --key ... --battery ...
    python -m telemetry.collector --spool collector.sqlite3 --status
    python -m telemetry.collector --spool collector.sqlite3 --requeue-dead-letters

The key may come from the environment (`TELEMETRY_DEVICE_KEY`) so that it does not show in the
process list. Exit codes: 0 done (or stopped by SIGTERM / Ctrl-C with everything in the spool),
1 a log replay left dead letters, or the bus failed while reading (what was read is in the
spool), 2 bad arguments or an unreadable log / bus.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import can

from .delivery import Backoff
from .runner import (
    DEFAULT_INTERVAL_S,
    DEFAULT_MAX_BATCH_SAMPLES,
    DEFAULT_TIMEOUT_S,
    Collector,
    CollectorConfig,
)
from .spool import Spool

DEFAULT_SPOOL = "collector-spool.sqlite3"
KEY_ENV = "TELEMETRY_DEVICE_KEY"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m telemetry.collector",
        description="Read a Pylontech battery's CAN frames and deliver the samples to the "
        "battery passport service, spooling them locally while it is unreachable.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--bus", metavar="INTERFACE",
                        help="python-can interface of a live bus (socketcan, pcan, slcan, ...)")
    source.add_argument("--log", type=Path, metavar="FILE",
                        help="replay a candump .log, .asc, .blf, .trc or .csv capture")
    p.add_argument("--channel", help="bus channel (can0, /dev/ttyACM0, ...)")
    p.add_argument("--bitrate", type=int, default=500_000, help="bus bitrate (default 500000)")
    p.add_argument("--url", help="the service's base URL, e.g. https://passport.example.com")
    p.add_argument("--key", default=os.environ.get(KEY_ENV),
                   help=f"the device key (default: ${KEY_ENV})")
    p.add_argument("--battery", help="the battery's identifier in the service")
    p.add_argument("--spool", type=Path, default=Path(DEFAULT_SPOOL),
                   help=f"the local queue, a SQLite file (default {DEFAULT_SPOOL})")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S,
                   help=f"seconds between batches on a live bus (default {DEFAULT_INTERVAL_S:g})")
    p.add_argument("--max-batch", type=int, default=DEFAULT_MAX_BATCH_SAMPLES,
                   help=f"samples per batch at most (default {DEFAULT_MAX_BATCH_SAMPLES})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"seconds to wait for one answer (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--backoff-base", type=float, default=Backoff.base_s,
                   help=f"first retry delay in seconds (default {Backoff.base_s:g})")
    p.add_argument("--backoff-max", type=float, default=Backoff.max_s,
                   help=f"longest retry delay in seconds (default {Backoff.max_s:g})")
    p.add_argument("--status", action="store_true",
                   help="print what the spool holds (JSON) and exit")
    p.add_argument("--requeue-dead-letters", action="store_true",
                   help="put refused batches back in the queue (after fixing the cause) and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log every batch")
    return p


def _spool_command(args: argparse.Namespace) -> int:
    spool = Spool(args.spool)
    try:
        if args.requeue_dead_letters:
            print(json.dumps({"requeued": spool.dead_letters_requeue()}))
        else:
            print(json.dumps({**spool.status().as_dict(), "dead_letter_list": spool.dead_letters()},
                             indent=2))
    finally:
        spool.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.status or args.requeue_dead_letters:
        return _spool_command(args)
    missing = [f"--{name}" for name in ("url", "key", "battery") if not getattr(args, name)]
    if not (args.bus or args.log):
        missing.append("--bus or --log")
    if missing:
        p.print_usage(sys.stderr)
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        config = CollectorConfig(
            url=args.url, key=args.key, battery=args.battery, spool_path=args.spool,
            interval_s=args.interval, max_batch_samples=args.max_batch, timeout_s=args.timeout,
            backoff=Backoff(base_s=args.backoff_base, max_s=args.backoff_max),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    collector = Collector(config)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: collector.stop())

    if args.log:
        if not args.log.is_file():
            print(f"error: {args.log}: no such file", file=sys.stderr)
            return 2
        try:
            collector.run_log(args.log)
        except (OSError, ValueError, can.CanError) as error:
            print(f"error: {args.log}: {error}", file=sys.stderr)
            return 2
        return 1 if collector.spool.status().dead_letters else 0

    try:
        bus = can.Bus(interface=args.bus, channel=args.channel, bitrate=args.bitrate)
    except (OSError, ValueError, ImportError, can.CanError) as error:
        print(f"error: cannot open {args.bus} bus {args.channel}: {error}", file=sys.stderr)
        return 2
    with bus:
        try:
            collector.run_bus(bus)
        except (OSError, can.CanError) as error:
            # The interface went down: what was read is in the spool; a supervisor restarts us.
            print(f"error: {args.bus} bus {args.channel}: {error}", file=sys.stderr)
            return 1
    return 0
