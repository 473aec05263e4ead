"""ASCII fields (manufacturer name, the "PN" tag), which a DBC cannot describe as text."""

from __future__ import annotations

from .errors import FrameDecodeError, SignalEncodeError

_PRINTABLE = range(0x20, 0x7F)


def decode_ascii(field: bytes, *, arbitration_id: int, signal: str) -> str | None:
    """The text of a space- or zero-padded field; None when the field is all padding."""
    text = field.rstrip(b" \x00")
    if not text:
        return None
    if any(byte not in _PRINTABLE for byte in text):
        raise FrameDecodeError(arbitration_id, f"{signal} is not printable ASCII: {field.hex(' ')}")
    return text.decode("ascii")


def encode_ascii(value: object, *, length: int, signal: str) -> bytes:
    """Space-padded to `length` bytes, as Pylontech batteries send "PYLON   "."""
    if not isinstance(value, str):
        raise SignalEncodeError(signal, f"expects text, got {type(value).__name__}")
    raw = value.encode("ascii", errors="replace")
    if any(byte not in _PRINTABLE for byte in raw) or not value.isascii():
        raise SignalEncodeError(signal, f"{value!r} is not printable ASCII")
    if len(raw) > length:
        raise SignalEncodeError(
            signal, f"{value!r} is longer than the {length} bytes the frame holds"
        )
    return raw.ljust(length, b" ")
