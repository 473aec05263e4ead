"""Exceptions of the CAN codec, all ValueErrors so callers can treat bad input uniformly."""

from __future__ import annotations


class FrameDecodeError(ValueError):
    """A frame with a known Pylontech id whose payload cannot be decoded."""

    def __init__(self, arbitration_id: int, reason: str) -> None:
        self.arbitration_id = arbitration_id
        self.reason = reason
        super().__init__(f"frame 0x{arbitration_id:03X}: {reason}")


class SignalEncodeError(ValueError):
    """A signal value that cannot be put on the wire (out of range, wrong type, unknown name)."""

    def __init__(self, signal: str, reason: str) -> None:
        self.signal = signal
        self.reason = reason
        super().__init__(f"{signal}: {reason}")
