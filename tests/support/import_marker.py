"""Writes a marker file when imported, to show whether a config made isoloop import it.

The marker path comes from `$ISOLOOP_TEST_IMPORT_MARKER` (unset: nothing is written).
"""

from __future__ import annotations

import os
from pathlib import Path

from isoloop.engine.strategy import Strategy

if os.environ.get("ISOLOOP_TEST_IMPORT_MARKER"):
    Path(os.environ["ISOLOOP_TEST_IMPORT_MARKER"]).write_text("imported\n", encoding="utf-8")


class MarkerStrategy(Strategy):
    """A do-nothing strategy in a module whose import leaves a trace."""
