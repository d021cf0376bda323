"""Hyperparameter search spaces: AWS's ParameterRanges, validated, mapped to and from the unit cube.

Every range becomes one or more coordinates in [0, 1] (a categorical one per value,
one-hot), so strategies work on plain vectors and never on AWS's shapes.
``ScalingType`` follows AWS: ``Linear``; ``Logarithmic`` (values > 0);
``ReverseLogarithmic`` (continuous only, 0 <= values < 1, dense near 1); ``Auto`` is
treated as ``Linear`` (AWS picks a scale itself and documents no rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

MAX_GRID_COMBINATIONS = 10_000


class SpaceError(ValueError):
    """Invalid ranges; the message is what AWS's ValidationException says."""


@dataclass(frozen=True)
class NumericRange:
    """A Continuous or Integer range."""

    name: str
    low: float
    high: float
    scaling: str  # Linear | Logarithmic | ReverseLogarithmic
    integer: bool

    def decode(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.scaling == "Logarithmic":
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.scaling == "ReverseLogarithmic":
            a, b = math.log(1 - self.low), math.log(1 - self.high)
            value = 1 - math.exp(a + u * (b - a))
        else:
            value = self.low + u * (self.high - self.low)
        if self.integer:
            return float(min(max(int(round(value)), int(self.low)), int(self.high)))
        return min(max(value, self.low), self.high)

    def encode(self, value: float) -> float:
        value = min(max(float(value), self.low), self.high)
        if self.high == self.low:
            return 0.5
        if self.scaling == "Logarithmic":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        if self.scaling == "ReverseLogarithmic":
            a, b = math.log(1 - self.low), math.log(1 - self.high)
            return (math.log(1 - value) - a) / (b - a)
        return (value - self.low) / (self.high - self.low)

    def format(self, value: float) -> str:
        return str(int(value)) if self.integer else repr(float(value))


@dataclass(frozen=True)
class CategoricalRange:
    """A Categorical range: a choice among strings."""

    name: str
    values: tuple[str, ...]


Range = NumericRange | CategoricalRange


class SearchSpace:
    """The tuned hyperparameters of one training job definition."""

    def __init__(self, ranges: list[Range]) -> None:
        self.ranges = ranges
        self.names = [r.name for r in ranges]

    @property
    def categorical_only(self) -> bool:
        return all(isinstance(r, CategoricalRange) for r in self.ranges)

    @property
    def dimensions(self) -> int:
        return sum(len(r.values) if isinstance(r, CategoricalRange) else 1 for r in self.ranges)

    def grid(self) -> Iterator[dict[str, str]]:
        """Every combination of categorical values, first range slowest (Grid strategy)."""
        def walk(index: int, chosen: dict[str, str]) -> Iterator[dict[str, str]]:
            if index == len(self.ranges):
                yield dict(chosen)
                return
            current = self.ranges[index]
            assert isinstance(current, CategoricalRange)
            for value in current.values:
                chosen[current.name] = value
                yield from walk(index + 1, chosen)
        yield from walk(0, {})

    def grid_size(self) -> int:
        return math.prod(len(r.values) for r in self.ranges if isinstance(r, CategoricalRange))

    def sample_unit(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` random points of the encoded space (categoricals as exact one-hot)."""
        columns = []
        for r in self.ranges:
            if isinstance(r, CategoricalRange):
                columns.append(np.eye(len(r.values))[rng.integers(0, len(r.values), size=n)])
            else:
                columns.append(rng.random((n, 1)))
        return np.hstack(columns) if columns else np.zeros((n, 0))

    def decode(self, point: np.ndarray) -> dict[str, str]:
        """Unit-cube vector -> hyperparameter strings as a training job receives them."""
        out: dict[str, str] = {}
        i = 0
        for r in self.ranges:
            if isinstance(r, CategoricalRange):
                width = len(r.values)
                out[r.name] = r.values[int(np.argmax(point[i:i + width]))]
                i += width
            else:
                out[r.name] = r.format(r.decode(point[i]))
                i += 1
        return out

    def encode(self, values: dict[str, str]) -> np.ndarray | None:
        """Hyperparameter strings -> unit-cube vector; None when a value is outside this space."""
        vector: list[float] = []
        for r in self.ranges:
            if r.name not in values:
                return None
            text = str(values[r.name])
            if isinstance(r, CategoricalRange):
                if text not in r.values:
                    return None
                vector.extend(1.0 if v == text else 0.0 for v in r.values)
            else:
                try:
                    number = float(text)
                except ValueError:
                    return None
                if not (r.low <= number <= r.high):
                    return None
                vector.append(r.encode(number))
        return np.array(vector, dtype=float)

    def canonical(self, values: dict[str, str]) -> dict[str, str]:
        """Round-trip through the encoding (integers rounded, values clipped)."""
        encoded = self.encode(values)
        return self.decode(encoded) if encoded is not None else dict(values)


def parse_ranges(parameter_ranges: dict[str, Any] | None) -> SearchSpace:
    """AWS ``ParameterRanges`` -> SearchSpace, validated as AWS validates them."""
    parameter_ranges = parameter_ranges or {}
    ranges: list[Range] = []
    for spec in parameter_ranges.get("ContinuousParameterRanges") or []:
        ranges.append(_numeric(spec, integer=False))
    for spec in parameter_ranges.get("IntegerParameterRanges") or []:
        ranges.append(_numeric(spec, integer=True))
    for spec in parameter_ranges.get("CategoricalParameterRanges") or []:
        values = tuple(str(v) for v in spec.get("Values") or [])
        if not values:
            raise SpaceError(f"The categorical hyperparameter {spec['Name']} must have at least one value.")
        if len(set(values)) != len(values):
            raise SpaceError(f"The categorical hyperparameter {spec['Name']} has duplicate values.")
        ranges.append(CategoricalRange(spec["Name"], values))
    if parameter_ranges.get("AutoParameters"):
        raise SpaceError("AutoParameters are only supported when Autotune is enabled; "
                         "the emulator does not implement Autotune.")
    names = [r.name for r in ranges]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpaceError(f"The hyperparameter(s) {', '.join(duplicates)} appear in more than one parameter range.")
    return SearchSpace(ranges)


def _numeric(spec: dict[str, Any], integer: bool) -> NumericRange:
    name = spec["Name"]
    kind = "Integer" if integer else "Continuous"
    try:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError
        if integer and (low != int(low) or high != int(high)):
            raise ValueError
    except ValueError:
        raise SpaceError(f"The {kind.lower()} hyperparameter {name} has a MinValue or MaxValue that is not "
                         f"{'an integer' if integer else 'a number'}: [{spec['MinValue']}, {spec['MaxValue']}].") from None
    if low > high:
        raise SpaceError(f"The MinValue {spec['MinValue']} of the {kind.lower()} hyperparameter {name} must be "
                         f"less than or equal to its MaxValue {spec['MaxValue']}.")
    scaling = spec.get("ScalingType") or "Auto"
    if scaling == "Auto":
        scaling = "Linear"
    if scaling == "Logarithmic" and low <= 0:
        raise SpaceError(f"The hyperparameter {name} uses Logarithmic scaling, which works only for ranges "
                         f"that have only values greater than 0.")
    if scaling == "ReverseLogarithmic":
        if integer:
            raise SpaceError(f"The integer hyperparameter {name} cannot use ReverseLogarithmic scaling; "
                             f"it is supported only for continuous hyperparameters.")
        if not (0 <= low and high < 1):
            raise SpaceError(f"The hyperparameter {name} uses ReverseLogarithmic scaling, which works only for "
                             f"ranges that are entirely within the range 0<=x<1.0.")
    return NumericRange(name, low, high, scaling, integer)
