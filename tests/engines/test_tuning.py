"""The tuning engine without HTTP: scaling, validation and the four strategies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulator.engines.tuning import HyperbandSearch, SpaceError, make_strategy, parse_ranges


def _space(**kinds):
    return parse_ranges(kinds)


def test_scaling_types_map_the_unit_interval_as_aws_describes() -> None:
    space = _space(ContinuousParameterRanges=[
        {"Name": "lin", "MinValue": "1", "MaxValue": "3"},
        {"Name": "log", "MinValue": "0.001", "MaxValue": "10", "ScalingType": "Logarithmic"},
        {"Name": "rev", "MinValue": "0.9", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"}])
    lin, log, rev = space.ranges
    assert lin.decode(0.5) == pytest.approx(2.0)
    assert log.decode(0.0) == pytest.approx(0.001) and log.decode(1.0) == pytest.approx(10)
    assert log.decode(0.5) == pytest.approx(math.sqrt(0.001 * 10))  # geometric middle
    assert rev.decode(0.5) == pytest.approx(1 - math.sqrt(0.1 * 0.001))  # dense near 1
    for r in (lin, log, rev):
        for u in (0.0, 0.25, 0.8, 1.0):
            assert r.encode(r.decode(u)) == pytest.approx(u)


def test_integer_ranges_round_and_stay_inside() -> None:
    space = _space(IntegerParameterRanges=[{"Name": "k", "MinValue": "1", "MaxValue": "100", "ScalingType": "Logarithmic"}])
    values = {space.decode(np.array([u]))["k"] for u in np.linspace(0, 1, 50)}
    assert all(v.isdigit() and 1 <= int(v) <= 100 for v in values)
    assert {"1", "100"} <= values


@pytest.mark.parametrize("ranges,message", [
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "5", "MaxValue": "1"}]}, "less than or equal"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "1.5", "MaxValue": "3"}]}, "not an integer"),
    ({"ContinuousParameterRanges": [{"Name": "a", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]},
     "greater than 0"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "3", "ScalingType": "ReverseLogarithmic"}]},
     "only for continuous"),
    ({"ContinuousParameterRanges": [{"Name": "a", "MinValue": "0", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"}]},
     "0<=x<1.0"),
    ({"CategoricalParameterRanges": [{"Name": "a", "Values": ["x", "x"]}]}, "duplicate"),
    ({"CategoricalParameterRanges": [{"Name": "a", "Values": ["x"]}],
      "IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "3"}]}, "more than one parameter range"),
])
def test_invalid_ranges(ranges, message) -> None:
    with pytest.raises(SpaceError, match=message):
        parse_ranges(ranges)


def test_grid_enumerates_every_combination_once() -> None:
    space = _space(CategoricalParameterRanges=[{"Name": "a", "Values": ["1", "2", "3"]}, {"Name": "b", "Values": ["x", "y"]}])
    grid = make_strategy("Grid", space, 0)
    seen = []
    while (proposal := grid.ask()) is not None:
        seen.append((proposal.values["a"], proposal.values["b"]))
        grid.tell(proposal.key, 0.0)
    assert sorted(seen) == sorted((a, b) for a in "123" for b in "xy")


def test_random_is_reproducible_and_exhausts_finite_spaces() -> None:
    space = _space(ContinuousParameterRanges=[{"Name": "x", "MinValue": "0", "MaxValue": "1"}])
    draws = [[make_strategy("Random", space, seed).ask().values["x"] for _ in range(1)] for seed in (4, 4, 5)]
    assert draws[0] == draws[1] != draws[2]
    finite = make_strategy("Random", _space(CategoricalParameterRanges=[{"Name": "c", "Values": ["a", "b"]}]), 0)
    picks = []
    while (proposal := finite.ask()) is not None:
        picks.append(proposal.values["c"])
    assert sorted(picks) == ["a", "b"]


def _branin(values: dict[str, str]) -> float:
    x, y = float(values["x"]), float(values["y"])
    return -((y - 5.1 / (4 * np.pi ** 2) * x ** 2 + 5 / np.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x) + 10)


def test_bayesian_search_gets_close_to_the_optimum() -> None:
    """Branin's maximum is -0.398; 20 evaluations of GP + expected improvement get near it, Random does not."""
    space = _space(ContinuousParameterRanges=[{"Name": "x", "MinValue": "-5", "MaxValue": "10"},
                                              {"Name": "y", "MinValue": "0", "MaxValue": "15"}])
    best = {}
    for name in ("Bayesian", "Random"):
        strategy = make_strategy(name, space, 1)
        scores = []
        for _ in range(20):
            proposal = strategy.ask()
            scores.append(_branin(proposal.values))
            strategy.tell(proposal.key, scores[-1])
        best[name] = max(scores)
    assert best["Bayesian"] > -1.5
    assert best["Bayesian"] > best["Random"]


def test_bayesian_spreads_parallel_proposals() -> None:
    space = _space(ContinuousParameterRanges=[{"Name": "x", "MinValue": "0", "MaxValue": "1"}])
    strategy = make_strategy("Bayesian", space, 0)
    for _ in range(4):
        proposal = strategy.ask()
        strategy.tell(proposal.key, -(float(proposal.values["x"]) - 0.3) ** 2)
    first, second = strategy.ask(), strategy.ask()  # two running at once
    assert first.values != second.values


def test_hyperband_promotes_the_top_third_to_more_resource() -> None:
    space = _space(ContinuousParameterRanges=[{"Name": "x", "MinValue": "0", "MaxValue": "1"}])
    strategy = make_strategy("Hyperband", space, 0, min_resource=1, max_resource=9)
    assert isinstance(strategy, HyperbandSearch) and [r.resource for r in strategy.rungs] == [1, 3, 9]
    asked = []
    for _ in range(12):
        proposal = strategy.ask()
        asked.append(proposal)
        strategy.tell(proposal.key, float(proposal.values["x"]))  # higher x is better at every resource
    promoted = [i for i, p in enumerate(asked) if p.resource == 3]
    assert promoted
    for i in promoted:  # asynchronous: in the top third of the rung as it stood when promoted
        rung = sorted((float(p.values["x"]) for p in asked[:i] if p.resource == 1), reverse=True)
        assert float(asked[i].values["x"]) in rung[: len(rung) // 3]
    assert any(p.resource == 9 for p in asked)


def test_median_stopping_rule_as_aws_documents_it() -> None:
    from emulator.engines.tuning import MedianStoppingRule

    rule = MedianStoppingRule(maximize=True)
    assert not rule.observe("a", 0.5)  # no ended job yet: nothing to compare with
    for value in (0.6, 0.7, 0.8):
        rule.observe("a", value)
    rule.end("a")
    for value in (0.2, 0.4, 0.6, 0.9):
        rule.observe("b", value)
    rule.end("b")
    # epoch 1: running averages 0.5 (a) and 0.2 (b), median 0.35
    assert not rule.observe("c", 0.36)
    # epoch 2: running averages (0.5+0.6)/2=0.55 and (0.2+0.4)/2=0.3, median 0.425: 0.42 is worse
    assert rule.observe("c", 0.42)

    minimize = MedianStoppingRule(maximize=False)
    minimize.observe("a", 1.0)
    minimize.end("a")
    assert minimize.observe("b", 1.5) and not minimize.observe("c", 0.9)
    assert minimize.observe("d", float("nan"))
    assert minimize.epochs("b") == 1
