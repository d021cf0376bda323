"""A people table with known duplicates (typos, missing values, swapped tokens) for FindMatches tests."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

FIRST = ["james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth",
         "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
         "chris", "nancy", "daniel", "lisa", "matthew", "betty", "anthony", "sandra", "mark", "ashley"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
        "hernandez", "lopez", "gonzalez", "wilson", "anderson", "taylor", "moore", "jackson", "martin", "lee",
        "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker"]
STREETS = ["oak", "pine", "maple", "cedar", "elm", "washington", "lake", "hill", "park", "main", "view", "river"]
KINDS = ["street", "avenue", "road", "lane", "drive"]
CITIES = ["springfield", "riverside", "franklin", "greenville", "bristol", "clinton", "fairview", "salem",
          "madison", "georgetown"]


def _typo(text: str, rng: np.random.Generator) -> str:
    if len(text) < 3:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = rng.integers(0, 3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + "aeiourstn"[int(rng.integers(0, 9))] + text[i + 1:]


def people(originals: int = 400, duplicated: float = 0.5, seed: int = 7) -> pd.DataFrame:
    """Columns id, first_name, last_name, address, city, birth_date, age, entity (the truth; drop it
    before matching). About ``duplicated`` of the originals get 1-2 perturbed copies."""
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(originals):
        birth = pd.Timestamp("1940-01-01") + pd.Timedelta(days=int(rng.integers(0, 365 * 60)))
        rows.append({"entity": e, "first_name": FIRST[rng.integers(len(FIRST))], "last_name": LAST[rng.integers(len(LAST))],
                     "address": f"{rng.integers(1, 999)} {STREETS[rng.integers(len(STREETS))]} {KINDS[rng.integers(len(KINDS))]}",
                     "city": CITIES[rng.integers(len(CITIES))], "birth_date": birth.strftime("%Y-%m-%d"),
                     "age": 2024 - birth.year})
    copies = []
    for row in rows:
        if rng.random() >= duplicated:
            continue
        for _ in range(1 + int(rng.random() < 0.3)):
            dup = dict(row)
            for column in rng.choice(["first_name", "last_name", "address", "city", "birth_date"], size=2, replace=False):
                change = rng.random()
                if change < 0.6:
                    dup[column] = _typo(str(dup[column]), rng)
                elif change < 0.8:
                    dup[column] = None
                elif column == "address":
                    parts = str(dup[column]).split()
                    dup[column] = " ".join(parts[1:] + parts[:1])
                elif column == "birth_date" and dup[column]:
                    y, m, d = str(dup[column]).split("-")
                    dup[column] = f"{y}-{d}-{m}" if int(d) <= 12 else f"{y}-{m}-{int(d) - 1:02d}"
            if rng.random() < 0.3:
                dup["age"] = int(dup["age"]) + 1
            copies.append(dup)
    table = pd.DataFrame(rows + copies).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    table.insert(0, "id", np.arange(1000, 1000 + len(table)))
    return table


def true_pairs(entities: np.ndarray, ids: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of ids (low, high) that are the same entity."""
    out: set[tuple[int, int]] = set()
    for _, group in pd.Series(ids).groupby(entities):
        for a, b in itertools.combinations(sorted(group.tolist()), 2):
            out.add((a, b))
    return out


def grouped_pairs(groups: np.ndarray, ids: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of ids put in the same group by a matcher."""
    return true_pairs(groups, ids)


def pair_f1(predicted: set, truth: set) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
