"""CreateHyperParameterTuningJob's input, validated as AWS validates it, as plain definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.engines import sagemaker as algorithms
from emulator.services.sagemaker.errors import validation

if TYPE_CHECKING:  # the tuning engine (NumPy) is imported by the first tuning job
    from emulator.engines.tuning import SearchSpace

OBJECTIVE_KEY = "_tuning_objective_metric"
# AWS infers Hyperband's MaxResource from these static hyperparameters.
RESOURCE_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
# Where the emulator's built-ins take their resource when no such key is given.
ALGORITHM_RESOURCE = {"blazingtext": "epochs", "linear-learner": "epochs", "xgboost": "num_round"}
MAX_PARENTS = 5


@dataclass
class Definition:
    """One training job definition with its search space and objective."""

    name: str | None
    spec: dict[str, Any]          # the HyperParameterTrainingJobDefinition as sent
    space: SearchSpace
    objective: dict[str, str]     # {"Type": ..., "MetricName": ...}
    resource_key: str | None = None
    min_resource: int | None = None
    max_resource: int | None = None

    @property
    def algorithm(self) -> str | None:
        return algorithms.algorithm_from_image((self.spec.get("AlgorithmSpecification") or {}).get("TrainingImage"))


def parse_definitions(request: dict[str, Any]) -> list[Definition]:
    """The definitions of a CreateHyperParameterTuningJob request, or AWS's ValidationException."""
    config = request["HyperParameterTuningJobConfig"]
    single, many = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    if request.get("Autotune"):
        raise validation("Autotune is not supported by the emulator; specify the strategy and ranges.")
    if bool(single) == bool(many):
        raise validation("Exactly one of TrainingJobDefinition or TrainingJobDefinitions must be specified.")
    strategy = config["Strategy"]
    if single:
        objective = config.get("HyperParameterTuningJobObjective")
        if not objective:
            raise validation("HyperParameterTuningJobObjective must be specified in HyperParameterTuningJobConfig "
                             "when TrainingJobDefinition is used.")
        definitions = [_definition(None, single, config.get("ParameterRanges"), objective)]
    else:
        if config.get("ParameterRanges") or config.get("HyperParameterTuningJobObjective"):
            raise validation("When TrainingJobDefinitions is used, specify ParameterRanges and the objective in each "
                             "definition (HyperParameterRanges, TuningObjective), not in HyperParameterTuningJobConfig.")
        names = [d.get("DefinitionName") for d in many]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise validation("Every training job definition in TrainingJobDefinitions needs a unique DefinitionName.")
        definitions = []
        for spec in many:
            if not spec.get("TuningObjective"):
                raise validation(f"TuningObjective must be specified for training job definition {spec['DefinitionName']}.")
            definitions.append(_definition(spec["DefinitionName"], spec, spec.get("HyperParameterRanges"),
                                           spec["TuningObjective"]))
        types = {d.objective["Type"] for d in definitions}
        if len(types) > 1:
            raise validation("All training job definitions must use the same objective type (Maximize or Minimize).")
    _check_strategy(config, definitions)
    return definitions


def _definition(name: str | None, spec: dict[str, Any], ranges: dict[str, Any] | None,
                objective: dict[str, str]) -> Definition:
    from emulator.engines.tuning import SpaceError, parse_ranges

    try:
        space = parse_ranges(ranges)
    except SpaceError as exc:
        raise validation(str(exc)) from exc
    if not space.ranges:
        raise validation("The hyperparameter tuning job must specify at least one hyperparameter range to tune.")
    static = spec.get("StaticHyperParameters") or {}
    both = sorted(set(static) & set(space.names))
    if both:
        raise validation(f"The hyperparameter(s) {', '.join(both)} cannot be both static and tunable.")
    if bool(spec.get("ResourceConfig")) == bool(spec.get("HyperParameterTuningResourceConfig")):
        raise validation("Exactly one of ResourceConfig or HyperParameterTuningResourceConfig must be specified "
                         "in the training job definition.")
    algorithm_spec = spec.get("AlgorithmSpecification") or {}
    if not algorithm_spec.get("TrainingImage"):
        raise validation("AlgorithmSpecification.TrainingImage must be specified (the emulator runs built-in "
                         "algorithm images; AlgorithmName is not supported).")
    definition = Definition(name, spec, space, dict(objective))
    metric_names = {m["Name"] for m in algorithm_spec.get("MetricDefinitions") or []}
    if definition.algorithm:
        metric_names |= {m["Name"] for m in algorithms.metric_definitions(definition.algorithm)}
    if objective["MetricName"] not in metric_names:
        raise validation(f"The objective metric for the hyperparameter tuning job, [{objective['MetricName']}], "
                         f"isn't valid for the [{algorithm_spec['TrainingImage']}] algorithm. Choose a valid objective "
                         f"metric: {sorted(metric_names)}.")
    return definition


def _check_strategy(config: dict[str, Any], definitions: list[Definition]) -> None:
    strategy = config["Strategy"]
    limits = config["ResourceLimits"]
    if config.get("StrategyConfig") and strategy != "Hyperband":
        raise validation("StrategyConfig can only be specified when Strategy is Hyperband.")
    if strategy == "Grid":
        if limits.get("MaxNumberOfTrainingJobs") is not None:
            raise validation("MaxNumberOfTrainingJobs must not be specified for the Grid strategy: the number of "
                             "training jobs is the number of combinations of the categorical values.")
        for definition in definitions:
            if not definition.space.categorical_only:
                raise validation("The Grid strategy supports only CategoricalParameterRanges; "
                                 "ContinuousParameterRanges and IntegerParameterRanges are not allowed.")
    elif limits.get("MaxNumberOfTrainingJobs") is None:
        raise validation(f"ResourceLimits.MaxNumberOfTrainingJobs must be specified for the {strategy} strategy.")
    if strategy == "Hyperband":
        if config.get("TrainingJobEarlyStoppingType", "Off") != "Off":
            raise validation("TrainingJobEarlyStoppingType must be Off when Strategy is Hyperband: Hyperband "
                             "has its own early stopping.")
        hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
        for definition in definitions:
            _hyperband_resource(definition, hyperband)


def _hyperband_resource(definition: Definition, hyperband: dict[str, Any]) -> None:
    static = definition.spec.get("StaticHyperParameters") or {}
    key = next((k for k in RESOURCE_KEYS if k in static), None) or ALGORITHM_RESOURCE.get(definition.algorithm or "")
    if key is None:
        raise validation("Hyperband needs a resource hyperparameter (one of epochs, numepochs, n-epochs, n_epochs, "
                         "num_epochs in StaticHyperParameters) that the algorithm honours.")
    if key in definition.space.names:
        raise validation(f"The Hyperband resource hyperparameter {key} cannot be tuned.")
    max_resource = hyperband.get("MaxResource")
    if max_resource is None:
        try:
            max_resource = int(float(str(static[key]).strip('"')))
        except (KeyError, ValueError):
            raise validation("HyperbandStrategyConfig.MaxResource must be specified, or inferable from one of "
                             "epochs, numepochs, n-epochs, n_epochs, num_epochs in StaticHyperParameters.") from None
    min_resource = int(hyperband.get("MinResource") or 1)
    if min_resource > max_resource:
        raise validation(f"HyperbandStrategyConfig.MinResource ({min_resource}) must be less than or equal to "
                         f"MaxResource ({max_resource}).")
    definition.resource_key, definition.min_resource, definition.max_resource = key, min_resource, int(max_resource)
