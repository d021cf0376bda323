"""AddTags / ListTags / DeleteTags by ARN for every SageMaker resource the emulator keeps."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.paging import BadNextToken, paginate
from emulator.services.sagemaker.errors import validation
from emulator.services.sagemaker.state import SageMakerState

MAX_TAGS = 50


class TaggingOperations:
    """Tags live in ``SageMakerState.tags`` keyed by resource ARN."""

    @staticmethod
    def _tags_of(state: SageMakerState, arn: str) -> dict[str, str]:
        tags = state.tags.get(arn)
        if tags is None:
            raise validation(f"Resource {arn} does not exist.")
        return tags

    def add_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            tags = self._tags_of(state, request["ResourceArn"])
            merged = {**tags, **{t["Key"]: t.get("Value", "") for t in request["Tags"]}}
            if any(key.lower().startswith("aws:") for key in merged if key not in tags):
                raise validation("Tag keys prefixed with 'aws:' are reserved for AWS use.")
            if len(merged) > MAX_TAGS:
                raise validation(f"The number of tags exceeds the limit of {MAX_TAGS}.")
            tags.update(merged)
        return {"Tags": request["Tags"]}

    def list_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            items = [{"Key": k, "Value": v} for k, v in self._tags_of(state, request["ResourceArn"]).items()]
        try:
            page, token = paginate(items, request.get("NextToken"), int(request.get("MaxResults", 50)))
        except BadNextToken as exc:
            raise validation(str(exc)) from exc
        return {"Tags": page, "NextToken": token}

    def delete_tags(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(SageMakerState)
        with state.lock:
            tags = self._tags_of(state, request["ResourceArn"])
            for key in request["TagKeys"]:
                tags.pop(key, None)
