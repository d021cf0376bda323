"""In-process CloudWatch metric writes through moto's backend (what TrainingJobAnalytics reads)."""

from __future__ import annotations

import datetime as dt
import math


class MetricWriter:
    """Puts metric data points for one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        self._backend = cloudwatch_backends[account_id][region]

    def put(self, namespace: str, dimensions: dict[str, str], values: list[tuple[str, float]],
            timestamp: dt.datetime) -> None:
        """One data point per (name, value); NaN and infinite values are skipped, as CloudWatch refuses them."""
        naive_utc = timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None)  # as moto stores request times
        data = [{"MetricName": name, "Value": float(value), "Timestamp": naive_utc,
                 "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}
                for name, value in values if math.isfinite(float(value))]
        if data:
            self._backend.put_metric_data(namespace, data)
