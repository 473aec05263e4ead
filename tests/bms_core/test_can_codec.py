"""The Pylontech codec against byte vectors computed by hand from the protocol table, and
encode -> decode round trips of every frame over the full wire ranges."""

from __future__ import annotations

import math
import string
from importlib import resources

import can
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_core.can import (
    BATTERY_SEND_ORDER,
    FrameDecodeError,
    FrameId,
    SignalEncodeError,
    decode_message,
    encode_frames,
    encode_message,
    frame_signals,
    pylontech_database,
)
from bms_core.can.codec import SignalKind, frame_codec
from bms_core.can.frames import FRAME_RULES


def frame(arbitration_id: int, hex_bytes: str, **flags: bool) -> can.Message:
    return can.Message(
        arbitration_id=arbitration_id,
        is_extended_id=False,
        data=bytes.fromhex(hex_bytes),
        **flags,
    )


# (frame id, bytes on the wire written out by hand from the table, signals they carry)
HAND_VECTORS = [
    # CVL 56.8 V = 568 = 0x0238, CCL 50.0 A = 500 = 0x01F4, DCL 100.0 A = 1000 = 0x03E8,
    # DVL 44.8 V = 448 = 0x01C0, all little-endian.
    (
        0x351,
        "38 02 F4 01 E8 03 C0 01",
        {
            "charge_voltage_limit_v": 56.8,
            "charge_current_limit_a": 50.0,
            "discharge_current_limit_a": 100.0,
            "discharge_voltage_limit_v": 44.8,
        },
    ),
    # A negative CCL is legal on the wire (s16): -300.0 A = -3000 = 0xF448.
    (
        0x351,
        "38 02 48 F4 E8 03 C0 01",
        {
            "charge_voltage_limit_v": 56.8,
            "charge_current_limit_a": -300.0,
            "discharge_current_limit_a": 100.0,
            "discharge_voltage_limit_v": 44.8,
        },
    ),
    # SOC 75 % = 0x4B, SOH 98 % = 0x62, SOC 75.25 % in 0.01 % = 7525 = 0x1D65.
    (0x355, "4B 00 62 00 65 1D 00 00", {"soc_pct": 75, "soh_pct": 98, "soc_hr_pct": 75.25}),
    # 53.12 V = 5312 = 0x14C0; -25.3 A = -253 = 0xFF03 (discharging); -5.5 °C = -55 = 0xFFC9.
    (
        0x356,
        "C0 14 03 FF C9 FF 00 00",
        {"voltage_v": 53.12, "current_a": -25.3, "temperature_c": -5.5},
    ),
    # Byte 0 bit 1 over-voltage, byte 1 bit 0 charge over-current, byte 2 bit 4 low temperature,
    # byte 3 bit 3 internal communication failure, 3 modules, "PN".
    (
        0x359,
        "02 01 10 08 03 50 4E 00",
        {
            "protection_over_voltage": True,
            "protection_under_voltage": False,
            "protection_over_temperature": False,
            "protection_under_temperature": False,
            "protection_discharge_over_current": False,
            "protection_charge_over_current": True,
            "protection_system_error": False,
            "alarm_high_voltage": False,
            "alarm_low_voltage": False,
            "alarm_high_temperature": False,
            "alarm_low_temperature": True,
            "alarm_discharge_high_current": False,
            "alarm_charge_high_current": False,
            "alarm_internal_communication_failure": True,
            "module_count": 3,
            "protocol_tag": "PN",
        },
    ),
    # Bit 7 charge enable, bit 6 discharge enable, bit 3 full charge request: 0x80 | 0x40 | 0x08.
    (
        0x35C,
        "C8 00 00 00 00 00 00 00",
        {
            "charge_enable": True,
            "discharge_enable": True,
            "force_charge_1": False,
            "force_charge_2": False,
            "full_charge_request": True,
        },
    ),
    (0x35E, "50 59 4C 4F 4E 20 20 20", {"manufacturer": "PYLON"}),
    # Type 1, BMS version 0x0206, 100 Ah, manufacturer id 7.
    (
        0x35F,
        "01 00 06 02 64 00 07 00",
        {
            "battery_type": 1,
            "bms_version": 0x0206,
            "battery_capacity_ah": 100,
            "manufacturer_id": 7,
        },
    ),
    # 3.301 V = 3301 mV = 0x0CE5, 3.342 V = 0x0D0E; 288 K = 0x0120 -> 14.85 °C; 300 K = 0x012C.
    (
        0x373,
        "E5 0C 0E 0D 20 01 2C 01",
        {
            "min_cell_v": 3.301,
            "max_cell_v": 3.342,
            "min_cell_temp_c": 14.85,
            "max_cell_temp_c": 26.85,
        },
    ),
    # 1234.5 kWh = 12345 = 0x3039, 1000.0 kWh = 10000 = 0x2710, u32 each.
    (
        0x378,
        "39 30 00 00 10 27 00 00",
        {"energy_charged_kwh": 1234.5, "energy_discharged_kwh": 1000.0},
    ),
    (0x379, "64 00 00 00 00 00 00 00", {"installed_capacity_ah": 100}),
    (0x305, "00 00 00 00 00 00 00 00", {}),
]


