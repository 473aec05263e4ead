"""The collector that runs next to a battery (a Raspberry Pi on its CAN bus): Pylontech frames in,
batches of samples out to the service's `POST /api/v1/telemetry/batches/`, with a durable local
queue in between. Standard library + `bms_core` (numpy, python-can, cantools) only: it never
imports Django, so `pip install battery-passport[collector]` is all a device needs.

    python -m telemetry.collector --bus socketcan --channel can0 --url URL --key KEY --battery ID

See docs/collector.md.
"""

from .batches import SAMPLE_FIELDS, SealedBatch, batch_build, batch_document, batch_id_for
from .delivery import Answer, Backoff, Verdict, batch_post, batches_url
from .runner import Collector, CollectorConfig, DeliveryStats
from .spool import Spool, SpooledBatch, SpoolStatus

__all__ = [
    "SAMPLE_FIELDS",
    "Answer",
    "Backoff",
    "Collector",
    "CollectorConfig",
    "DeliveryStats",
    "SealedBatch",
    "Spool",
    "SpoolStatus",
    "SpooledBatch",
    "Verdict",
    "batch_build",
    "batch_document",
    "batch_id_for",
    "batch_post",
    "batches_url",
]
