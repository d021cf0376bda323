"""Tags of Glue resources the emulator owns, kept in moto's Glue tagger so that moto's
TagResource / UntagResource / GetTags see them."""

from __future__ import annotations

from typing import Any


def _backend(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


def tag(account_id: str, region: str, arn: str, tags: dict[str, str] | None) -> None:
    if tags:
        _backend(account_id, region).tag_resource(arn, tags)


def tags_of(account_id: str, region: str, arn: str) -> dict[str, str]:
    return dict(_backend(account_id, region).get_tags(arn) or {})


def untag_all(account_id: str, region: str, arn: str) -> None:
    backend = _backend(account_id, region)
    backend.untag_resource(arn, list(tags_of(account_id, region, arn)))
