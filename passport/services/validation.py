"""Validation of attribute values against the attribute table, including the rules that tie
several attributes together (voltages, carbon footprint shares, temperatures...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from passport.attributes import BY_KEY, Attribute, Entry, Level, mandatory
from passport.errors import FieldError
from passport.values import NOT_CONTAINED, parse_date, parse_datetime
from passport.vocabulary import Category

CARBON_SHARE_KEYS = (
    "carbon_footprint_raw_material_pct",
    "carbon_footprint_production_pct",
    "carbon_footprint_distribution_pct",
    "carbon_footprint_end_of_life_pct",
)
CARBON_SHARE_TOLERANCE_PCT = 0.5
RECYCLED_ELEMENTS = ("nickel", "cobalt", "lithium", "lead")
# A new battery may test somewhat above its rated capacity, never far above it.
REMAINING_CAPACITY_MAX_FACTOR = 1.25

SYSTEM_KEY_REASONS = {
    "passport_identifier": "is assigned by the service when the passport is created",
    "battery_identifier": "is given as identifier (or gtin + serial) at registration and cannot change",
    "operator_information": "follows the responsible economic operator and changes with it",
    "status": "changes only through a status change (repurposing, waste, recycling...)",
    "category": "is fixed when the battery model is created",
    "chemistry": "is fixed when the battery model is created",
}


def reason_clean(reason: Any) -> tuple[str, list[FieldError]]:
    """The "why" of a change, kept in the version history; required."""
    if not isinstance(reason, str) or not reason.strip():
        return "", [FieldError("reason", "say why the change is made (it is kept in the version history)")]
    return reason.strip()[:2000], []


def category_label(category: str) -> str:
    try:
        return Category(category).label.lower()
    except ValueError:
        return category


def _mandatory_reason(attribute: Attribute, category: str) -> str:
    where = f" ({attribute.regulation})" if attribute.regulation else ""
    return f"is mandatory for {category_label(category)} batteries{where}"


def _model_key_refusal(key: str, attribute: Attribute | None) -> str | None:
    if attribute is None:
        return "is not a battery passport attribute"
    if attribute.entry is Entry.SYSTEM:
        return SYSTEM_KEY_REASONS.get(key, "is set by the service")
    if attribute.level is Level.ITEM and not attribute.model_default:
        return "is a per-battery attribute: give it when registering or updating a battery"
    return None


def _item_key_refusal(key: str, attribute: Attribute | None) -> str | None:
    if attribute is None:
        return "is not a battery passport attribute"
    if attribute.entry is Entry.SYSTEM:
        return SYSTEM_KEY_REASONS.get(key, "is set by the service")
    if attribute.level is Level.MODEL:
        return "is declared on the battery model, not per battery"
    return None


def _merge(
    data: Any,
    previous: dict | None,
    refusal: Callable[[str, Attribute | None], str | None],
) -> tuple[dict, set[str], list[FieldError]]:
    """Apply `data` (None removes a key) on top of `previous`, cleaning every value.
    Returns the merged values, the keys whose new value was invalid, and the errors."""
    if not isinstance(data, dict):
        return dict(previous or {}), set(), [
            FieldError(field="data", reason="must be an object keyed by attribute key")
        ]
    merged = dict(previous or {})
    invalid: set[str] = set()
    errors: list[FieldError] = []
    for key, value in data.items():
        attribute = BY_KEY.get(key)
        reason = refusal(key, attribute)
        if reason is not None:
            errors.append(FieldError(field=str(key), reason=reason))
            invalid.add(key)
            continue
        if attribute is None:
            # Both refusals refuse a key that is not an attribute; one that did not is a bug.
            raise TypeError(f"the refusal accepted {key!r}, which is not a passport attribute")
        if value is None:
            merged.pop(key, None)
            continue
        cleaned, value_errors = attribute.kind.clean(value, key)
        if value_errors:
            errors.extend(value_errors)
            invalid.add(key)
        else:
            merged[key] = cleaned
    return merged, invalid, errors


def model_data_clean(
    *, category: str, data: Any, previous: dict | None = None
) -> tuple[dict, list[FieldError]]:
    """Validate a battery model's attribute values (a full set, or a partial update on top of
    `previous`). Returns the merged, normalised values and every problem found."""
    merged, invalid, errors = _merge(data, previous, _model_key_refusal)
    for attribute in mandatory(category, Level.MODEL, at_creation=True):
        if attribute.key not in merged and attribute.key not in invalid:
            errors.append(
                FieldError(field=attribute.key, reason=_mandatory_reason(attribute, category))
            )
    valid = {key: value for key, value in merged.items() if key not in invalid}
    errors.extend(model_cross_checks(valid))
    return merged, errors


def item_data_clean(
    *,
    category: str,
    data: Any,
    model_data: dict,
    previous: dict | None = None,
) -> tuple[dict, list[FieldError]]:
    """Validate a battery's item-level attribute values: at registration (previous=None) every
    mandatory static item attribute must be there, unless the model declares a default for it."""
    merged, invalid, errors = _merge(data, previous, _item_key_refusal)
    for attribute in mandatory(category, Level.ITEM, at_creation=True):
        if attribute.key in merged or attribute.key in invalid:
            continue
        if attribute.model_default and attribute.key in model_data:
            continue
        reason = _mandatory_reason(attribute, category)
        if attribute.model_default:
            reason += "; give it per battery or declare a default on the battery model"
        errors.append(FieldError(field=attribute.key, reason=reason))
    valid = {key: value for key, value in merged.items() if key not in invalid}
    errors.extend(item_cross_checks(valid, model_data))
    return merged, errors


# --- rules across attributes -------------------------------------------------------------------


def model_cross_checks(values: dict) -> list[FieldError]:
    errors: list[FieldError] = []
    low, nominal, high = (values.get(k) for k in ("min_voltage_v", "nominal_voltage_v", "max_voltage_v"))
    if low is not None and high is not None and not low < high:
        errors.append(FieldError(
            field="max_voltage_v",
            reason=f"maximum voltage {high} V must be above the minimum voltage {low} V",
        ))
    elif nominal is not None and low is not None and high is not None and not low < nominal < high:
        errors.append(FieldError(
            field="nominal_voltage_v",
            reason=f"nominal voltage {nominal} V must lie strictly between the minimum voltage "
                   f"{low} V and the maximum voltage {high} V",
        ))

    shares = [share for k in CARBON_SHARE_KEYS if (share := values.get(k)) is not None]
    if len(shares) == len(CARBON_SHARE_KEYS):
        total = sum(shares)
        if abs(total - 100) > CARBON_SHARE_TOLERANCE_PCT:
            errors.append(FieldError(
                field=CARBON_SHARE_KEYS[0],
                reason=(
                    "the four lifecycle-stage shares of the carbon footprint (raw material "
                    f"{shares[0]} %, production {shares[1]} %, distribution {shares[2]} %, "
                    f"end of life {shares[3]} %) sum to {total:g} %; they must sum to 100 % "
                    f"(± {CARBON_SHARE_TOLERANCE_PCT})"
                ),
            ))

    lower, upper = values.get("idle_temperature_lower_c"), values.get("idle_temperature_upper_c")
    if lower is not None and upper is not None and not lower < upper:
        errors.append(FieldError(
            field="idle_temperature_upper_c",
            reason=f"upper idle temperature {upper} °C must be above the lower one {lower} °C",
        ))

    initial = values.get("initial_round_trip_efficiency_pct")
    half_life = values.get("round_trip_efficiency_at_50pct_cycle_life_pct")
    if initial is not None and half_life is not None and half_life > initial:
        errors.append(FieldError(
            field="round_trip_efficiency_at_50pct_cycle_life_pct",
            reason=f"round trip efficiency at 50 % of cycle life ({half_life} %) cannot exceed "
                   f"the initial round trip efficiency ({initial} %)",
        ))

    for element in RECYCLED_ELEMENTS:
        pre = values.get(f"pre_consumer_recycled_{element}_pct")
        post = values.get(f"post_consumer_recycled_{element}_pct")
        if pre is not None and post is not None and NOT_CONTAINED in (pre, post) and pre != post:
            errors.append(FieldError(
                field=f"post_consumer_recycled_{element}_pct",
                reason=f"{element} is either contained in the battery or not: give both recycled "
                       f"shares as numbers, or both as {NOT_CONTAINED!r}",
            ))
        elif isinstance(pre, int | float) and isinstance(post, int | float) and pre + post > 100:
            errors.append(FieldError(
                field=f"post_consumer_recycled_{element}_pct",
                reason=f"pre-consumer ({pre} %) and post-consumer ({post} %) recycled {element} "
                       f"together exceed 100 % of the {element} in the battery",
            ))
    return errors


def item_cross_checks(values: dict, model_data: dict) -> list[FieldError]:
    errors: list[FieldError] = []
    made = parse_date(values.get("manufacturing_date"))
    in_service = parse_date(values.get("put_into_service_on"))
    if made is not None and in_service is not None and in_service < made:
        errors.append(FieldError(
            field="put_into_service_on",
            reason=f"the battery cannot be put into service ({in_service}) before it was "
                   f"manufactured ({made})",
        ))

    remaining, rated = values.get("remaining_capacity_ah"), model_data.get("rated_capacity_ah")
    if remaining is not None and rated is not None and remaining > rated * REMAINING_CAPACITY_MAX_FACTOR:
        errors.append(FieldError(
            field="remaining_capacity_ah",
            reason=f"remaining capacity {remaining} Ah is implausibly above the model's rated "
                   f"capacity of {rated} Ah",
        ))

    for position, period in enumerate(values.get("temperature_information") or []):
        path = f"temperature_information.{position}"
        if period["min_c"] > period["max_c"]:
            errors.append(FieldError(
                field=f"{path}.min_c",
                reason=f"minimum {period['min_c']} °C is above maximum {period['max_c']} °C",
            ))
        mean = period.get("mean_c")
        if mean is not None and not period["min_c"] <= mean <= period["max_c"]:
            errors.append(FieldError(
                field=f"{path}.mean_c",
                reason=f"mean {mean} °C lies outside the period's minimum and maximum",
            ))
        start, end = parse_datetime(period["period_start"]), parse_datetime(period["period_end"])
        if start is not None and end is not None and end < start:
            errors.append(FieldError(
                field=f"{path}.period_end", reason="the period ends before it starts"
            ))
    return errors
