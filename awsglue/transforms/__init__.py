"""``awsglue.transforms``: AWS Glue's transform classes; ``X.apply(frame=..., ...)`` calls the
matching DynamicFrame method."""

from __future__ import annotations

from typing import Any, Sequence

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection


class GlueTransform:
    """Base of the transforms: ``apply`` builds one and calls it."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"name": cls.__name__, "description": (cls.__doc__ or "").strip()}


class ApplyMapping(GlueTransform):
    """Select, rename and cast fields by ``(source, source_type, target, target_type)`` mappings."""

    def __call__(self, frame: DynamicFrame, mappings: Sequence[Sequence[str]], case_sensitive: bool = False,
                 transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx, info, stageThreshold, totalThreshold)


class Filter(GlueTransform):
    """Keep the records for which ``f`` is true."""

    def __call__(self, frame: DynamicFrame, f: Any, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.filter(f, transformation_ctx, info, stageThreshold, totalThreshold)


class Map(GlueTransform):
    """Apply ``f`` to every record."""

    def __call__(self, frame: DynamicFrame, f: Any, preservesPartitioning: bool = False, transformation_ctx: str = "",  # noqa: N803
                 info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.map(f, preservesPartitioning, transformation_ctx, info, stageThreshold, totalThreshold)


class SelectFields(GlueTransform):
    """Only the fields at ``paths``."""

    def __call__(self, frame: DynamicFrame, paths: Sequence[str], transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.select_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class DropFields(GlueTransform):
    """Without the fields at ``paths``."""

    def __call__(self, frame: DynamicFrame, paths: Sequence[str], transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.drop_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class RenameField(GlueTransform):
    """``old_name`` renamed ``new_name``."""

    def __call__(self, frame: DynamicFrame, old_name: str, new_name: str, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.rename_field(old_name, new_name, transformation_ctx, info, stageThreshold, totalThreshold)


class ResolveChoice(GlueTransform):
    """Cast fields (``specs=[(path, "cast:long")]``, ``choice="match_catalog"``)."""

    def __call__(self, frame: DynamicFrame, specs: Any = None, choice: str = "", database: str | None = None,
                 table_name: str | None = None, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,
                 totalThreshold: int = 0, catalog_id: str | None = None) -> DynamicFrame:  # noqa: N803
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx, info, stageThreshold,
                                   totalThreshold, catalog_id)


class Join(GlueTransform):
    """Inner equality join of two frames on ``keys1`` = ``keys2``."""

    def __call__(self, frame1: DynamicFrame, frame2: DynamicFrame, keys1: Sequence[str], keys2: Sequence[str],
                 transformation_ctx: str = "") -> DynamicFrame:
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Relationalize(GlueTransform):
    """Flatten nested fields; arrays become their own frames."""

    def __call__(self, frame: DynamicFrame, staging_path: str = "", name: str = "roottable", options: dict | None = None,
                 transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrameCollection:  # noqa: N803
        return frame.relationalize(name, staging_path, options, transformation_ctx, info, stageThreshold, totalThreshold)


class SelectFromCollection(GlueTransform):
    """One frame of a DynamicFrameCollection."""

    def __call__(self, dfc: DynamicFrameCollection, key: str, transformation_ctx: str = "") -> DynamicFrame:
        return dfc.select(key, transformation_ctx)


__all__ = ["GlueTransform", "ApplyMapping", "Filter", "Map", "SelectFields", "DropFields", "RenameField",
           "ResolveChoice", "Join", "Relationalize", "SelectFromCollection"]
