"""STS: GetCallerIdentity answers the emulator's account as an assumed role."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.base import Provider

EXECUTION_ROLE = "AmazonSageMaker-ExecutionRole-Emulator"


class StsProvider(Provider):
    """The one STS operation the emulator owns; moto serves the rest."""

    service_name = "sts"

    def get_caller_identity(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """An assumed-role identity, which ``sagemaker.get_execution_role()`` accepts."""
        session = "emulator-session"
        return {
            "UserId": f"AROA{ctx.account_id}EMULATOR:{session}",
            "Account": ctx.account_id,
            "Arn": f"arn:aws:sts::{ctx.account_id}:assumed-role/{EXECUTION_ROLE}/{session}",
        }
