"""Thin ORM models of the passport domain. Business rules live in passport/services/."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from passport.vocabulary import (
    LEGITIMATE_INTEREST_KINDS,
    BatteryStatus,
    Category,
    Chemistry,
    HandoverKind,
    HandoverState,
    IdentifierScheme,
    MembershipRole,
    OrganisationKind,
    PassportState,
)


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    lei = models.CharField("LEI (ISO 17442)", max_length=20, blank=True)
    gln = models.CharField("GLN (GS1)", max_length=13, blank=True)
    eori = models.CharField("EORI", max_length=17, blank=True)
    vat = models.CharField("VAT number", max_length=20, blank=True)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField("country (ISO 3166-1 alpha-2)", max_length=2, blank=True)
    website = models.URLField(max_length=2000, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lei"], condition=~Q(lei=""), name="organisation_lei_unique"
            ),
            models.UniqueConstraint(
                fields=["gln"], condition=~Q(gln=""), name="organisation_gln_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_legitimate_interest(self) -> bool:
        return self.kind in LEGITIMATE_INTEREST_KINDS

    @property
    def is_authority(self) -> bool:
        return self.kind == OrganisationKind.AUTHORITY


class IdentifierPrefix(models.Model):
    """A GS1 company prefix or an ISO/IEC 15459 issuing-agency prefix (issuing agency code +
    company identification) licensed to one organisation: only it may register batteries whose
    identifiers start with it (passport.services.prefixes)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="identifier_prefixes"
    )
    scheme = models.CharField(max_length=10, choices=IdentifierScheme.choices)
    prefix = models.CharField(max_length=30)

    class Meta:
        ordering = ["scheme", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "prefix"], name="identifier_prefix_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.prefix} ({self.organisation.name})"


