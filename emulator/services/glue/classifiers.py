"""Custom classifiers (grok, JSON, CSV, XML): CreateClassifier, GetClassifier(s),
UpdateClassifier, DeleteClassifier. Crawlers apply grok, JSON and CSV ones."""

from __future__ import annotations

import copy
from typing import Any

from emulator.context import RequestContext
from emulator.engines import glue as engine
from emulator.protocol.errors import ServiceError
from emulator.services.glue.crawl import now
from emulator.services.glue.crawler_state import CrawlerState
from emulator.services.glue.common import invalid, lookup, page

KINDS = ("GrokClassifier", "XMLClassifier", "JsonClassifier", "CsvClassifier")


def _one_kind(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    given = [k for k in KINDS if request.get(k)]
    if len(given) != 1:
        raise invalid("Exactly one of GrokClassifier, XMLClassifier, JsonClassifier or CsvClassifier is required")
    return given[0], dict(request[given[0]])


def _check(kind: str, spec: dict[str, Any]) -> None:
    """AWS's checks of a classifier definition (InvalidInputException)."""
    if kind == "GrokClassifier":
        try:
            engine.compile_grok(spec["GrokPattern"], spec.get("CustomPatterns"))
        except engine.GrokError as exc:
            raise invalid(str(exc)) from exc
    elif kind == "JsonClassifier" and not spec["JsonPath"].startswith("$"):
        raise invalid(f"Invalid JsonPath {spec['JsonPath']!r}: a path starts with $")
    elif kind == "CsvClassifier":
        if spec.get("Delimiter") and spec.get("Delimiter") == spec.get("QuoteSymbol"):
            raise invalid("Delimiter and QuoteSymbol must be different")


_DEFAULTS = {
    "CsvClassifier": {"Delimiter": ",", "QuoteSymbol": '"', "ContainsHeader": "UNKNOWN", "DisableValueTrimming": False,
                      "AllowSingleColumn": False, "CustomDatatypeConfigured": False},
    "XMLClassifier": {},
    "JsonClassifier": {},
    "GrokClassifier": {},
}


class ClassifierOperations:
    """CreateClassifier, GetClassifier, GetClassifiers, UpdateClassifier, DeleteClassifier."""

    def create_classifier(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        kind, spec = _one_kind(request)
        _check(kind, spec)
        state = ctx.state(CrawlerState)
        stamp = now()
        with state.lock:
            if spec["Name"] in state.classifiers:
                raise ServiceError("AlreadyExistsException", f"Classifier with name {spec['Name']} already exists")
            state.classifiers[spec["Name"]] = {kind: {**_DEFAULTS[kind], **spec, "CreationTime": stamp,
                                                      "LastUpdated": stamp, "Version": 1}}
        return {}

    def _classifier(self, state: CrawlerState, name: str) -> dict[str, Any]:
        return lookup(state.classifiers, name, "Classifier")

    def get_classifier(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            return {"Classifier": copy.deepcopy(self._classifier(state, request["Name"]))}

    def get_classifiers(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            found = [copy.deepcopy(c) for _, c in sorted(state.classifiers.items())]
        items, token = page(found, request)
        return {"Classifiers": items, "NextToken": token}

    def update_classifier(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        kind, spec = _one_kind(request)
        state = ctx.state(CrawlerState)
        with state.lock:
            current = self._classifier(state, spec["Name"])
            if kind not in current:
                raise invalid(f"Classifier {spec['Name']} is not a {kind}")
            merged = {**current[kind], **{k: v for k, v in spec.items() if v is not None}}
            _check(kind, merged)
            merged.update(LastUpdated=now(), Version=current[kind]["Version"] + 1)
            state.classifiers[spec["Name"]] = {kind: merged}
        return {}

    def delete_classifier(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(CrawlerState)
        with state.lock:
            self._classifier(state, request["Name"])
            del state.classifiers[request["Name"]]
        return {}
