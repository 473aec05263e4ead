"""The closed vocabularies of the passport domain, shared by models, attributes and services."""

from django.db import models


class Category(models.TextChoices):
    EV = "ev", "Electric vehicle battery"
    LMT = "lmt", "Light means of transport battery"
    INDUSTRIAL = "industrial", "Industrial battery"
    # Industrial battery used in a stationary battery energy storage system (Art. 3(1)(15)).
    STATIONARY = "stationary", "Stationary battery energy storage system"


class Chemistry(models.TextChoices):
    LFP = "LFP", "Lithium iron phosphate (LiFePO4)"
    NMC = "NMC", "Lithium nickel manganese cobalt oxide"
    NCA = "NCA", "Lithium nickel cobalt aluminium oxide"
    LMO = "LMO", "Lithium manganese oxide"
    LTO = "LTO", "Lithium titanate"
    LCO = "LCO", "Lithium cobalt oxide"
    NA_ION = "NaIon", "Sodium-ion"
    LEAD_ACID = "LeadAcid", "Lead-acid"
    NIMH = "NiMH", "Nickel-metal hydride"
    OTHER = "other", "Other"


class BatteryStatus(models.TextChoices):
    """Annex XIII 4(c), plus `recycled`, the end of the passport (Art. 77(8))."""

    ORIGINAL = "original", "Original"
    REPURPOSED = "repurposed", "Repurposed"
    REUSED = "re-used", "Re-used"
    REMANUFACTURED = "remanufactured", "Remanufactured"
    WASTE = "waste", "Waste"
    RECYCLED = "recycled", "Recycled"


class PassportState(models.TextChoices):
    ACTIVE = "active", "Active"
    # Replaced by a newer passport after repurposing or remanufacturing (Art. 77(7)).
    SUPERSEDED = "superseded", "Superseded"
    # The battery was recycled (Art. 77(8)); kept read-only and readable (Art. 78(e)).
    CEASED = "ceased", "Ceased"


class OrganisationKind(models.TextChoices):
    MANUFACTURER = "manufacturer", "Manufacturer"
    IMPORTER = "importer", "Importer"
    DISTRIBUTOR = "distributor", "Distributor"
    REPAIRER = "repairer", "Repairer"
    REMANUFACTURER = "remanufacturer", "Remanufacturer"
    REPURPOSER = "repurposer", "Repurposer"
    RECYCLER = "recycler", "Recycler / waste management operator"
    PRO = "pro", "Producer responsibility organisation"
    AUTHORITY = "authority", "Authority (market surveillance, notified body, Commission)"


# Persons with a legitimate interest in the sense of Art. 77(2)(b): they read Annex XIII point 2,
# and point 4 of the batteries they have an interest in.
LEGITIMATE_INTEREST_KINDS = frozenset(
    {
        OrganisationKind.REPAIRER,
        OrganisationKind.REMANUFACTURER,
        OrganisationKind.REPURPOSER,
        OrganisationKind.RECYCLER,
        OrganisationKind.PRO,
    }
)

# Organisations that place battery models on the market under their own name: the original
# manufacturer, and the operators that put repurposed or remanufactured batteries back on it.
MODEL_OWNER_KINDS = frozenset(
    {
        OrganisationKind.MANUFACTURER,
        OrganisationKind.REMANUFACTURER,
        OrganisationKind.REPURPOSER,
    }
)


class IdentifierScheme(models.TextChoices):
    GS1 = "gs1", "GS1 company prefix"
    ISO15459 = "iso15459", "ISO/IEC 15459 issuing agency code + company identification"


class HandoverKind(models.TextChoices):
    """Why responsibility for a battery moves to another economic operator (Art. 77(4), (7))."""

    REPURPOSE = "repurpose", "Repurposing or preparation for repurposing"
    REMANUFACTURE = "remanufacture", "Remanufacturing"
    PREPARE_FOR_REUSE = "prepare-for-reuse", "Preparation for re-use (from waste)"
    WASTE = "waste", "Waste handed to the producer, its PRO or a waste management operator"
    # No change of status: the importer or authorised representative takes over, or another
    # company takes over the operator's business (Art. 77(4)).
    IMPORTER = "importer", "Importer takes over responsibility"
    AUTHORISED_REPRESENTATIVE = "authorised-representative", "Authorised representative takes over"
    TAKEOVER = "takeover", "Takeover of the operator's business"


class HandoverState(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class MembershipRole(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member", "Member"


class PerformanceClass(models.TextChoices):
    """Carbon footprint performance class (Art. 7(2)); A is the best."""

    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


# --- codes of the Battery Pass consortium data model v1.2 ----------------------------------------
# Kept as codes (not free text) so that an export can name them in the consortium's terms.


class DocumentType(models.TextChoices):
    """Kind of a dismantling / removal document (Circularity aspect, `documentType`)."""

    BILL_OF_MATERIAL = "BillOfMaterial", "Bill of material"
    MODEL_3D = "Model3D", "3D model"
    DISMANTLING_MANUAL = "DismantlingManual", "Dismantling manual"
    REMOVAL_MANUAL = "RemovalManual", "Removal manual"
    OTHER_MANUAL = "OtherManual", "Other manual"
    DRAWING = "Drawing", "Drawing"


class LabelSubject(models.TextChoices):
    """What a label or symbol is about (Labeling aspect, `labelingSubject`)."""

    SEPARATE_COLLECTION = "SeparateCollection", "Separate collection"
    HAZARDOUS_MATERIAL = "HazardousMaterial", "Hazardous material"
    CARBON_FOOTPRINT = "CarbonFootPrint", "Carbon footprint"
    EXTINGUISHING_AGENT = "ExtinguishingAgent", "Extinguishing agent"


class HazardClass(models.TextChoices):
    """The CLP hazard classes the consortium model codes (MaterialComposition aspect,
    `hazardousSubstanceClass`). Other classes (e.g. flammable liquids) have no code there."""

    ACUTE_TOXICITY = "AcuteToxicity", "Acute toxicity"
    SKIN_CORROSION_OR_IRRITATION = "SkinCorrosionOrIrritation", "Skin corrosion or irritation"
    EYE_DAMAGE_OR_IRRITATION = "EyeDamageOrIrritation", "Serious eye damage or eye irritation"
