"""The per-request context handed to provider methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from emulator.aws.logs import LogWriter
    from emulator.aws.metrics import MetricWriter
    from emulator.aws.s3 import S3Store
    from emulator.runtime import Emulator

T = TypeVar("T")


@dataclass
class RequestContext:
    """Who called which operation, where, and through which URL."""

    emulator: "Emulator"
    service: str
    operation: str
    account_id: str
    region: str
    request_id: str
    base_url: str
    access_key: str | None = None

    def state(self, state_type: type[T]) -> T:
        """This account's and region's state of ``state_type``."""
        return self.emulator.store.get(state_type, self.account_id, self.region)

    def s3(self) -> "S3Store":
        """S3 as this account sees it (in-process, no HTTP)."""
        from emulator.aws.s3 import S3Store

        return S3Store(self.account_id)

    def logs(self) -> "LogWriter":
        """CloudWatch Logs of this account and region."""
        from emulator.aws.logs import LogWriter

        return LogWriter(self.account_id, self.region)

    def metrics(self) -> "MetricWriter":
        """CloudWatch metrics of this account and region."""
        from emulator.aws.metrics import MetricWriter

        return MetricWriter(self.account_id, self.region)

    def arn(self, service: str, resource: str) -> str:
        """``arn:aws:<service>:<region>:<account>:<resource>``."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"
