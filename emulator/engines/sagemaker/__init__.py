"""Pure-ML engine for the SageMaker built-in algorithms (k-NN, BlazingText, XGBoost,
Linear Learner). No HTTP/S3/CloudWatch: bytes and parameters in, plain objects out.

Facade:
    algorithm_from_image(image_uri) -> "knn" | "blazingtext" | "xgboost" | "linear-learner" | None
    metric_definitions(algorithm) -> [{"Name": ..., "Regex": ...}]
    train(algorithm, hyperparameters, channels, progress=None) -> TrainingResult
    train_to_file(algorithm, hyperparameters, channels, model_path, progress=None) -> TrainingResult
        (model.tar.gz written to ``model_path``; the result carries no model files)
    EARLY_STOPPING: the algorithms that report each epoch (round) to ``progress``
    make_model_tar_gz(model_files) -> bytes
    load_predictor(algorithm, model_tar_gz) -> Predictor (.invoke(body, content_type, accept,
        custom_attributes=None) -> (body, content_type))
    Channel, TrainingResult, AlgorithmError, ModelError
Artefacts never use pickle (npz with allow_pickle=False + JSON, xgboost JSON, fastText .bin).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Protocol

from .common import AlgorithmError, Channel, ModelError, Progress, TrainingResult, make_model_tar_gz, read_model_tar_gz
from .metrics import metric_definitions

__all__ = [
    "AlgorithmError", "Channel", "ModelError", "Predictor", "Progress", "EARLY_STOPPING", "TrainingResult", "ALGORITHMS",
    "algorithm_from_image", "metric_definitions", "train", "train_to_file", "load_predictor", "make_model_tar_gz",
]

ALGORITHMS = ("knn", "blazingtext", "xgboost", "linear-learner")
EARLY_STOPPING = ("linear-learner", "xgboost")
"""Built-ins that emit their metrics after every epoch (boosting round), so a tuning job
can stop them early, as AWS lists them. BlazingText (fastText) trains in one call without
per-epoch output, and k-NN has no epochs."""
_REPOS = {
    "knn": "knn",
    "blazingtext": "blazingtext",
    "xgboost": "xgboost",
    "sagemaker-xgboost": "xgboost",
    "linear-learner": "linear-learner",
    "linear_learner": "linear-learner",
}


class Predictor(Protocol):
    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]: ...


def algorithm_from_image(image_uri: str | None) -> str | None:
    """``<account>.dkr.ecr.<region>.amazonaws.com/knn:1`` -> ``"knn"``."""
    if not image_uri:
        return None
    name = image_uri.strip().rsplit("/", 1)[-1]
    name = re.split(r"[:@]", name, maxsplit=1)[0].lower()
    return _REPOS.get(name)


def _module(algorithm: str):
    if algorithm == "knn":
        from . import knn as mod
    elif algorithm == "blazingtext":
        from . import blazingtext as mod
    elif algorithm == "xgboost":
        from . import xgboost_algo as mod
    elif algorithm == "linear-learner":
        from . import linear_learner as mod
    else:
        raise AlgorithmError(f"Algorithm {algorithm!r} is not supported by this emulator.")
    return mod


def train(algorithm: str, hyperparameters: dict[str, str] | None,
          channels: dict[str, Channel], progress: Progress | None = None) -> TrainingResult:
    """Train ``algorithm``; ``progress`` (for :data:`EARLY_STOPPING` algorithms) is told
    each epoch's log lines and may stop training there."""
    if progress is not None and algorithm in EARLY_STOPPING:
        return _module(algorithm).train(hyperparameters or {}, channels or {}, progress=progress)
    return _module(algorithm).train(hyperparameters or {}, channels or {})


def train_to_file(algorithm: str, hyperparameters: dict[str, str] | None, channels: dict[str, Channel],
                  model_path: str, progress: Progress | None = None) -> TrainingResult:
    """:func:`train`, then write the model.tar.gz to ``model_path`` where the training ran (a
    job's worker process), so the model's bytes are packed beside the training, in parallel
    with other jobs, and reach the caller as one file, not through a pipe; the result's
    ``model_files`` is empty."""
    result = train(algorithm, hyperparameters, channels, **({"progress": progress} if progress is not None else {}))
    with open(model_path, "wb") as handle:
        handle.write(make_model_tar_gz(result.model_files))
    return dataclasses.replace(result, model_files={})


def load_predictor(algorithm: str, model_tar_gz: bytes) -> Predictor:
    mod = _module(algorithm)
    files = read_model_tar_gz(model_tar_gz)
    return mod.load_predictor(files)