@pytest.mark.parametrize(("frame_id", "wire", "signals"), HAND_VECTORS)
def test_hand_computed_bytes_decode_to_the_signals(frame_id: int, wire: str, signals: dict) -> None:
    assert decode_message(frame(frame_id, wire)) == signals


@pytest.mark.parametrize(("frame_id", "wire", "signals"), HAND_VECTORS)
def test_signals_encode_to_the_hand_computed_bytes(frame_id: int, wire: str, signals: dict) -> None:
    msg = encode_message(frame_id, signals)
    assert bytes(msg.data) == bytes.fromhex(wire)
    assert msg.arbitration_id == frame_id
    assert not msg.is_extended_id
    assert msg.dlc == 8


def test_0x35a_two_bit_states_follow_the_reference_table() -> None:
    # Byte 0: general bits 0-1 = 01 (cleared), high voltage bits 2-3 = 10 (raised) -> 0x09.
    # Byte 7 (warnings byte 3): cell imbalance bits 0-1 = 10 -> 0x02; generator bits 6-7 = 01 -> 0x40.
    decoded = decode_message(frame(0x35A, "09 00 00 00 00 00 00 42"))
    assert decoded is not None
    assert decoded["sma_alarm_general"] is False
    assert decoded["sma_alarm_high_voltage"] is True
    assert decoded["sma_alarm_low_voltage"] is None
    assert decoded["sma_warning_cell_imbalance"] is True
    assert decoded["sma_warning_generator"] is False
    assert sum(value is not None for value in decoded.values()) == 4
    encoded = encode_message(
        0x35A,
        {
            "sma_alarm_general": False,
            "sma_alarm_high_voltage": True,
            "sma_warning_cell_imbalance": True,
            "sma_warning_generator": False,
        },
    )
    assert bytes(encoded.data).hex(" ") == "09 00 00 00 00 00 00 42"


def test_0x35a_reserved_state_11_reads_as_not_reported() -> None:
    decoded = decode_message(frame(0x35A, "03 00 00 00 00 00 00 00"))
    assert decoded is not None and decoded["sma_alarm_general"] is None


# -- invalid markers and padding --------------------------------------------------------------


def test_sma_invalid_markers_decode_to_none() -> None:
    assert decode_message(frame(0x356, "00 80 00 80 00 80 00 00")) == {
        "voltage_v": None,
        "current_a": None,
        "temperature_c": None,
    }
    limits = decode_message(frame(0x351, "FF FF 00 80 00 80 FF FF"))
    assert limits == dict.fromkeys(
        [
            "charge_voltage_limit_v",
            "charge_current_limit_a",
            "discharge_current_limit_a",
            "discharge_voltage_limit_v",
        ]
    )
    assert set((decode_message(frame(0x373, "FF" * 8)) or {}).values()) == {None}
    assert decode_message(frame(0x378, "FF FF FF FF 10 27 00 00")) == {
        "energy_charged_kwh": None,
        "energy_discharged_kwh": 1000.0,
    }


def test_none_encodes_as_the_invalid_marker() -> None:
    msg = encode_message(0x356, {"voltage_v": None, "current_a": None, "temperature_c": 20.0})
    assert bytes(msg.data).hex(" ") == "00 80 00 80 c8 00 00 00"
    msg = encode_message(0x379, {"installed_capacity_ah": None})
    assert bytes(msg.data).hex(" ") == "ff ff 00 00 00 00 00 00"


