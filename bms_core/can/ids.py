"""The CAN identifiers of the Pylontech low-voltage protocol (11-bit, CAN 2.0A)."""

from __future__ import annotations

from enum import IntEnum


class FrameId(IntEnum):
    INVERTER_KEEPALIVE = 0x305
    LIMITS = 0x351
    SOC_SOH = 0x355
    VOLTAGE_CURRENT_TEMPERATURE = 0x356
    PROTECTION_ALARM = 0x359
    ALARM_WARNING_STATES = 0x35A
    REQUESTS = 0x35C
    MANUFACTURER = 0x35E
    BATTERY_INFO = 0x35F
    CELL_EXTREMES = 0x373
    ENERGY = 0x378
    INSTALLED_CAPACITY = 0x379


# The order a Pylontech battery puts its 1 s burst on the bus (Pylon v1.2 frames first), followed
# by the SMA/Victron superset frames. The inverter's 0x305 is not part of the battery's burst.
BATTERY_SEND_ORDER: tuple[FrameId, ...] = (
    FrameId.PROTECTION_ALARM,
    FrameId.LIMITS,
    FrameId.SOC_SOH,
    FrameId.VOLTAGE_CURRENT_TEMPERATURE,
    FrameId.REQUESTS,
    FrameId.MANUFACTURER,
    FrameId.ALARM_WARNING_STATES,
    FrameId.BATTERY_INFO,
    FrameId.CELL_EXTREMES,
    FrameId.ENERGY,
    FrameId.INSTALLED_CAPACITY,
)


def format_id(arbitration_id: int) -> str:
    """'0x351' style, as the protocol documents write identifiers."""
    return f"0x{arbitration_id:03X}"
