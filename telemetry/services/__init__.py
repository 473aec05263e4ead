"""Business rules of telemetry, as functions named <entity>_<action>.

Import the modules directly (`from telemetry.services.ingest import batch_ingest`): the
health pipeline and ingestion are developed side by side.
"""
