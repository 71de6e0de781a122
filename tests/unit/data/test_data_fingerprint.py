"""Data fingerprints identify content, not layout or process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
from backtesting.test import GOOG

from isoloop.data import Bars, fingerprint, load_frame


def test_independent_of_column_order_and_container() -> None:
    _, frame = load_frame("sample:GOOG")
    shuffled = frame[["Volume", "Close", "Open", "Low", "High"]]
    assert (
        fingerprint(frame) == fingerprint(shuffled) == fingerprint(Bars.from_frame(frame, "GOOG"))
    )


def test_matches_independent_hash_of_canonical_layout() -> None:
    _, frame = load_frame("synthetic:gbm?bars=50&seed=3")
    h = hashlib.sha256(b"isoloop-ohlcv-v1")
    h.update(np.int64(50).tobytes())
    h.update(frame.index.as_unit("ns").asi8.astype("<i8").tobytes())
    for col in ("Open", "High", "Low", "Close", "Volume"):
        h.update(frame[col].to_numpy().astype("<f8").tobytes())
    assert fingerprint(frame) == h.hexdigest()


def test_changes_with_one_value_or_one_timestamp() -> None:
    _, frame = load_frame("sample:GOOG")
    base = fingerprint(frame)
    bumped = frame.copy()
    bumped.iloc[100, 3] = np.nextafter(bumped.iloc[100, 3], np.inf)
    assert fingerprint(bumped) != base
    shifted = frame.copy()
    shifted.index = shifted.index.where(
        shifted.index != shifted.index[5], shifted.index[5] + np.timedelta64(1, "ns")
    )
    assert fingerprint(shifted) != base
    assert fingerprint(frame.iloc[:-1]) != base


def test_stable_across_processes_and_hash_seeds() -> None:
    code = (
        "from isoloop.data import load_frame, fingerprint; "
        "print(fingerprint(load_frame('sample:GOOG')[1]))"
    )
    outs = set()
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
            ).stdout.strip()
        )
    assert outs == {fingerprint(load_frame("sample:GOOG")[1])}
    assert len(GOOG) > 0
