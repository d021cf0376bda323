"""SageMaker resources of one account and region (shared by sagemaker and sagemaker-runtime)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HostedVariant:
    """A production variant loaded in memory and ready to answer InvokeEndpoint."""

    name: str
    weight: float
    predictor: Any  # emulator.engines.sagemaker Predictor


@dataclass
class SageMakerState:
    """Describe-shaped resource records keyed by name, tags keyed by ARN."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    training_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    training_futures: dict[str, Future] = field(default_factory=dict)
    stop_requested: set[str] = field(default_factory=set)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoint_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    hosted: dict[str, list[HostedVariant]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    tuning_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tuning_children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # tuning job -> child records
    tuning_futures: dict[str, Future] = field(default_factory=dict)
    transform_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    transform_futures: dict[str, Future] = field(default_factory=dict)
