"""Business rules of the passport domain, as functions named <entity>_<action>.

Import from here: `from passport.services import battery_register, passport_read, ...`.
"""

from passport.services.batteries import (
    RegisteredBattery,
    battery_claim,
    battery_claim_code_reissue,
    battery_register,
    battery_register_bulk,
    battery_update,
    passport_update,
)
from passport.services.battery_models import battery_model_create, battery_model_update
from passport.services.documents import (
    PassportReading,
    passport_document,
    passport_element,
    passport_read,
)
from passport.services.handovers import (
    handover_accept,
    handover_decline,
    handover_offer,
    handover_withdraw,
)
from passport.services.health import battery_health_record, health_values_from_report
from passport.services.lifecycle import battery_change_status, transition_refusal
from passport.services.organisations import (
    access_grant_create,
    access_grant_revoke,
    membership_create,
    organisation_create,
)
from passport.services.versions import ChainReport, version_chain_verify, version_chain_verify_all

__all__ = [
    "ChainReport",
    "PassportReading",
    "RegisteredBattery",
    "access_grant_create",
    "access_grant_revoke",
    "battery_change_status",
    "battery_claim",
    "battery_claim_code_reissue",
    "battery_health_record",
    "battery_model_create",
    "battery_model_update",
    "battery_register",
    "battery_register_bulk",
    "battery_update",
    "handover_accept",
    "handover_decline",
    "handover_offer",
    "handover_withdraw",
    "health_values_from_report",
    "membership_create",
    "organisation_create",
    "passport_document",
    "passport_element",
    "passport_read",
    "passport_update",
    "transition_refusal",
    "version_chain_verify",
    "version_chain_verify_all",
]
