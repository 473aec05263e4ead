"""PLACEHOLDER owned by tel-pipeline, which replaces this whole file with the health pipeline.

Ingestion calls `battery_processing_request` after a batch commits (the telemetry contract);
until the pipeline lands it only has to exist and never raise into the ingest request.
"""

from __future__ import annotations

from datetime import datetime


def battery_processing_request(*, battery_id: int, earliest: datetime) -> None:
    """Ask for the battery's samples from `earliest` on to be analysed (placeholder: no-op)."""
