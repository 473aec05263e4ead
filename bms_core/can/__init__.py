"""The Pylontech low-voltage CAN protocol: frame codec (on our own DBC) and a sample reader.

    decode_message(msg)            -> dict of signals, None for frames that are not Pylontech's
    encode_message(id, signals)    -> can.Message (11-bit id, 8 bytes)
    encode_frames(state)           -> the battery's 1 s burst as can.Messages
    read_log(path)                 -> samples (column -> numpy array) from a candump/ASC/BLF/TRC/CSV log
    collect(bus, duration_s=..., max_samples=...) -> samples from a live python-can bus

See docs/can.md for the frame table, signal names and the sample-grouping rule.
"""

from .codec import (
    SignalValue,
    decode_message,
    encode_frames,
    encode_message,
    frame_signals,
)
from .database import pylontech_database
from .errors import FrameDecodeError, SignalEncodeError
from .ids import BATTERY_SEND_ORDER, FrameId, format_id
from .reader import (
    CycleAssembler,
    collect,
    iter_bus_samples,
    iter_samples,
    open_log,
    read_log,
)
from .samples import BASE_COLUMNS, CELL_COLUMNS, ReaderStats, Sample, SampleTable, write_csv

__all__ = [
    "BASE_COLUMNS",
    "BATTERY_SEND_ORDER",
    "CELL_COLUMNS",
    "CycleAssembler",
    "FrameDecodeError",
    "FrameId",
    "ReaderStats",
    "Sample",
    "SampleTable",
    "SignalEncodeError",
    "SignalValue",
    "collect",
    "decode_message",
    "encode_frames",
    "encode_message",
    "format_id",
    "frame_signals",
    "iter_bus_samples",
    "iter_samples",
    "open_log",
    "pylontech_database",
    "read_log",
    "write_csv",
]