def test_pylon_v12_empty_dvl_and_missing_high_resolution_soc_read_as_none() -> None:
    limits = decode_message(frame(0x351, "38 02 F4 01 E8 03 00 00"))
    assert limits is not None and limits["discharge_voltage_limit_v"] is None
    soc = decode_message(frame(0x355, "32 00 64 00 00 00 00 00"))
    assert soc == {"soc_pct": 50, "soh_pct": 100, "soc_hr_pct": None}
    # An empty pack really is at 0.00 %: zero next to a zero SOC is a value, not padding.
    empty = decode_message(frame(0x355, "00 00 64 00 00 00 00 00"))
    assert empty == {"soc_pct": 0, "soh_pct": 100, "soc_hr_pct": 0.0}


def test_values_that_would_read_back_as_padding_are_refused() -> None:
    base = {
        "charge_voltage_limit_v": 56.8,
        "charge_current_limit_a": 10,
        "discharge_current_limit_a": 10,
    }
    with pytest.raises(SignalEncodeError, match="discharge_voltage_limit_v"):
        encode_message(0x351, {**base, "discharge_voltage_limit_v": 0.0})
    with pytest.raises(SignalEncodeError, match="soc_hr_pct"):
        encode_message(0x355, {"soc_pct": 50, "soh_pct": 100, "soc_hr_pct": 0.0})


def test_omitted_optional_fields_go_out_as_invalid_markers() -> None:
    msg = encode_message(0x355, {"soc_pct": 50, "soh_pct": 100})
    assert bytes(msg.data).hex(" ") == "32 00 64 00 ff ff 00 00"


# -- short and odd frames -----------------------------------------------------------------------


def test_short_frames_decode_what_is_present() -> None:
    # Pylon v1.2 batteries send 0x351 without DVL, 0x355 with 4 bytes, 0x35C with 2 bytes.
    assert decode_message(frame(0x351, "38 02 F4 01 E8 03")) == {
        "charge_voltage_limit_v": 56.8,
        "charge_current_limit_a": 50.0,
        "discharge_current_limit_a": 100.0,
    }
    assert decode_message(frame(0x355, "4B 00 62 00")) == {"soc_pct": 75, "soh_pct": 98}
    assert decode_message(frame(0x35C, "C0 00"))["charge_enable"] is True  # type: ignore[index]
    assert decode_message(frame(0x35E, "50 59 4C 4F 4E")) == {"manufacturer": "PYLON"}
    protection = decode_message(frame(0x359, "00 00 00 00 02"))
    assert protection is not None and protection["module_count"] == 2
    assert "protocol_tag" not in protection


@pytest.mark.parametrize(
    ("frame_id", "wire", "named"),
    [
        (0x351, "38 02 F4 01", "discharge_current_limit_a"),
        (0x355, "4B 00", "soh_pct"),
        (0x356, "C0 14 03 FF", "temperature_c"),
        (0x359, "02 01 10", "alarm_charge_high_current"),
        (0x35C, "", "charge_enable"),
        (0x35E, "", "manufacturer"),
        (0x373, "E5 0C 0E 0D 20 01", "max_cell_temp_c"),
        (0x378, "39 30 00 00", "energy_discharged_kwh"),
    ],
)
def test_a_missing_required_field_is_a_clear_error(frame_id: int, wire: str, named: str) -> None:
    with pytest.raises(FrameDecodeError, match=named) as raised:
        decode_message(frame(frame_id, wire))
    assert raised.value.arbitration_id == frame_id
    assert f"0x{frame_id:03X}" in str(raised.value)


def test_frames_that_are_not_pylontech_decode_to_none() -> None:
    assert decode_message(frame(0x123, "00")) is None
    extended = can.Message(arbitration_id=0x351, is_extended_id=True, data=bytes(8))
    assert decode_message(extended) is None
    assert decode_message(frame(0x351, "", is_remote_frame=True)) is None
    assert decode_message(frame(0x351, "", is_error_frame=True)) is None


def test_more_than_eight_bytes_is_malformed() -> None:
    fd = can.Message(arbitration_id=0x356, is_extended_id=False, is_fd=True, data=bytes(12))
    with pytest.raises(FrameDecodeError, match="12 data bytes"):
        decode_message(fd)


def test_non_ascii_text_is_malformed() -> None:
    with pytest.raises(FrameDecodeError, match="manufacturer"):
        decode_message(frame(0x35E, "50 59 FF 4F 4E 20 20 20"))


