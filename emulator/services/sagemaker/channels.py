"""Read a training job's input channels from S3 (S3Prefix or manifest), File and Pipe mode alike."""

from __future__ import annotations

import json
from typing import Any

from emulator.aws.s3 import S3AccessError, S3Store
from emulator.engines.sagemaker import Channel


class ChannelReadError(Exception):
    """A channel whose data cannot be downloaded; the message is AWS-style."""


def read_channels(s3: S3Store, input_config: list[dict[str, Any]]) -> dict[str, Channel]:
    """Every channel's objects, in key order."""
    channels: dict[str, Channel] = {}
    for spec in input_config:
        name = spec["ChannelName"]
        source = spec.get("DataSource", {}).get("S3DataSource")
        if source is None:
            raise ChannelReadError(f"Channel '{name}': only S3DataSource is supported by the emulator")
        try:
            objects = _read_source(s3, source)
        except S3AccessError as exc:
            raise ChannelReadError(f"Data download failed:Could not download {source['S3Uri']}: {exc}") from exc
        channels[name] = Channel(name=name, content_type=spec.get("ContentType"), objects=objects)
    return channels


def _read_source(s3: S3Store, source: dict[str, Any]) -> list[tuple[str, bytes]]:
    uri = source["S3Uri"]
    kind = source.get("S3DataType", "S3Prefix")
    if kind == "S3Prefix":
        objects = s3.read_prefix(uri)
        if not objects:
            raise S3AccessError(f"No S3 objects found under S3 URL \"{uri}\" given in input data source.")
        return [(o.key, o.data) for o in objects]
    if kind in ("ManifestFile", "AugmentedManifestFile"):
        manifest = s3.get_uri(uri)
        if kind == "AugmentedManifestFile":
            return [(uri, manifest)]
        return [(f"{p}", s3.get_uri(p)) for p in _manifest_uris(manifest, uri)]
    raise S3AccessError(f"S3DataType {kind} is not supported")


def _manifest_uris(manifest: bytes, uri: str) -> list[str]:
    try:
        entries = json.loads(manifest)
        prefix = entries[0]["prefix"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise S3AccessError(f"Invalid manifest file {uri}: expected [{{\"prefix\": ...}}, \"key\", ...]") from exc
    return [prefix + str(relative) for relative in entries[1:]]
