"""Make the checkout importable for this suite.

The suite runs from a plain checkout (``.venv/bin/pytest -p no:django tests/bms_core``), where
an editable install made before ``bms_core`` had modules may not map it; pytest's default
import mode only puts this test directory on ``sys.path``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
