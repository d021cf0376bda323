"""moto's IAM, CloudWatch Logs, CloudWatch metrics and Glue Data Catalog on disk.

Each backend (one per service, account and region) is stored as the listed attributes,
encoded generically (moto's model objects are plain objects); a backend is rewritten
only when its encoding changed. moto is not forked: restoring fills a fresh backend.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from typing import Any

from emulator.persistence.codec import Decoder, Encoder
from emulator.persistence.disk import DataDir

log = logging.getLogger(__name__)

SPACE = "moto"

BACKENDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "iam": ("moto.iam.models", "iam_backends", ("roles", "users", "groups", "instance_profiles", "access_keys",
                                                 "inline_policies", "account_aliases", "tagger")),
    "logs": ("moto.logs.models", "logs_backends", ("groups", "resource_policies", "tagger")),
    "cloudwatch": ("moto.cloudwatch.models", "cloudwatch_backends", ("alarms", "dashboards", "metric_data",
                                                                    "paged_metric_data", "tagger")),
    "glue": ("moto.glue.models", "glue_backends", ("databases", "connections", "tagger")),
}
"""service -> (module, backend dict, attributes kept)."""


def _backends(service: str) -> Any:
    module, name, _ = BACKENDS[service]
    return getattr(importlib.import_module(module), name)


class MotoPersistence:
    def __init__(self, disk: DataDir, encoder: Encoder) -> None:
        self.disk = disk
        self.encoder = encoder
        self._text: dict[tuple[str, str], str] = {}

    def forget(self) -> None:
        self._text.clear()

    def capture(self, tx: Any, service: str, account: str) -> None:
        if service not in BACKENDS:
            return
        try:
            regions = dict(_backends(service)[account])
        except KeyError:
            return
        for region, backend in regions.items():
            try:
                data = {attr: self.encoder.encode(getattr(backend, attr)) for attr in BACKENDS[service][2]
                        if hasattr(backend, attr)}
            except (RecursionError, TypeError, ValueError) as exc:  # not data moto can rebuild
                log.warning("cannot persist moto %s of %s/%s: %s", service, account, region, exc)
                continue
            text = json.dumps(data, sort_keys=True, default=str)
            key = f"{service}/{region}"
            if self._text.get((account, key)) != text:
                tx.put_record(SPACE, account, key, data)
                tx.on_commit(lambda key=key, text=text: self._text.__setitem__((account, key), text))

    def capture_all(self, tx: Any) -> None:
        for service, (module, _, _) in BACKENDS.items():
            if module not in sys.modules:  # never imported: moto holds nothing of it (saves start-up time)
                continue
            for account in list(_backends(service).keys()):
                self.capture(tx, service, account)

    def restore(self, decoder: Decoder) -> set[str]:
        from emulator.persistence.manager import _blob_refs

        used: set[str] = set()
        for account, key, data in self.disk.records(SPACE):
            service, _, region = key.partition("/")
            if service not in BACKENDS:
                continue
            backend = _backends(service)[account][region]
            for attr, value in data.items():
                setattr(backend, attr, decoder.decode(value))
            self._text[(account, key)] = json.dumps(data, sort_keys=True, default=str)
            used.update(_blob_refs(data))
        return used
