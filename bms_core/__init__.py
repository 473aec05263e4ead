"""Battery science for 48 V LFP packs: analytics, charge limits and the Pylontech CAN codec.

A pure library (numpy, python-can, cantools); it never imports Django.
"""

from bms_core.analyzer import Analyzer, analyze
from bms_core.columns import History, parse_timestamps, validate
from bms_core.csv_io import analyze_file, iter_csv, read_csv, write_csv
from bms_core.options import AnalysisOptions
from bms_core.rainflow import RainflowCounter, extract_cycles

__all__ = [
    "AnalysisOptions",
    "Analyzer",
    "History",
    "RainflowCounter",
    "analyze",
    "analyze_file",
    "iter_csv",
    "extract_cycles",
    "parse_timestamps",
    "read_csv",
    "validate",
    "write_csv",
]
