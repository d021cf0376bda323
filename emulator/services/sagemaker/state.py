"""SageMaker resources of one account and region (shared by sagemaker and sagemaker-runtime)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from emulator.persistence.interrupted import RESTARTED, end_interrupted


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

    transient_fields = ("hosted",)
    """Loaded models are not stored: endpoints load them again from S3 on first use."""

    def after_restart(self, account_id: str, region: str) -> None:
        """--data-dir restart: interrupted training, tuning and transform jobs end Failed; endpoints being created
        end Failed, those being updated go back InService (their models load on first use)."""
        reason = RESTARTED
        now = datetime.now(timezone.utc)
        for job in end_interrupted(self.training_jobs.values(), "TrainingJobStatus", ("InProgress", "Stopping"),
                                   "Stopping", "Stopped", "Failed", "FailureReason",
                                   ("LastModifiedTime", "TrainingEndTime")):
            job["SecondaryStatus"] = job["TrainingJobStatus"]
            transitions = job.get("SecondaryStatusTransitions") or []
            if transitions and "EndTime" not in transitions[-1]:
                transitions[-1]["EndTime"] = now
            transitions.append({"Status": job["SecondaryStatus"], "StartTime": now, "EndTime": now, "StatusMessage": reason})
        end_interrupted(self.tuning_jobs.values(), "HyperParameterTuningJobStatus", ("InProgress", "Stopping"),
                        "Stopping", "Stopped", "Failed", "FailureReason", ("LastModifiedTime", "HyperParameterTuningEndTime"))
        end_interrupted(self.transform_jobs.values(), "TransformJobStatus", ("InProgress", "Stopping"),
                        "Stopping", "Stopped", "Failed", "FailureReason", ("LastModifiedTime", "TransformEndTime"))
        for endpoint in self.endpoints.values():
            if endpoint.get("EndpointStatus") == "Creating":
                endpoint.update(EndpointStatus="Failed", FailureReason=reason, LastModifiedTime=now)
            elif endpoint.get("EndpointStatus") == "Updating":
                endpoint.update(EndpointStatus="InService", FailureReason=f"Update failed: {reason}", LastModifiedTime=now)
