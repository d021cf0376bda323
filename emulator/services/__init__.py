"""Service providers. ``PROVIDERS`` lists the classes the emulator mounts."""

from __future__ import annotations

from emulator.services.base import Provider
from emulator.services.sts import StsProvider


def provider_classes() -> list[type[Provider]]:
    """Every provider class, imported lazily so one broken provider names itself."""
    classes: list[type[Provider]] = [StsProvider]
    return classes
