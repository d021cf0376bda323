"""Label semantics: within one labeling set, records with the same label match and
records with different labels do not; labels never relate records across sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clustering import upper_pairs
from .columns import key_text

LABELING_SET_ID = "labeling_set_id"
LABEL = "label"


class LabelError(ValueError):
    """Labels that cannot be used; the message says which rows and why."""


@dataclass
class LabelledPairs:
    """Row-position pairs with their truth (1 match, 0 no match) and labeling set."""

    left: np.ndarray
    right: np.ndarray
    match: np.ndarray
    labeling_set: np.ndarray

    def __len__(self) -> int:
        return int(self.left.size)

    def subset(self, mask: np.ndarray) -> "LabelledPairs":
        return LabelledPairs(self.left[mask], self.right[mask], self.match[mask], self.labeling_set[mask])


def clean_labels(labels: pd.DataFrame, primary_key: str) -> pd.DataFrame:
    """``labeling_set_id``, ``label`` and the key as text, unlabelled rows dropped.

    Raises LabelError when a needed column is missing."""
    missing = [c for c in (LABELING_SET_ID, LABEL, primary_key) if c not in labels.columns]
    if missing:
        raise LabelError(f"The label file must have the columns {LABELING_SET_ID}, {LABEL} and the primary key "
                         f"column {primary_key}; missing: {', '.join(missing)}")
    out = pd.DataFrame({
        LABELING_SET_ID: labels[LABELING_SET_ID].astype("string").fillna("").str.strip().to_numpy(dtype=object),
        LABEL: labels[LABEL].astype("string").fillna("").str.strip().to_numpy(dtype=object),
        primary_key: key_text(labels[primary_key]),
    })
    out = out[(out[LABEL] != "") & (out[LABELING_SET_ID] != "") & (out[primary_key] != "")]
    return out.drop_duplicates([LABELING_SET_ID, primary_key], keep="last").reset_index(drop=True)


def labelled_pairs(labels: pd.DataFrame, keys: np.ndarray, primary_key: str) -> LabelledPairs:
    """Every within-set pair of labelled records, as positions in the table whose key texts are ``keys``."""
    cleaned = clean_labels(labels, primary_key)
    position = pd.Series(np.arange(keys.size), index=pd.Index(keys))
    position = position[~position.index.duplicated(keep="first")]
    known = set(position.index.tolist())
    found = pd.Series([k in known for k in cleaned[primary_key].tolist()], index=cleaned.index, dtype=bool)
    if not found.all():
        unknown = cleaned.loc[~found, primary_key].head(5).tolist()
        raise LabelError(f"{int((~found).sum())} labelled record(s) are not in the input table "
                         f"(primary key {primary_key} values such as {', '.join(map(str, unknown))})")
    lookup = dict(zip(position.index.tolist(), position.to_numpy().tolist()))
    rows = np.array([lookup[k] for k in cleaned[primary_key].tolist()], dtype=np.int64)
    left, right, match, sets = [], [], [], []
    for set_id, group in cleaned.assign(_row=rows).groupby(LABELING_SET_ID, sort=True):
        r = group["_row"].to_numpy()
        lab = group[LABEL].to_numpy()
        if r.size < 2:
            continue
        i, j = upper_pairs(r.size)
        keep = r[i] != r[j]
        left.append(r[i][keep])
        right.append(r[j][keep])
        match.append((lab[i] == lab[j])[keep].astype(int))
        sets.append(np.full(int(keep.sum()), str(set_id), dtype=object))
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return LabelledPairs(empty, empty, empty.astype(int), np.zeros(0, dtype=object))
    return LabelledPairs(np.concatenate(left).astype(np.int64), np.concatenate(right).astype(np.int64),
                         np.concatenate(match), np.concatenate(sets))
