"""What the DBC cannot say about each frame: optional fields, encoding defaults, ASCII fields,
and fields where a zero is padding rather than a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .ids import FrameId

PROTECTION_FLAGS: tuple[str, ...] = (
    "protection_over_voltage",
    "protection_under_voltage",
    "protection_over_temperature",
    "protection_under_temperature",
    "protection_discharge_over_current",
    "protection_charge_over_current",
    "protection_system_error",
)
ALARM_FLAGS: tuple[str, ...] = (
    "alarm_high_voltage",
    "alarm_low_voltage",
    "alarm_high_temperature",
    "alarm_low_temperature",
    "alarm_discharge_high_current",
    "alarm_charge_high_current",
    "alarm_internal_communication_failure",
)
# 0x35A conditions in wire order; byte 3 bits 2-5 are reserved and not exposed.
SMA_CONDITIONS: tuple[str, ...] = (
    "general",
    "high_voltage",
    "low_voltage",
    "high_temperature",
    "low_temperature",
    "high_temperature_charging",
    "low_temperature_charging",
    "high_current",
    "high_charge_current",
    "contactor",
    "short_circuit",
    "bms_internal",
    "cell_imbalance",
    "generator",
)
SMA_STATES: tuple[str, ...] = tuple(
    f"sma_{level}_{condition}" for level in ("alarm", "warning") for condition in SMA_CONDITIONS
)
# The enables are deliberately not defaulted: silently sending "charge disabled" would stop an
# inverter, silently sending "enabled" would defeat the battery's protection.
REQUEST_FLAGS_OFF_BY_DEFAULT: tuple[str, ...] = (
    "force_charge_1",
    "force_charge_2",
    "full_charge_request",
)

PROTOCOL_TAG = "PN"


@dataclass(frozen=True)
class TextField:
    """An ASCII field at bytes [start, start + length)."""

    name: str
    start: int
    length: int
    optional: bool


@dataclass(frozen=True)
class FrameRule:
    optional_signals: frozenset[str] = frozenset()
    encode_defaults: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    text_fields: tuple[TextField, ...] = ()
    # Keep-alive frames carry nothing we interpret, whatever their payload.
    opaque: bool = False


def _defaults(values: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(values))


FRAME_RULES: Mapping[FrameId, FrameRule] = MappingProxyType(
    {
        FrameId.INVERTER_KEEPALIVE: FrameRule(opaque=True),
        # Pylon v1.2 leaves the DVL empty; the SMA superset fills it.
        FrameId.LIMITS: FrameRule(
            optional_signals=frozenset({"discharge_voltage_limit_v"}),
            encode_defaults=_defaults({"discharge_voltage_limit_v": None}),
        ),
        FrameId.SOC_SOH: FrameRule(
            optional_signals=frozenset({"soc_hr_pct"}),
            encode_defaults=_defaults({"soc_hr_pct": None}),
        ),
        FrameId.VOLTAGE_CURRENT_TEMPERATURE: FrameRule(),
        # Flags report conditions; an unreported condition is a clear bit on the wire too.
        FrameId.PROTECTION_ALARM: FrameRule(
            optional_signals=frozenset({"protocol_tag"}),
            encode_defaults=_defaults(
                {
                    **dict.fromkeys(PROTECTION_FLAGS + ALARM_FLAGS, False),
                    "protocol_tag": PROTOCOL_TAG,
                }
            ),
            text_fields=(TextField("protocol_tag", start=5, length=2, optional=True),),
        ),
        FrameId.ALARM_WARNING_STATES: FrameRule(
            encode_defaults=_defaults(dict.fromkeys(SMA_STATES))
        ),
        FrameId.REQUESTS: FrameRule(
            encode_defaults=_defaults(dict.fromkeys(REQUEST_FLAGS_OFF_BY_DEFAULT, False)),
        ),
        # Devices send 1..8 characters; a DLC shorter than 8 just means a shorter name.
        FrameId.MANUFACTURER: FrameRule(
            text_fields=(TextField("manufacturer", start=0, length=8, optional=False),),
        ),
        FrameId.BATTERY_INFO: FrameRule(),
        FrameId.CELL_EXTREMES: FrameRule(),
        FrameId.ENERGY: FrameRule(),
        FrameId.INSTALLED_CAPACITY: FrameRule(),
    }
)

# A zero DVL is Pylon v1.2's empty field, never a real limit for a 48 V pack.
ZERO_MEANS_NOT_PROVIDED: frozenset[str] = frozenset({"discharge_voltage_limit_v"})


def soc_hr_is_padding(soc_hr_raw: int, soc_pct: object) -> bool:
    """Devices without high-resolution SOC zero-pad 0x355 bytes 4-5; a real reading agrees with
    the 1 % SOC, so 0.00 % next to a SOC of 1 % or more is padding."""
    return soc_hr_raw == 0 and isinstance(soc_pct, int) and soc_pct >= 1
