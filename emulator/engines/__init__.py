"""Pure ML engines (no HTTP, no S3): Amazon ML's SGD models and SageMaker's built-ins.

Engines pull in pandas, scikit-learn, xgboost and fastText, which take seconds to
import; providers reach them through :func:`lazy` so the server starts at once, and
:func:`warm_up` imports them in the background right after start-up.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

HEAVY_MODULES = (
    "emulator.engines.amazonml.sgd",
    "emulator.engines.amazonml.datasets",
    "emulator.engines.amazonml.metrics",
    "emulator.engines.amazonml.statistics",
    "emulator.engines.amazonml.batch",
    "emulator.engines.sagemaker.knn",
    "emulator.engines.findmatches",
)


def lazy(module: str, name: str) -> Callable[..., Any]:
    """A function that imports ``module`` on first call and calls its ``name``."""
    target: dict[str, Callable[..., Any]] = {}

    def call(*args: Any, **kwargs: Any) -> Any:
        function = target.get("f")
        if function is None:
            function = target["f"] = getattr(importlib.import_module(module), name)
        return function(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"Lazily imported ``{module}.{name}``."
    return call


_warm = threading.Event()


def warm_state() -> str:
    """``"ready"`` once the background import of :data:`HEAVY_MODULES` has finished, else ``"warming"``."""
    return "ready" if _warm.is_set() else "warming"


def warm_up() -> threading.Thread:
    """Import the heavy engine modules in a daemon thread; returns the thread."""

    def run() -> None:
        for module in HEAVY_MODULES:
            try:
                importlib.import_module(module)
            except Exception:  # an engine that cannot import reports itself when used
                log.exception("could not import %s", module)
        _warm.set()

    thread = threading.Thread(target=run, name="engine-warm-up", daemon=True)
    thread.start()
    return thread