def test_the_inverter_keepalive_content_is_not_interpreted() -> None:
    # SMA inverters put their own readings into 0x305; they are not battery signals.
    assert decode_message(frame(0x305, "12 34 56 78 9A BC DE F0")) == {}
    assert bytes(encode_message(0x305, {}).data) == bytes(8)


# -- encoding errors ----------------------------------------------------------------------------

LIMITS = {
    "charge_voltage_limit_v": 56.8,
    "charge_current_limit_a": 50.0,
    "discharge_current_limit_a": 100.0,
}


@pytest.mark.parametrize(
    ("frame_id", "signals", "named", "reason"),
    [
        (
            0x351,
            {**LIMITS, "charge_current_limit_a": 3276.8},
            "charge_current_limit_a",
            "out of range",
        ),
        (
            0x351,
            {**LIMITS, "discharge_current_limit_a": -3276.8},
            "discharge_current_limit_a",
            "out of range",
        ),
        (
            0x351,
            {**LIMITS, "charge_voltage_limit_v": -0.1},
            "charge_voltage_limit_v",
            "out of range",
        ),
        (0x351, {**LIMITS, "charge_voltage_limit_v": 6553.5}, "charge_voltage_limit_v", "6553.4"),
        (
            0x356,
            {"voltage_v": 400.0, "current_a": 0, "temperature_c": 0},
            "voltage_v",
            "out of range",
        ),
        (0x356, {"voltage_v": math.nan, "current_a": 0, "temperature_c": 0}, "voltage_v", "finite"),
        (0x356, {"voltage_v": "53", "current_a": 0, "temperature_c": 0}, "voltage_v", "number"),
        (0x356, {"voltage_v": True, "current_a": 0, "temperature_c": 0}, "voltage_v", "number"),
        (0x356, {"voltage_v": 53.0, "current_a": 0}, "temperature_c", "not given"),
        (
            0x356,
            {"voltage_v": 53.0, "current_a": 0, "temperature_c": 0, "soc": 1},
            "soc",
            "not a signal",
        ),
        (0x359, {"module_count": 256}, "module_count", "out of range"),
        (0x359, {"module_count": None}, "module_count", "no invalid marker"),
        (
            0x359,
            {"module_count": 1, "protection_over_voltage": 1},
            "protection_over_voltage",
            "True or False",
        ),
        (0x35A, {"sma_alarm_general": "raised"}, "sma_alarm_general", "raised"),
        (0x35C, {"charge_enable": True}, "discharge_enable", "not given"),
        (0x35E, {"manufacturer": "PYLONTECH"}, "manufacturer", "longer than the 8 bytes"),
        (0x35E, {"manufacturer": "PYLÖN"}, "manufacturer", "ASCII"),
        (
            0x373,
            {"min_cell_v": 3.3, "max_cell_v": 3.4, "min_cell_temp_c": -274, "max_cell_temp_c": 25},
            "min_cell_temp_c",
            "out of range",
        ),
        (
            0x378,
            {"energy_charged_kwh": -1, "energy_discharged_kwh": 0},
            "energy_charged_kwh",
            "out of range",
        ),
    ],
)
def test_bad_values_raise_a_value_error_naming_the_signal(
    frame_id: int, signals: dict, named: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        encode_message(frame_id, signals)
    assert isinstance(raised.value, SignalEncodeError)
    assert raised.value.signal == named
    assert str(raised.value).startswith(named)


def test_unknown_frame_id_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="0x123 is not a Pylontech frame"):
        encode_message(0x123, {})


def test_negative_currents_and_temperatures_at_the_ends_of_the_wire_range() -> None:
    signals = {"voltage_v": -327.67, "current_a": -3276.7, "temperature_c": -3276.7}
    assert decode_message(encode_message(0x356, signals)) == signals
    hot = {"voltage_v": 327.67, "current_a": 3276.7, "temperature_c": 3276.7}
    assert decode_message(encode_message(0x356, hot)) == hot
    cold_cells = {
        "min_cell_v": 0.0,
        "max_cell_v": 65.534,
        "min_cell_temp_c": -273.15,
        "max_cell_temp_c": -40.15,
    }
    assert decode_message(encode_message(0x373, cold_cells)) == cold_cells


# -- the battery burst ----------------------------------------------------------------------------

