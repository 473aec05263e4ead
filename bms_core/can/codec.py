"""Pylontech frames <-> signal dicts: the DBC does layout and scaling, this module adds what a DBC
cannot express (invalid markers as None, 2-bit alarm states as booleans, ASCII text, short frames,
range errors that name the signal)."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from numbers import Real

import can
from cantools.database.can import Message as DbcMessage
from cantools.database.can import Signal as DbcSignal
from cantools.database.namedsignalvalue import NamedSignalValue

from .database import pylontech_database
from .errors import FrameDecodeError, SignalEncodeError
from .frames import FRAME_RULES, ZERO_MEANS_NOT_PROVIDED, FrameRule, TextField, soc_hr_is_padding
from .ids import BATTERY_SEND_ORDER, FrameId, format_id
from .text import decode_ascii, encode_ascii

SignalValue = float | int | bool | str | None

FRAME_LENGTH = 8
INVALID = "invalid"
_STATE_ON_WIRE = {True: "raised", False: "cleared", None: "not_reported"}
_STATE_FROM_WIRE = {"raised": True, "cleared": False}


class SignalKind(Enum):
    NUMBER = "number"
    FLAG = "flag"
    # 2-bit raised / cleared / not reported (0x35A)
    STATE = "state"


@dataclass(frozen=True)
class SignalSpec:
    name: str
    kind: SignalKind
    first_byte: int
    last_byte: int
    minimum: float
    maximum: float
    unit: str
    scale: float
    offset: float
    # Decimal places the scale and offset can produce; decoded values are rounded to them so that
    # 56.8 V does not come back as 56.800000000000004.
    decimals: int
    has_invalid_marker: bool

    def describe_range(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.minimum:g} .. {self.maximum:g}{unit}"


def _decimals(number: float) -> int:
    exponent = Decimal(str(number)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _spec(signal: DbcSignal) -> SignalSpec:
    choices = {str(name) for name in (signal.choices or {}).values()}
    if "raised" in choices:
        kind = SignalKind.STATE
    elif signal.length == 1:
        kind = SignalKind.FLAG
    else:
        kind = SignalKind.NUMBER
    if signal.byte_order != "little_endian":
        raise ValueError(f"{signal.name}: the protocol is little-endian throughout")
    return SignalSpec(
        name=signal.name,
        kind=kind,
        first_byte=signal.start // 8,
        last_byte=(signal.start + signal.length - 1) // 8,
        minimum=float(signal.minimum if signal.minimum is not None else -math.inf),
        maximum=float(signal.maximum if signal.maximum is not None else math.inf),
        unit=(signal.unit or "").replace("degC", "°C"),
        scale=signal.scale,
        offset=signal.offset,
        decimals=max(_decimals(signal.scale), _decimals(signal.offset)),
        has_invalid_marker=INVALID in choices,
    )


@dataclass(frozen=True)
class FrameCodec:
    """Encoder and decoder of one frame id."""

    frame_id: FrameId
    message: DbcMessage
    rule: FrameRule
    signals: tuple[SignalSpec, ...]

    @property
    def signal_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.signals) + tuple(
            text.name for text in self.rule.text_fields
        )

    # -- decoding -------------------------------------------------------------------------------

    def decode(self, data: bytes) -> dict[str, SignalValue]:
        if self.rule.opaque:
            return {}
        # decode() is decode_simple() for a message that is not a container (these frames are
        # not), but is typed to return a container's result too.
        wire = self.message.decode_simple(data, decode_choices=True, allow_truncated=True)
        missing = [
            spec
            for spec in self.signals
            if spec.name not in wire and spec.name not in self.rule.optional_signals
        ]
        if missing:
            needed = max(spec.last_byte for spec in missing) + 1
            names = ", ".join(spec.name for spec in missing)
            raise FrameDecodeError(
                self.frame_id, f"{len(data)} data bytes, but {names} need {needed}"
            )
        decoded: dict[str, SignalValue] = {}
        for spec in self.signals:
            if spec.name in wire:
                decoded[spec.name] = _from_wire(spec, wire[spec.name])
        for text in self.rule.text_fields:
            if len(data) > text.start:
                field = data[text.start : text.start + text.length]
                decoded[text.name] = decode_ascii(
                    field, arbitration_id=self.frame_id, signal=text.name
                )
            elif not text.optional:
                raise FrameDecodeError(self.frame_id, f"no data bytes for {text.name}")
        _drop_padding(decoded)
        return decoded

    # -- encoding -------------------------------------------------------------------------------

    def encode(self, signals: Mapping[str, object]) -> bytes:
        names = self.signal_names
        unknown = sorted(set(signals) - set(names))
        if unknown:
            raise SignalEncodeError(
                unknown[0],
                f"not a signal of frame {format_id(self.frame_id)} (its signals: {', '.join(names)})",
            )
        values = {**self.rule.encode_defaults, **signals}
        missing = [name for name in names if name not in values]
        if missing:
            raise SignalEncodeError(
                missing[0], f"required by frame {format_id(self.frame_id)} but not given"
            )
        wire = {spec.name: _to_wire(spec, values[spec.name]) for spec in self.signals}
        _check_not_padding(self.signals, wire, values)
        data = bytearray(self.message.encode(wire, scaling=True, strict=True))
        for text in self.rule.text_fields:
            data[text.start : text.start + text.length] = _encode_text(text, values[text.name])
        return bytes(data.ljust(FRAME_LENGTH, b"\x00"))


def _from_wire(spec: SignalSpec, value: object) -> SignalValue:
    if spec.kind is SignalKind.FLAG:
        return bool(value)
    if spec.kind is SignalKind.STATE:
        name = value.name if isinstance(value, NamedSignalValue) else None
        return _STATE_FROM_WIRE.get(str(name))
    if isinstance(value, NamedSignalValue):
        return None  # the SMA invalid marker, the only named value of a numeric signal
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, spec.decimals)
    raise TypeError(f"{spec.name}: unexpected decoded value {value!r}")


def _to_wire(spec: SignalSpec, value: object) -> int | float | str:
    if spec.kind is SignalKind.FLAG:
        if not isinstance(value, bool):
            raise SignalEncodeError(spec.name, f"expects True or False, got {value!r}")
        return int(value)
    if spec.kind is SignalKind.STATE:
        if value is not None and not isinstance(value, bool):
            raise SignalEncodeError(
                spec.name,
                f"expects True (raised), False (cleared) or None (not reported), got {value!r}",
            )
        return _STATE_ON_WIRE[value]
    if value is None:
        if spec.has_invalid_marker:
            return INVALID
        raise SignalEncodeError(spec.name, "has no invalid marker on the wire; a value is required")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SignalEncodeError(spec.name, f"expects a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise SignalEncodeError(
            spec.name, f"{number} is not a finite number (use None for 'not available')"
        )
    if not spec.minimum <= number <= spec.maximum:
        raise SignalEncodeError(
            spec.name,
            f"{number:g} is out of range: the wire carries {spec.describe_range()}",
        )
    return number


def _raw(spec: SignalSpec, physical: object) -> int | None:
    if not isinstance(physical, float):
        return None
    return round((physical - spec.offset) / spec.scale)


def _check_not_padding(
    specs: tuple[SignalSpec, ...], wire: Mapping[str, object], values: Mapping[str, object]
) -> None:
    """Refuse values that the decoder would read back as padding, so encoding round-trips."""
    for spec in specs:
        raw = _raw(spec, wire[spec.name])
        if spec.name in ZERO_MEANS_NOT_PROVIDED and raw == 0:
            raise SignalEncodeError(
                spec.name, "a zero on the wire means 'not provided'; pass None instead of 0"
            )
        if spec.name == "soc_hr_pct" and raw is not None:
            soc = values.get("soc_pct")
            soc_raw = round(soc) if isinstance(soc, Real) and not isinstance(soc, bool) else None
            if soc_hr_is_padding(raw, soc_raw):
                raise SignalEncodeError(
                    spec.name,
                    f"0.00 % next to soc_pct {soc} % reads as zero padding; pass None instead",
                )


def _drop_padding(decoded: dict[str, SignalValue]) -> None:
    for name in ZERO_MEANS_NOT_PROVIDED:
        if decoded.get(name) == 0:
            decoded[name] = None
    soc_hr = decoded.get("soc_hr_pct")
    if soc_hr is not None and soc_hr == 0 and soc_hr_is_padding(0, decoded.get("soc_pct")):
        decoded["soc_hr_pct"] = None


def _encode_text(text: TextField, value: object) -> bytes:
    if value is None and text.optional:
        return bytes(text.length)
    return encode_ascii(value, length=text.length, signal=text.name)


@functools.cache
def frame_codec(frame_id: int) -> FrameCodec | None:
    """The codec of a Pylontech frame id, or None for ids this protocol does not define."""
    try:
        known = FrameId(frame_id)
    except ValueError:
        return None
    message = pylontech_database().get_message_by_frame_id(known)
    return FrameCodec(
        frame_id=known,
        message=message,
        rule=FRAME_RULES[known],
        signals=tuple(_spec(signal) for signal in message.signals),
    )


def _require_codec(arbitration_id: int) -> FrameCodec:
    codec = frame_codec(arbitration_id)
    if codec is None:
        known = ", ".join(format_id(frame_id) for frame_id in FrameId)
        raise ValueError(f"{format_id(arbitration_id)} is not a Pylontech frame (known: {known})")
    return codec


def frame_signals(arbitration_id: int) -> tuple[str, ...]:
    """Signal names a frame carries, in wire order."""
    return _require_codec(arbitration_id).signal_names


def decode_message(msg: can.Message) -> dict[str, SignalValue] | None:
    """Signals of one Pylontech frame by name.

    Returns None for anything that is not a Pylontech data frame: other ids, 29-bit ids, remote and
    error frames. Raises FrameDecodeError for a Pylontech id with a payload that cannot be decoded
    (too short for a required field, longer than 8 bytes, non-ASCII text).

    Values: numbers in physical units, booleans for flags, True/False/None (raised / cleared /
    not reported) for 0x35A states, str for text. None means the frame says "no valid value" (the
    SMA invalid marker, or zero padding where zero is not a value). A key is absent when a short
    frame did not carry that optional field.
    """
    if msg.is_extended_id or msg.is_remote_frame or msg.is_error_frame:
        return None
    codec = frame_codec(msg.arbitration_id)
    if codec is None:
        return None
    data = bytes(msg.data)
    if len(data) > FRAME_LENGTH:
        raise FrameDecodeError(msg.arbitration_id, f"{len(data)} data bytes, classic CAN carries 8")
    return codec.decode(data)


def encode_message(
    arbitration_id: int, signals: Mapping[str, object], *, timestamp: float = 0.0
) -> can.Message:
    """One frame, 11-bit id, 8 data bytes zero-padded as real devices send them.

    Signals the frame defines but `signals` leaves out take their defaults (flags clear, 0x35A
    states not reported, optional fields not provided); required ones must be given. Raises
    SignalEncodeError (a ValueError) naming the signal for unknown names, wrong types and values
    out of the wire's range; ValueError for an id this protocol does not define.
    """
    data = _require_codec(arbitration_id).encode(signals)
    return can.Message(
        arbitration_id=arbitration_id,
        is_extended_id=False,
        data=data,
        dlc=FRAME_LENGTH,
        timestamp=timestamp,
    )


def encode_frames(state: Mapping[str, object], *, timestamp: float = 0.0) -> list[can.Message]:
    """The battery's broadcast burst: every frame that has at least one of its signals in `state`,
    in the order a Pylontech battery sends them (0x359, 0x351, 0x355, 0x356, 0x35C, 0x35E, then
    the SMA/Victron superset 0x35A, 0x35F, 0x373, 0x378, 0x379)."""
    owners = {name: frame_id for frame_id in BATTERY_SEND_ORDER for name in frame_signals(frame_id)}
    unknown = sorted(name for name in state if name not in owners)
    if unknown:
        raise SignalEncodeError(unknown[0], "not a signal of any frame the battery sends")
    frames: list[can.Message] = []
    for frame_id in BATTERY_SEND_ORDER:
        own = {name: value for name, value in state.items() if owners[name] == frame_id}
        if own:
            frames.append(encode_message(frame_id, own, timestamp=timestamp))
    return frames
