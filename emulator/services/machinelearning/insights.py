"""Read-only views AWS shows only in its console (no API): data source statistics and
evaluation insights. The emulator's console (``emulator/console``) reads them here."""

from __future__ import annotations

import copy
from typing import Any

from emulator.context import RequestContext

from .common import lookup, state_of


class InsightViews:
    """Console-only reads of the ``machinelearning`` provider (not AWS operations)."""

    def data_source_statistics(self, ctx: RequestContext, data_source_id: str) -> dict[str, Any] | None:
        """The statistics of a data source created with ComputeStatistics (None until computed)."""
        state = state_of(ctx)
        with state.lock:
            ds = lookup(state, "DataSource", data_source_id, allow_deleted=True)
            return copy.deepcopy(ds.statistics)

    def evaluation_insights(self, ctx: RequestContext, evaluation_id: str) -> dict[str, Any] | None:
        """Score histograms / confusion matrix / residuals of a COMPLETED evaluation (else None)."""
        state = state_of(ctx)
        with state.lock:
            ev = lookup(state, "Evaluation", evaluation_id, allow_deleted=True)
            return copy.deepcopy(ev.insights)