FULL_STATE: dict[str, object] = {
    "charge_voltage_limit_v": 56.8,
    "charge_current_limit_a": 50.0,
    "discharge_current_limit_a": 100.0,
    "discharge_voltage_limit_v": 44.8,
    "soc_pct": 80,
    "soh_pct": 97,
    "soc_hr_pct": 80.37,
    "voltage_v": 53.4,
    "current_a": -12.5,
    "temperature_c": 23.4,
    "module_count": 2,
    "protection_under_temperature": True,
    "alarm_high_temperature": True,
    "charge_enable": True,
    "discharge_enable": True,
    "manufacturer": "PYLON",
    "sma_alarm_high_voltage": False,
    "battery_type": 1,
    "bms_version": 512,
    "battery_capacity_ah": 100,
    "manufacturer_id": 0,
    "min_cell_v": 3.331,
    "max_cell_v": 3.345,
    "min_cell_temp_c": 21.85,
    "max_cell_temp_c": 24.85,
    "energy_charged_kwh": 321.4,
    "energy_discharged_kwh": 300.2,
    "installed_capacity_ah": 100,
}


def test_encode_frames_sends_the_burst_in_battery_order() -> None:
    frames = encode_frames(FULL_STATE, timestamp=1_700_000_000.0)
    assert [msg.arbitration_id for msg in frames] == list(BATTERY_SEND_ORDER)
    assert all(msg.dlc == 8 and not msg.is_extended_id for msg in frames)
    assert all(msg.timestamp == 1_700_000_000.0 for msg in frames)
    decoded: dict[str, object] = {}
    for msg in frames:
        decoded.update(decode_message(msg) or {})
    assert {name: decoded[name] for name in FULL_STATE} == FULL_STATE
    assert decoded["protocol_tag"] == "PN"
    assert decoded["protection_over_voltage"] is False


def test_encode_frames_sends_only_frames_the_state_describes() -> None:
    frames = encode_frames({"soc_pct": 50, "soh_pct": 100, "manufacturer": "PYLON"})
    assert [msg.arbitration_id for msg in frames] == [0x355, 0x35E]
    assert encode_frames({}) == []
    with pytest.raises(SignalEncodeError, match="not a signal of any frame"):
        encode_frames({"soc": 50})


# -- the DBC ------------------------------------------------------------------------------------


def test_the_dbc_ships_inside_the_package_and_describes_every_frame() -> None:
    assert resources.files("bms_core.can").joinpath("pylontech.dbc").is_file()
    database = pylontech_database()
    assert {message.frame_id for message in database.messages} == {
        int(frame_id) for frame_id in FrameId
    }
    for message in database.messages:
        assert not message.is_extended_frame
        assert message.length == 8
        for signal in message.signals:
            assert signal.byte_order == "little_endian", signal.name


def test_every_numeric_signal_spans_its_full_wire_range_minus_the_invalid_marker() -> None:
    for frame_id in FrameId:
        codec = frame_codec(frame_id)
        assert codec is not None
        for dbc_signal, spec in zip(codec.message.signals, codec.signals, strict=True):
            if spec.kind is not SignalKind.NUMBER:
                continue
            bits = dbc_signal.length
            # The most negative value (signed) or all ones (unsigned) is the invalid marker.
            if dbc_signal.is_signed:
                raw_low, raw_high = 1 - 2 ** (bits - 1), 2 ** (bits - 1) - 1
            elif bits >= 16:
                raw_low, raw_high = 0, 2**bits - 2
            else:
                raw_low, raw_high = 0, 2**bits - 1
            assert spec.minimum == pytest.approx(raw_low * spec.scale + spec.offset), spec.name
            assert spec.maximum == pytest.approx(raw_high * spec.scale + spec.offset), spec.name
            assert spec.has_invalid_marker == (bits >= 16), spec.name


def test_frame_rules_only_name_signals_the_frames_carry() -> None:
    for frame_id, rule in FRAME_RULES.items():
        names = set(frame_signals(frame_id))
        assert set(rule.encode_defaults) <= names
        assert rule.optional_signals <= names


