"""The provider contract: one method per operation, named as botocore names it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar

from botocore import xform_name

from emulator.protocol.models import service_model

if TYPE_CHECKING:
    from emulator.context import RequestContext
    from emulator.runtime import Emulator

Handler = Callable[["RequestContext", dict[str, Any]], dict[str, Any] | None]


class Provider:
    """Base of every service provider.

    A subclass sets ``service_name`` and defines ``def create_ml_model(self, ctx,
    request) -> dict`` style methods; the dispatch table is derived from the
    service model, so an operation is implemented exactly when its method exists.
    """

    service_name: ClassVar[str]
    unchecked_patterns: ClassVar[frozenset[str]] = frozenset()
    """Shape names whose regular-expression pattern the emulator cannot honour
    (e.g. a URL that must point at AWS but points at the emulator)."""

    def __init__(self, emulator: "Emulator") -> None:
        self.emulator = emulator

    def shutdown(self) -> None:
        """Stop background work the provider runs itself (the emulator is shutting down)."""

    @classmethod
    def implemented_operations(cls) -> list[str]:
        """Model operation names this provider implements."""
        model = service_model(cls.service_name)
        return [op for op in model.operation_names if callable(getattr(cls, xform_name(op), None))]

    def handler(self, operation_name: str) -> Handler | None:
        """The bound method for ``operation_name``, or None."""
        method = getattr(self, xform_name(operation_name), None)
        return method if callable(method) else None
