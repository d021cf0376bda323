"""Giving back the pages of file maps (emulator/engines/memory.py)."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from emulator.engines.memory import release_mapped

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")


def _resident_of_map(path: str) -> int:
    """Resident bytes of this process's maps of ``path`` (/proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                inside = line.rstrip().endswith(path)
            elif inside and first == "Rss:":
                total += int(line.split()[1]) * 1024
    return total


def test_released_columns_stop_counting_and_read_the_same(tmp_path) -> None:
    path = str(tmp_path / "column.npy")
    values = np.random.default_rng(0).normal(size=4_000_000)
    np.save(path, values)
    column = np.asarray(np.load(path, mmap_mode="r"))
    frame = pd.DataFrame({"x": column, "in memory": np.zeros(len(column))}, copy=False)
    total = float(frame["x"].sum())
    assert _resident_of_map(path) > 30_000_000  # read: the map's pages count in this process
    release_mapped(frame)
    assert _resident_of_map(path) < 1_000_000
    assert float(frame["x"].sum()) == total and np.array_equal(column, values)  # read again from the file
    in_memory = values.copy()
    release_mapped(in_memory, pd.Series(in_memory), "not an array")  # nothing mapped: left alone
    assert np.array_equal(in_memory, values)
