"""Endpoints of RDS instances and Redshift clusters created through the emulator (moto serves
the RDS and Redshift APIs): identifier -> engine, address and port, per account and region."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseEndpoint:
    """Where a moto-created instance or cluster says it listens, and what it speaks."""

    engine: str   # e.g. "mysql", "postgres", "aurora-postgresql", "redshift"
    address: str  # moto's made-up DNS name, e.g. "db-1.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
    port: int

    @property
    def scheme(self) -> str | None:
        """The URL scheme of the engine's protocol: postgresql (PostgreSQL, Redshift), mysql
        (MySQL, MariaDB, Aurora MySQL), or None (Oracle, SQL Server ...)."""
        if "postgres" in self.engine or self.engine == "redshift":
            return "postgresql"
        if "mysql" in self.engine or self.engine in ("mariadb", "aurora"):
            return "mysql"
        return None


def rds_instance(account_id: str, region: str, identifier: str) -> DatabaseEndpoint | None:
    """The RDS DB instance ``identifier`` created in moto, if any."""
    if "moto.rds.models" not in sys.modules:  # no RDS call yet: skip moto's slow import (seconds)
        return None
    from moto.rds.models import rds_backends

    instance = rds_backends[account_id][region].databases.get(identifier)
    if instance is None:
        return None
    return DatabaseEndpoint(str(instance.engine), instance.address, int(instance.port))


def redshift_cluster(account_id: str, region: str, identifier: str) -> DatabaseEndpoint | None:
    """The Redshift cluster ``identifier`` created in moto, if any."""
    if "moto.redshift.models" not in sys.modules:  # no Redshift call yet
        return None
    from moto.redshift.models import redshift_backends

    cluster = redshift_backends[account_id][region].clusters.get(identifier)
    if cluster is None:
        return None
    endpoint = cluster.endpoint
    return DatabaseEndpoint("redshift", str(endpoint["Address"]), int(endpoint["Port"]))
