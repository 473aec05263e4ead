"""Telemetry: BMS collectors, ingestion of their samples, and the health pipeline.

This package holds a Django app (models, services, API) and the collector
(`telemetry.collector`), which runs on a small device without Django; so nothing here may
import Django at package level.
"""
