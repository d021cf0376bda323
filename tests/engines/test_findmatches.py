"""The FindMatches engine on a people table with known duplicates: blocking, learning from
labels, trade-offs, provided labels, groups, persistence, labeling sets and evaluation."""

from __future__ import annotations

import itertools
import json
import sys

import numpy as np
import pandas as pd
import pytest

from emulator.engines.findmatches import (FindMatchesModel, FindMatchesParams, LabelError, MatchTable, column_specs,
                                          evaluate, generate_labeling_sets)
from emulator.engines.findmatches.blocking import BlockingSettings
from tests.findmatches_data import grouped_pairs, pair_f1, people, true_pairs

KEY = "id"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return people(originals=400, seed=7)


@pytest.fixture(scope="module")
def records(data: pd.DataFrame) -> pd.DataFrame:
    return data.drop(columns=["entity"])


@pytest.fixture(scope="module")
def truth(data: pd.DataFrame) -> set:
    return true_pairs(data["entity"].to_numpy(), data[KEY].to_numpy())


def answer(sets: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Label a labeling file from the truth: same entity, same label."""
    entity = dict(zip(data[KEY], data["entity"]))
    labelled = sets.copy()
    labelled["label"] = [f"e{entity[k]}" for k in labelled[KEY]]
    return labelled


def active_labels(records: pd.DataFrame, data: pd.DataFrame, params: FindMatchesParams, rounds: int = 2) -> pd.DataFrame:
    labels, model = None, None
    for r in range(rounds):
        sets = answer(generate_labeling_sets(records, params, labels=labels, model=model, set_id_prefix=f"r{r}", seed=r), data)
        labels = sets if labels is None else pd.concat([labels, sets], ignore_index=True)
        model = FindMatchesModel.fit(records, labels, params)
    return labels


@pytest.fixture(scope="module")
def labels(records: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    return active_labels(records, data, FindMatchesParams(KEY))


def matched_f1(model: FindMatchesModel, records: pd.DataFrame, truth: set) -> tuple[float, float, float]:
    out = model.match(records)
    return pair_f1(grouped_pairs(out["match_id"].to_numpy(), out[KEY].to_numpy()), truth)


def test_blocking_finds_nearly_every_true_pair_with_few_candidates(records, truth) -> None:
    table = MatchTable(records, column_specs(records, KEY), KEY)
    ids = records[KEY].to_numpy()
    found = {}
    for tradeoff in (0.0, 0.5, 1.0):
        left, right = table.candidates(BlockingSettings.from_tradeoff(tradeoff))
        pairs = {(min(a, b), max(a, b)) for a, b in zip(ids[left], ids[right])}
        found[tradeoff] = (len(pairs & truth) / len(truth), len(pairs) / len(records))
    recall, per_record = found[0.5]
    assert recall >= 0.99 and per_record <= 10, found
    # AccuracyCostTradeoff widens the search: more candidates and no lower recall
    assert found[0.0][1] < found[0.5][1] < found[1.0][1], found
    assert found[0.0][0] <= found[0.5][0] <= found[1.0][0], found
    # far fewer candidates than all pairs
    assert found[1.0][1] < (len(records) - 1) / 2 / 10


def test_labels_from_two_rounds_match_the_table_well_and_random_labels_do_not(records, data, labels, truth) -> None:
    params = FindMatchesParams(KEY)
    assert len(labels) <= 200 and labels["labeling_set_id"].nunique() == 20
    precision, recall, f1 = matched_f1(FindMatchesModel.fit(records, labels, params), records, truth)
    print(f"true pair metrics after 2 labeling rounds: P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    assert f1 >= 0.9 and precision >= 0.9 and recall >= 0.85
    rng = np.random.default_rng(0)
    shuffled = labels.copy()
    shuffled["label"] = rng.choice(["a", "b"], size=len(shuffled))
    _, _, random_f1 = matched_f1(FindMatchesModel.fit(records, shuffled, params), records, truth)
    print(f"random labels: F1={random_f1:.3f}")
    assert random_f1 < 0.5


def test_precision_recall_tradeoff_moves_the_threshold(records, labels, truth) -> None:
    results = {}
    for tradeoff in (0.0, 0.5, 1.0):
        model = FindMatchesModel.fit(records, labels, FindMatchesParams(KEY, precision_recall_tradeoff=tradeoff))
        out = model.match(records)
        predicted = grouped_pairs(out["match_id"].to_numpy(), out[KEY].to_numpy())
        results[tradeoff] = (len(predicted), *pair_f1(predicted, truth))
    assert results[0.0][0] > results[0.5][0] > results[1.0][0], results  # fewer matches as precision is favoured
    assert results[1.0][1] >= results[0.0][1] and results[0.0][2] >= results[1.0][2], results


def test_groups_have_stable_ids_and_confidence_scores(records, labels) -> None:
    model = FindMatchesModel.fit(records, labels, FindMatchesParams(KEY))
    out = model.match(records)
    assert out["match_id"].dtype == np.int64 and (out["match_id"] >= 0).all()
    assert out["match_confidence_score"].between(0, 1).all()
    # every member of a group has the group's score; groups of several records are confident
    per_group = out.groupby("match_id")["match_confidence_score"].nunique()
    assert (per_group == 1).all()
    multi = out[out.groupby("match_id")[KEY].transform("size") > 1]
    assert multi["match_confidence_score"].mean() > 0.8
    # the same input in another order gives the same ids
    shuffled = model.match(records.sample(frac=1.0, random_state=3))
    assert dict(zip(out[KEY], out["match_id"])) == dict(zip(shuffled[KEY], shuffled["match_id"]))


def test_model_round_trips_through_json_only(records, labels) -> None:
    model = FindMatchesModel.fit(records, labels, FindMatchesParams(KEY))
    text = model.to_json()
    json.loads(text)  # plain JSON, no pickle
    again = FindMatchesModel.from_json(text)
    pd.testing.assert_frame_equal(model.match(records), again.match(records))
    with pytest.raises(ValueError):
        FindMatchesModel.from_dict({"format": "something else"})


def test_enforce_provided_labels(records, data, labels) -> None:
    entity = dict(zip(data[KEY], data["entity"]))
    free = FindMatchesModel.fit(records, labels, FindMatchesParams(KEY)).match(records)
    group = dict(zip(free[KEY], free["match_id"]))
    together = free[free.groupby("match_id")[KEY].transform("size") == 2].sort_values(["match_id", KEY])
    dup_a, dup_b = together[KEY].to_numpy()[:2]  # matched by the model: labelled "different" below
    assert group[dup_a] == group[dup_b] and entity[dup_a] == entity[dup_b]
    strangers = [k for k in data[KEY] if entity[k] != entity[dup_a]][:2]  # different people: labelled "same"
    assert entity[strangers[0]] != entity[strangers[1]] and group[strangers[0]] != group[strangers[1]]
    extra = pd.DataFrame({"labeling_set_id": ["forced-1", "forced-1", "forced-2", "forced-2"],
                          "label": ["x", "y", "z", "z"], KEY: [dup_a, dup_b, *strangers]})
    forced = pd.concat([labels, extra], ignore_index=True)
    enforced = FindMatchesModel.fit(records, forced, FindMatchesParams(KEY, enforce_provided_labels=True)).match(records)
    group = dict(zip(enforced[KEY], enforced["match_id"]))
    assert group[dup_a] != group[dup_b] and group[strangers[0]] == group[strangers[1]]
    # every provided label holds in the enforced output
    for _, rows in forced.groupby("labeling_set_id"):
        for (_, a), (_, b) in itertools.combinations(rows.iterrows(), 2):
            assert (group[a[KEY]] == group[b[KEY]]) == (a["label"] == b["label"])
    # without EnforceProvidedLabels the same labels are only training data
    unenforced = FindMatchesModel.fit(records, forced, FindMatchesParams(KEY)).match(records)
    group = dict(zip(unenforced[KEY], unenforced["match_id"]))
    assert group[strangers[0]] != group[strangers[1]]


def test_labeling_sets_layout_and_mix(records, data) -> None:
    params = FindMatchesParams(KEY)
    sets = generate_labeling_sets(records, params, seed=1, set_id_prefix="first")
    assert list(sets.columns) == ["labeling_set_id", "label", *records.columns]
    assert (sets["label"] == "").all()
    sizes = sets.groupby("labeling_set_id").size()
    assert len(sizes) == 10 and sizes.between(2, 30).all() and 80 <= len(sets) <= 100
    assert sets[KEY].is_unique and set(sets[KEY]) <= set(records[KEY])
    labelled = answer(sets, data)
    has_match = labelled.groupby("labeling_set_id")["label"].apply(lambda s: s.duplicated().any())
    has_other = labelled.groupby("labeling_set_id")["label"].nunique() > 1
    assert has_match.sum() >= 7 and has_other.all()  # most sets hold a match, every set a non-match
    # the next round, chosen by the trained model, offers none of the labelled records
    model = FindMatchesModel.fit(records, labelled, params)
    second = generate_labeling_sets(records, params, labels=labelled, model=model, seed=2, set_id_prefix="second")
    assert not set(second[KEY]) & set(sets[KEY])
    # ... and its seed pairs are the ones the model is least sure about
    table = MatchTable(records, model.columns, KEY)
    left, right = table.candidates(params.blocking)
    margin = np.abs(model.pair_logits(table, left, right) - model.threshold_logit)
    position = {k: i for i, k in enumerate(records[KEY])}
    first_rows = second.groupby("labeling_set_id")[KEY].apply(lambda s: tuple(sorted(position[k] for k in s.iloc[:2])))
    seed_margins = [margin[(left == a) & (right == b)][0] for a, b in first_rows]
    assert np.median(seed_margins) < np.quantile(margin, 0.2)


def test_evaluation_counts_the_held_out_pairs_and_tracks_true_quality(records, data, labels, truth) -> None:
    params = FindMatchesParams(KEY)
    metrics = evaluate(records, labels, params)
    # reference: the labelled pairs counted independently
    pairs = same = 0
    for _, rows in labels.groupby("labeling_set_id"):
        n = len(rows)
        pairs += n * (n - 1) // 2
        same += sum(c * (c - 1) // 2 for c in rows["label"].value_counts())
    cm = metrics["ConfusionMatrix"]
    assert sum(cm.values()) == pairs
    assert cm["NumTruePositives"] + cm["NumFalseNegatives"] == same
    tp, fp, fn = cm["NumTruePositives"], cm["NumFalsePositives"], cm["NumFalseNegatives"]
    assert metrics["Precision"] == pytest.approx(tp / (tp + fp), abs=1e-5)
    assert metrics["Recall"] == pytest.approx(tp / (tp + fn), abs=1e-5)
    _, _, true_f1 = matched_f1(FindMatchesModel.fit(records, labels, params), records, truth)
    print(f"evaluation F1 {metrics['F1']:.3f} vs true F1 {true_f1:.3f}")
    assert abs(metrics["F1"] - true_f1) <= 0.1
    assert 0 < metrics["AreaUnderPRCurve"] <= 1 and metrics["AreaUnderPRCurve"] >= 0.9
    importances = metrics["ColumnImportances"]
    assert {c["ColumnName"] for c in importances} == set(records.columns) - {KEY}
    assert sum(c["Importance"] for c in importances) == pytest.approx(1.0, abs=1e-3)
    assert [c["Importance"] for c in importances] == sorted((c["Importance"] for c in importances), reverse=True)
    # control: random labels give poor held-out metrics
    shuffled = labels.copy()
    shuffled["label"] = np.random.default_rng(1).choice(["a", "b"], size=len(shuffled))
    control = evaluate(records, shuffled, params)
    print(f"random labels: evaluation F1 {control['F1']:.3f}")
    assert control["F1"] < 0.75 and control["AreaUnderPRCurve"] < 0.75


def test_label_errors(records) -> None:
    params = FindMatchesParams(KEY)
    with pytest.raises(LabelError, match="labeling_set_id"):
        FindMatchesModel.fit(records, pd.DataFrame({"label": ["a"], KEY: [1000]}), params)
    with pytest.raises(LabelError, match="not in the input table"):
        FindMatchesModel.fit(records, pd.DataFrame({"labeling_set_id": ["s", "s"], "label": ["a", "b"], KEY: [1000, 5]}), params)
    only_matches = pd.DataFrame({"labeling_set_id": ["s", "s"], "label": ["a", "a"], KEY: [1000, 1001]})
    with pytest.raises(LabelError, match="non-matching"):
        FindMatchesModel.fit(records, only_matches, params)
    # labels never relate records across sets: same label in two sets is not a match
    across = pd.DataFrame({"labeling_set_id": ["s", "t"], "label": ["a", "a"], KEY: [1000, 1001]})
    with pytest.raises(LabelError):
        FindMatchesModel.fit(records, across, params)


def test_numeric_and_date_columns_by_schema() -> None:
    frame = pd.DataFrame({"k": [1, 2, 3, 4], "amount": [10.0, 10.5, 300.0, None],
                          "when": ["2020-01-01", "2020-01-02", "2021-06-01", ""], "name": ["a", "b", "c", "d"]})
    kinds = {c.name: c.kind for c in column_specs(frame, "k", {"amount": "double", "when": "date", "name": "string"})}
    assert kinds == {"amount": "numeric", "when": "date", "name": "string"}
    table = MatchTable(frame, column_specs(frame, "k", {"amount": "double", "when": "date"}), "k")
    x = table.features(np.array([0, 0, 0]), np.array([1, 2, 3]))
    from emulator.engines.findmatches.features import feature_names

    columns = feature_names(table.columns)
    closeness = x[:, columns.index("amount:closeness")]
    assert closeness[0] > closeness[1] and closeness[2] == 0.0  # nearer amounts are closer; missing scores 0
    assert x[2, columns.index("amount:missing")] == 1.0
    days = x[:, columns.index("when:closeness")]
    assert days[0] > days[1]


def test_a_component_too_large_for_linkage_is_cut_by_its_stronger_links() -> None:
    from emulator.engines.findmatches.clustering import MAX_LINKAGE_ROWS, split_edges, upper_pairs

    half = MAX_LINKAGE_ROWS  # two tight groups, together twice the linkage limit
    i, j = upper_pairs(half)
    left, right = np.concatenate([i, i + half]), np.concatenate([j, j + half])
    prob = np.full(left.size, 0.99)
    # weak links (just above the threshold) chain the two groups into one component
    bridge_l, bridge_r = np.arange(5), np.arange(5) + half
    labels = split_edges(2 * half, np.concatenate([left, bridge_l]), np.concatenate([right, bridge_r]),
                         np.concatenate([prob, np.full(5, 0.55)]), np.zeros((0, 2), dtype=np.int64),
                         np.zeros((0, 2), dtype=np.int64), threshold=0.5)
    assert np.unique(labels[:half]).size == 1 and np.unique(labels[half:]).size == 1
    assert labels[0] != labels[half]


def test_group_ids_come_from_the_lowest_key_of_each_group() -> None:
    from emulator.engines.findmatches.clustering import group_ids, lowest_key, stable_id

    keys = np.array(["10", "9", "b", "a", "7", "x10"], dtype=object)
    group = np.array([0, 0, 2, 2, 4, 4])
    ids = group_ids(keys, group)
    for g in (0, 2, 4):
        members = [str(k) for k in keys[group == g]]
        assert (ids[group == g] == stable_id(lowest_key(members))).all()
    assert ids[0] == stable_id("9") and ids[2] == stable_id("a") and ids[4] == stable_id("7")


def test_blocking_grams_and_group_ids_are_the_same_without_pyarrow(monkeypatch) -> None:
    """pyarrow is optional (the ``parquet`` extra): the 3-grams and the match ids computed
    without it are exactly those computed with it."""
    from emulator.engines.findmatches.blocking import char_trigrams
    from emulator.engines.findmatches.clustering import group_ids
    texts = [np.array(["", "Ann", "Zoë Smith-Jones", "x" * 90, "ab", "日本語テキスト"], dtype=object),
             np.array(["12 Rue d'Été", "", "b", "", "abc", "cd"], dtype=object)]
    keys = np.array(["k10", "k9", "é1", "e2", "K1", "k1"], dtype=object)
    group = np.array([0, 0, 1, 1, 2, 2])
    with_pyarrow = (char_trigrams(texts), group_ids(keys, group))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.compute", None)
    without = (char_trigrams(texts), group_ids(keys, group))
    assert with_pyarrow[0].shape == without[0].shape and (with_pyarrow[0] != without[0]).nnz == 0
    assert with_pyarrow[0].nnz > 20
    assert with_pyarrow[1].tolist() == without[1].tolist()
