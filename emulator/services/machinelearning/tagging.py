"""AddTags / DeleteTags / DescribeTags on the four Amazon ML object types."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.protocol.errors import ServiceError

from .common import invalid, lookup, state_of
from .state import MachineLearningState, Resource

MAX_TAGS = 50


def _tag_target(state: MachineLearningState, request: dict[str, Any], writing: bool) -> Resource:
    """Under the lock: the object named by ResourceType/ResourceId; a DELETED one is read-only."""
    kind = request["ResourceType"]
    obj = lookup(state, kind, request["ResourceId"], allow_deleted=True)
    if writing and obj.deleted:
        raise invalid(f"{kind} {obj.id} has been deleted; its tags cannot be changed")
    return obj


class TaggingOperations:
    """The tag operations of the ``machinelearning`` provider (tags live on the objects)."""

    def add_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Add or overwrite tags; at most 50 per object, no ``aws:`` keys."""
        state = state_of(ctx)
        with state.lock:
            obj = _tag_target(state, request, writing=True)
            updates: dict[str, str | None] = {}
            for tag in request["Tags"]:
                key = tag.get("Key")
                if not key:
                    raise ServiceError("InvalidTagException", "Every tag needs a Key of 1 to 128 characters", status=400)
                if key.lower().startswith("aws:"):
                    raise ServiceError("InvalidTagException",
                                       f"Tag key '{key}' uses the reserved prefix 'aws:'", status=400)
                updates[key] = tag.get("Value")
            merged = {**obj.tags, **updates}
            if len(merged) > MAX_TAGS:
                raise ServiceError("TagLimitExceededException",
                                   f"{obj.kind} {obj.id} would have {len(merged)} tags; the limit is {MAX_TAGS}",
                                   status=400)
            obj.tags = merged
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"]}

    def delete_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Remove the named tag keys (unknown keys are ignored)."""
        state = state_of(ctx)
        with state.lock:
            obj = _tag_target(state, request, writing=True)
            for key in request["TagKeys"]:
                obj.tags.pop(key, None)
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"]}

    def describe_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The object's tags (also of a DELETED object)."""
        state = state_of(ctx)
        with state.lock:
            obj = _tag_target(state, request, writing=False)
            tags = [{"Key": k, "Value": v} for k, v in obj.tags.items()]
        return {"ResourceId": obj.id, "ResourceType": request["ResourceType"], "Tags": tags}