def test_the_signal_names_of_the_spec_are_all_there() -> None:
    everything = {name for frame_id in FrameId for name in frame_signals(frame_id)}
    expected = {
        "charge_voltage_limit_v", "charge_current_limit_a", "discharge_current_limit_a",
        "discharge_voltage_limit_v", "soc_pct", "soh_pct", "soc_hr_pct", "voltage_v", "current_a",
        "temperature_c", "module_count", "charge_enable", "discharge_enable", "force_charge_1",
        "force_charge_2", "full_charge_request", "manufacturer", "min_cell_v", "max_cell_v",
        "min_cell_temp_c", "max_cell_temp_c", "energy_charged_kwh", "energy_discharged_kwh",
        "installed_capacity_ah", "battery_type", "bms_version", "battery_capacity_ah",
        "manufacturer_id",
    }  # fmt: skip
    assert expected <= everything
    assert len([name for name in everything if name.startswith("protection_")]) == 7
    assert len([name for name in everything if name.startswith("alarm_")]) == 7
    assert len([name for name in everything if name.startswith("sma_alarm_")]) == 14
    assert len([name for name in everything if name.startswith("sma_warning_")]) == 14


# -- round trips over the full ranges (hypothesis) ----------------------------------------------

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


def value_strategy(frame_id: int, name: str) -> st.SearchStrategy[object]:
    codec = frame_codec(frame_id)
    assert codec is not None
    if name == "manufacturer":
        return st.text(alphabet=PRINTABLE, min_size=1, max_size=8).filter(str.strip)
    if name == "protocol_tag":
        return st.text(alphabet=PRINTABLE, min_size=1, max_size=2).filter(str.strip)
    spec = next(spec for spec in codec.signals if spec.name == name)
    if spec.kind is SignalKind.FLAG:
        return st.booleans()
    if spec.kind is SignalKind.STATE:
        return st.sampled_from([True, False, None])
    low = spec.minimum
    if name == "discharge_voltage_limit_v":
        low = 0.051  # 0.0 V is Pylon v1.2's empty field
    if name == "soc_hr_pct":
        low = 0.006  # 0.00 % next to a SOC >= 1 % is padding
    numbers = st.floats(min_value=low, max_value=spec.maximum, allow_nan=False)
    return st.one_of(numbers, st.none()) if spec.has_invalid_marker else numbers


@st.composite
def frame_and_signals(draw: st.DrawFn) -> tuple[int, dict[str, object]]:
    frame_id = draw(st.sampled_from([frame_id for frame_id in FrameId if frame_id != 0x305]))
    names = frame_signals(frame_id)
    return frame_id, {name: draw(value_strategy(frame_id, name)) for name in names}


def assert_round_trip(frame_id: int, sent: dict[str, object], received: dict[str, object]) -> None:
    codec = frame_codec(frame_id)
    assert codec is not None
    specs = {spec.name: spec for spec in codec.signals}
    assert set(received) == set(sent)
    for name, value in sent.items():
        got = received[name]
        if isinstance(value, str):
            assert got == value.rstrip(" "), name
        elif isinstance(value, float):
            assert isinstance(got, int | float), name
            resolution = specs[name].scale / 2
            assert abs(got - value) <= resolution + 1e-9 * max(1.0, abs(value)), (name, value, got)
        else:
            assert got == value, name


@settings(max_examples=400, deadline=None)
@given(frame_and_signals())
def test_every_frame_round_trips_within_its_resolution(case: tuple[int, dict[str, object]]) -> None:
    frame_id, signals = case
    msg = encode_message(frame_id, signals)
    assert msg.dlc == 8 and not msg.is_extended_id
    decoded = decode_message(msg)
    assert decoded is not None
    assert_round_trip(frame_id, signals, decoded)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-3276.7, max_value=3276.7),
    st.floats(min_value=-3276.7, max_value=3276.7),
    st.floats(min_value=-327.67, max_value=327.67),
)
def test_measurements_round_trip_with_either_sign(
    current: float, temperature: float, voltage: float
) -> None:
    decoded = decode_message(
        encode_message(
            0x356, {"voltage_v": voltage, "current_a": current, "temperature_c": temperature}
        )
    )
    assert decoded is not None
    assert decoded["current_a"] == pytest.approx(current, abs=0.05 + 1e-9)
    assert decoded["temperature_c"] == pytest.approx(temperature, abs=0.05 + 1e-9)
    assert decoded["voltage_v"] == pytest.approx(voltage, abs=0.005 + 1e-9)
    # current + = charging: the sign survives, rounding aside
    if abs(current) > 0.051:
        assert math.copysign(1, decoded["current_a"]) == math.copysign(1, current)  # type: ignore[arg-type]
