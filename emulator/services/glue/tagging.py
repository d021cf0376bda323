"""TagResource / UntagResource / GetTags for every Glue ARN, dispatched on the resource type.

``arn:aws:glue:<region>:<account>:<type>/<name>``: a type with an entry in
``TAG_STORES`` keeps its tags in emulator state (``mlTransform`` here; a crawler
module adds ``"crawler"`` the same way); any other type (databases, tables, jobs, ...)
keeps them in moto's Glue backend, as before the emulator implemented these operations.
"""

from __future__ import annotations

from typing import Any, Callable, MutableMapping

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.glue.ml_common import not_found, state_of, transform_arn

MAX_TAGS = 50

TagStore = Callable[[RequestContext, str, str], MutableMapping[str, str]]
"""(ctx, arn, resource name) -> the resource's mutable tag map; raises EntityNotFoundException."""


def ml_transform_tags(ctx: RequestContext, arn: str, name: str) -> MutableMapping[str, str]:
    state = state_of(ctx)
    with state.lock:
        if name not in state.transforms or arn != transform_arn(ctx, name):
            raise not_found(f"Transform with id {name} not found.")
        return state.tags.setdefault(arn, {})


TAG_STORES: dict[str, TagStore] = {"mlTransform": ml_transform_tags}


class _MotoTags(dict):
    """moto's tags of one ARN, written back on every change."""

    def __init__(self, ctx: RequestContext, arn: str) -> None:
        from moto.glue.models import glue_backends

        self._backend = glue_backends[ctx.account_id][ctx.region]
        self._arn = arn
        super().__init__(self._backend.get_tags(arn))

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        self._backend.tag_resource(self._arn, {key: value})

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._backend.untag_resource(self._arn, [key])


def _tags_of(ctx: RequestContext, arn: str) -> MutableMapping[str, str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5]:
        raise ServiceError("InvalidInputException", f"Invalid ARN: {arn}")
    kind, _, name = parts[5].partition("/")
    store = TAG_STORES.get(kind)
    return store(ctx, arn, name) if store else _MotoTags(ctx, arn)


class GlueTaggingOperations:
    """Tags of any Glue resource."""

    def tag_resource(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        tags = _tags_of(ctx, request["ResourceArn"])
        updates = dict(request["TagsToAdd"])
        if len({**tags, **updates}) > MAX_TAGS:
            raise ServiceError("InvalidInputException", f"A resource can have at most {MAX_TAGS} tags.")
        for key, value in updates.items():
            tags[key] = value
        return {}

    def untag_resource(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        tags = _tags_of(ctx, request["ResourceArn"])
        for key in request["TagsToRemove"]:
            if key in tags:
                del tags[key]
        return {}

    def get_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": dict(_tags_of(ctx, request["ResourceArn"]))}