class Membership(models.Model):
    """A user acting for an organisation. Users without a membership act as private persons
    (e.g. the owner of a home battery)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation.name} ({self.role})"


class BatteryModel(models.Model):
    manufacturer = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="battery_models"
    )
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    chemistry = models.CharField(max_length=20, choices=Chemistry.choices)
    # Every model-level attribute value, keyed by attribute key (validated by the services),
    # plus defaults of item attributes that allow one (e.g. extinguishing_agent).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["manufacturer_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "name"], name="battery_model_name_unique_per_manufacturer"
            )
        ]
        indexes = [models.Index(fields=["category", "chemistry"])]

    def __str__(self) -> str:
        return self.name


class ModelGtin(models.Model):
    """A GTIN names one battery model (GS1 General Specifications: one trade item, one GTIN);
    bound when the model declares it or its first battery is registered."""

    gtin = models.CharField("GTIN-14", max_length=14, unique=True)
    model = models.ForeignKey(BatteryModel, on_delete=models.PROTECT, related_name="gtins")

    def __str__(self) -> str:
        return f"{self.gtin} → {self.model}"


class Battery(models.Model):
    # Canonical form: the GS1 element string "(01)<gtin14>(21)<serial>" when the battery carries a
    # GTIN, else the ISO/IEC 15459 string as given in upper case (see passport/identifiers.py).
    identifier = models.CharField(max_length=100, unique=True)
    # NULL rather than "" for batteries without a GTIN, as the contract's API exposes it.
    gtin = models.CharField("GTIN-14", max_length=14, null=True, blank=True)  # noqa: DJ001
    serial = models.CharField(max_length=50, blank=True)
    batch = models.CharField(max_length=50, blank=True)
    model = models.ForeignKey(BatteryModel, on_delete=models.PROTECT, related_name="batteries")
    manufacturing_date = models.DateField()
    # Where this unit was made, copied from the model at registration so that the record of
    # the unit does not move if the model's plant changes later.
    manufacturing_place = models.CharField(max_length=300, blank=True)
    put_into_service_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=BatteryStatus.choices, default=BatteryStatus.ORIGINAL
    )
    responsible_operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="responsible_for"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_batteries",
    )
    # HMAC-SHA256 of the one-time claim code; emptied once the code has been used.
    claim_code_hash = models.CharField(max_length=64, blank=True)
    # Item-level attribute values that have no column of their own (static and dynamic).
    data = models.JSONField(default=dict, blank=True)
    # Annex XIII 4(a): the performance values when the battery was placed on the market and at
    # each status change, one entry per change (passport.services.lifecycle).
    performance_history = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "batteries"
        constraints = [
            models.UniqueConstraint(
                fields=["gtin", "serial"],
                condition=Q(gtin__isnull=False),
                name="battery_gtin_serial_unique",
            )
        ]
        indexes = [
            # The regulator's search filters (passport.selectors.battery_search).
            models.Index(fields=["status"]),
            models.Index(fields=["manufacturing_date"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["model", "manufacturing_date"]),
        ]

    def __str__(self) -> str:
        return self.identifier


class Passport(models.Model):
    # Separate from the battery identifier: one battery may have several passports over its life.
    passport_id = models.CharField(max_length=60, unique=True)
    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="passports")
    predecessors = models.ManyToManyField(
        "self", symmetrical=False, related_name="successors", blank=True
    )
    state = models.CharField(
        max_length=12, choices=PassportState.choices, default=PassportState.ACTIVE
    )
    created_at = models.DateTimeField()
    ceased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A battery has at most one passport that is not superseded: the active one, or the
            # ceased one after recycling.
            models.UniqueConstraint(
                fields=["battery"],
                condition=~Q(state=PassportState.SUPERSEDED),
                name="passport_one_current_per_battery",
            )
        ]

    def __str__(self) -> str:
        return self.passport_id


class ImmutableRecord(Exception):
    """Raised when code tries to change or delete a stored Version."""


class Version(models.Model):
    """An immutable record of one change of a battery model or of a passport.

    `hash` is SHA-256 over a canonical JSON of the record and `prev_hash` (the previous version's
    hash for the same subject), so editing any stored version breaks the chain
    (see passport.services.versions).
    """

    model = models.ForeignKey(
        BatteryModel, on_delete=models.PROTECT, null=True, blank=True, related_name="versions"
    )
    passport = models.ForeignKey(
        Passport, on_delete=models.PROTECT, null=True, blank=True, related_name="versions"
    )
    seq = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField()
    changes = models.JSONField(default=dict)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(model__isnull=False) & Q(passport__isnull=True))
                | (Q(model__isnull=True) & Q(passport__isnull=False)),
                name="version_has_exactly_one_subject",
            ),
            models.UniqueConstraint(
                fields=["model", "seq"], condition=Q(model__isnull=False),
                name="version_model_seq_unique",
            ),
            models.UniqueConstraint(
                fields=["passport", "seq"], condition=Q(passport__isnull=False),
                name="version_passport_seq_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["passport", "created_at"]),
            models.Index(fields=["model", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.subject_label} v{self.seq}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableRecord("a stored version cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord("a stored version cannot be deleted")

    @property
    def subject_label(self) -> str:
        if self.passport is not None:
            return f"passport {self.passport.passport_id}"
        return f"battery model {self.model_id}"


class Handover(models.Model):
    """An offer to hand a battery over to another economic operator (with a status change, or a
    change of responsible operator alone). Nothing of the receiver changes until a member of the
    receiving organisation accepts (passport.services.handovers)."""

    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="handovers")
    kind = models.CharField(max_length=30, choices=HandoverKind.choices)
    # The status the battery takes on acceptance; empty for a change of operator alone.
    status = models.CharField(max_length=20, choices=BatteryStatus.choices, blank=True)
    from_operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="handovers_received")
    predecessors = models.ManyToManyField(Battery, related_name="+", blank=True)
    new_identifier = models.CharField(max_length=100, blank=True)
    model = models.ForeignKey(
        BatteryModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    # The written authorisation or agreement behind a change of operator (Art. 77(4)): what it
    # is, its reference and date, and where it is kept.
    authorisation = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=HandoverState.choices, default=HandoverState.OFFERED)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    offered_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    passport = models.ForeignKey(
        Passport, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The battery's passport after the accepted hand-over.",
    )

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            # One open offer per battery: a second one would race the first to acceptance.
            models.UniqueConstraint(
                fields=["battery"], condition=Q(state="offered"), name="handover_one_open_per_battery"
            )
        ]
        indexes = [models.Index(fields=["to_operator", "state"])]

    def __str__(self) -> str:
        return f"{self.battery} → {self.to_operator.name} ({self.kind}, {self.state})"


class AccessGrant(models.Model):
    """The owner lets an organisation (e.g. an energy aggregator or a repairer) read the point 4
    data of the owner's battery."""

    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="access_grants")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="access_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["battery", "organisation"], name="access_grant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} may read {self.battery}"


class AccessLog(models.Model):
    """One read of restricted passport data by someone other than the battery's operator."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    battery = models.ForeignKey(Battery, on_delete=models.PROTECT, related_name="access_logs")
    passport = models.ForeignKey(
        Passport, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    view = models.CharField(max_length=12)
    attribute_keys = models.JSONField(default=list)
    endpoint = models.CharField(max_length=300)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["battery", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.battery} ({self.view}) at {self.at:%Y-%m-%d %H:%M}"
