"""DynamicFrame: AWS Glue's frame API over a Spark DataFrame.

Records handed to ``map`` / ``filter`` functions are plain dicts (nested structs as
dicts), like Glue's DynamicRecord seen from Python. ``map`` infers the result schema
from the records it returns, so a function may add, change or drop fields.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

if TYPE_CHECKING:
    from awsglue.context import GlueContext


def _quoted(path: str) -> str:
    """A column reference for a Glue path (``a.b`` is nested; backquoted parts are literal)."""
    return ".".join(f"`{part.strip('`')}`" for part in _split_path(path))


def _split_path(path: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in path:
        if char == "`":
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [p.strip("`") for p in parts]


def _record_json(record: Any) -> str:
    return json.dumps(record, default=str)


class DynamicFrame:
    """A distributed collection of records (a Spark DataFrame underneath)."""

    def __init__(self, jdf: Any, glue_ctx: "GlueContext", name: str = "") -> None:
        self._df = jdf
        self.glue_ctx = glue_ctx
        self.name = name
        self._errors = 0

    # ------------------------------------------------------------ conversion
    @classmethod
    def fromDF(cls, dataframe: Any, glue_ctx: "GlueContext", name: str) -> "DynamicFrame":  # noqa: N802
        """Wrap a Spark DataFrame."""
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options: Any = None) -> Any:  # noqa: N802
        """The Spark DataFrame."""
        return self._df

    def _new(self, dataframe: Any, name: str = "", errors: int = 0) -> "DynamicFrame":
        frame = DynamicFrame(dataframe, self.glue_ctx, name or self.name)
        frame._errors = errors
        return frame

    # ------------------------------------------------------------ record functions
    def map(self, f: Callable[[dict], dict], preservesPartitioning: bool = False, transformation_ctx: str = "",  # noqa: N803
            info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Apply ``f`` to every record; records on which ``f`` raises become error records."""
        spark = self._df.sparkSession
        errors = spark.sparkContext.accumulator(0)

        def apply(rows: Iterable[Any]) -> Iterable[str]:
            for row in rows:
                try:
                    result = f(row.asDict(recursive=True))
                except Exception:
                    errors.add(1)
                    continue
                if result is not None:
                    yield _record_json(result)

        lines = self._df.rdd.mapPartitions(apply).cache()
        if lines.isEmpty():
            frame = spark.createDataFrame([], self._df.schema)
        else:
            frame = spark.read.json(lines)
        frame = frame.cache()
        frame.count()
        lines.unpersist()
        return self._checked(frame, errors.value, stageThreshold, totalThreshold)

    def filter(self, f: Callable[[dict], bool], transformation_ctx: str = "", info: str = "",
               stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Keep the records for which ``f`` is true (the schema is kept)."""
        spark = self._df.sparkSession
        errors = spark.sparkContext.accumulator(0)

        def keep(row: Any) -> bool:
            try:
                return bool(f(row.asDict(recursive=True)))
            except Exception:
                errors.add(1)
                return False

        frame = spark.createDataFrame(self._df.rdd.filter(keep), self._df.schema).cache()
        frame.count()
        return self._checked(frame, errors.value, stageThreshold, totalThreshold)

    def _checked(self, frame: Any, errors: int, stage: int, total: int) -> "DynamicFrame":
        limit = stage or total
        if limit and errors > limit:
            raise RuntimeError(f"Too many errors in {self.name or 'frame'}: {errors} records failed (threshold {limit}).")
        return self._new(frame, errors=self._errors + errors)

    # ------------------------------------------------------------ fields
    def select_fields(self, paths: Sequence[str], transformation_ctx: str = "", info: str = "",
                      stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Only the fields at ``paths`` (missing ones are skipped, as Glue does)."""
        from pyspark.sql import functions as F

        present = [p for p in paths if self._has(p)]
        return self._new(self._df.select(*[F.col(_quoted(p)).alias(_split_path(p)[-1]) if "." in p.strip("`")
                                           else F.col(_quoted(p)) for p in present]))

    def drop_fields(self, paths: Sequence[str], transformation_ctx: str = "", info: str = "",
                    stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Without the fields at ``paths`` (nested ``a.b`` too)."""
        from pyspark.sql import functions as F

        frame = self._df
        for path in paths:
            parts = _split_path(path)
            if not self._has(path):
                continue
            while len(parts) > 1 and len(self._struct_at(parts[:-1], frame).fields) == 1:
                parts = parts[:-1]  # an emptied struct goes too
            if len(parts) == 1:
                frame = frame.drop(parts[0])
            else:
                frame = frame.withColumn(parts[0], F.col(f"`{parts[0]}`").dropFields(".".join(parts[1:])))
        return self._new(frame)

    def rename_field(self, oldName: str, newName: str, transformation_ctx: str = "", info: str = "",  # noqa: N803
                     stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """``oldName`` renamed ``newName`` (a nested field keeps its parent)."""
        from pyspark.sql import functions as F

        old, new = _split_path(oldName), _split_path(newName)
        if len(old) == 1:
            return self._new(self._df.withColumnRenamed(old[0], new[-1]))
        value = F.col(_quoted(oldName))
        frame = self._df.withColumn(old[0], F.col(f"`{old[0]}`").dropFields(".".join(old[1:])))
        frame = frame.withColumn(old[0], F.col(f"`{old[0]}`").withField(".".join(new[1:]), value))
        return self._new(frame)

    def apply_mapping(self, mappings: Sequence[Sequence[str]], case_sensitive: bool = False, transformation_ctx: str = "",
                      info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Select, rename and cast: ``(source_path, source_type, target_path, target_type)`` tuples;
        unmapped fields are dropped, dotted targets build nested structs."""
        from pyspark.sql import functions as F

        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for mapping in mappings:
            source, target, target_type = mapping[0], mapping[2], mapping[3]
            value = F.col(_quoted(source)).cast(_spark_type(target_type)) if self._has(source) else F.lit(None).cast(_spark_type(target_type))
            parts = _split_path(target)
            if len(parts) == 1:
                top[parts[0]] = value
            else:
                nested.setdefault(parts[0], {})[".".join(parts[1:])] = value
        columns = [value.alias(name) for name, value in top.items()]
        for parent, fields in nested.items():
            columns.append(F.struct(*[v.alias(k) for k, v in fields.items()]).alias(parent))
        return self._new(self._df.select(*columns))

    def resolveChoice(self, specs: Sequence[tuple[str, str]] | None = None, choice: str = "", database: str | None = None,  # noqa: N802
                      table_name: str | None = None, transformation_ctx: str = "", info: str = "",
                      stageThreshold: int = 0, totalThreshold: int = 0, catalog_id: str | None = None) -> "DynamicFrame":  # noqa: N803
        """``cast:<type>`` / ``project:<type>`` cast a field; ``match_catalog`` casts every field
        to the catalog table's types. Spark columns have one type each, so ``make_cols`` and
        ``make_struct`` leave a field as it is."""
        from pyspark.sql import functions as F

        frame = self._df
        actions = list(specs or [])
        if choice == "match_catalog" or (choice and not actions and database):
            table = self.glue_ctx.catalog_table(database, table_name, catalog_id)
            actions = [(c["Name"], f"cast:{c['Type']}") for c in table["StorageDescriptor"].get("Columns", [])]
        elif choice and not actions:
            actions = [(c, choice) for c in frame.columns]
        for path, action in actions:
            if not self._has(path, frame):
                continue
            kind, _, type_name = action.partition(":")
            if kind in ("cast", "project") and type_name:
                parts = _split_path(path)
                cast = F.col(_quoted(path)).cast(_spark_type(type_name))
                frame = (frame.withColumn(parts[0], cast) if len(parts) == 1 else
                         frame.withColumn(parts[0], F.col(f"`{parts[0]}`").withField(".".join(parts[1:]), cast)))
            elif kind not in ("make_cols", "make_struct", "cast", "project", "match_catalog"):
                raise ValueError(f"Unknown resolveChoice action {action!r}")
        return self._new(frame)

    def relationalize(self, root_table_name: str, staging_path: str = "", options: dict | None = None,
                      transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,
                      totalThreshold: int = 0) -> "DynamicFrameCollection":  # noqa: N803
        """Flatten structs into ``a.b`` columns; each array becomes its own frame
        (``<root>_<path>`` with ``id``, ``index`` and the element) joined to the root by id."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import ArrayType, StructType

        frames: dict[str, DynamicFrame] = {}

        def flatten(df: Any, table: str) -> None:
            changed = True
            while changed:
                changed = False
                for field in df.schema.fields:
                    if isinstance(field.dataType, StructType):
                        expanded = [F.col(f"`{field.name}`.`{sub.name}`").alias(f"{field.name}.{sub.name}")
                                    for sub in field.dataType.fields]
                        df = df.select(*[F.col(f"`{c}`") for c in df.columns if c != field.name], *expanded)
                        changed = True
                        break
            arrays = [f for f in df.schema.fields if isinstance(f.dataType, ArrayType)]
            for number, field in enumerate(arrays, start=1):
                child_name = f"{table}_{field.name}"
                id_column = f"__id_{number}"
                df = df.withColumn(id_column, F.monotonically_increasing_id() + 1)
                child = df.select(F.col(id_column).alias("id"),
                                  F.posexplode(F.col(f"`{field.name}`")).alias("index", f"{field.name}.val"))
                child = child.withColumn("index", F.col("index"))
                df = df.withColumn(field.name, F.col(id_column)).drop(id_column)
                flatten(child, child_name)
            frames[table] = DynamicFrame(df, self.glue_ctx, table)

        flatten(self._df, root_table_name)
        ordered = {root_table_name: frames.pop(root_table_name), **frames}
        return DynamicFrameCollection(ordered, self.glue_ctx)

    def unnest(self, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,
               totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Nested struct fields as top-level ``a.b`` fields."""
        return self.relationalize(self.name or "root").select(self.name or "root")

    def join(self, paths1: Sequence[str], paths2: Sequence[str], frame2: "DynamicFrame",
             transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,
             totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Inner equality join on ``paths1`` = ``paths2``; both frames' fields are kept."""
        left, right = self._df.alias("l"), frame2.toDF().alias("r")
        condition = None
        for a, b in zip(paths1, paths2):
            term = left[_quoted(a)] == right[_quoted(b)]
            condition = term if condition is None else condition & term
        joined = left.join(right, on=condition, how="inner")
        seen, columns = set(), []
        from pyspark.sql import functions as F
        for alias, frame in (("l", self._df), ("r", frame2.toDF())):
            for column in frame.columns:
                if column not in seen:
                    seen.add(column)
                    columns.append(F.col(f"{alias}.`{column}`"))
        return self._new(joined.select(*columns))

    # ------------------------------------------------------------ partitions and actions
    def repartition(self, num_partitions: int, transformation_ctx: str = "", info: str = "",
                    stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        return self._new(self._df.repartition(num_partitions))

    def coalesce(self, num_partitions: int, shuffle: bool = False, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        return self._new(self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions))

    def getNumPartitions(self) -> int:  # noqa: N802
        return self._df.rdd.getNumPartitions()

    def count(self) -> int:
        return self._df.count()

    def show(self, num_rows: int = 20) -> None:
        """Print up to ``num_rows`` records as JSON lines, as Glue does."""
        for row in self._df.limit(num_rows).toJSON().collect():
            print(row)

    def schema(self) -> Any:
        """The Spark StructType of the records."""
        return self._df.schema

    def printSchema(self) -> None:  # noqa: N802
        self._df.printSchema()

    def errorsCount(self) -> int:  # noqa: N802
        """Records that failed in this frame's transformations."""
        return self._errors

    def stageErrorsCount(self) -> int:  # noqa: N802
        return self._errors

    def assertErrorThreshold(self) -> None:  # noqa: N802
        if self._errors:
            raise RuntimeError(f"{self._errors} error records in {self.name or 'frame'}")

    def spigot(self, path: str, options: dict | None = None, transformation_ctx: str = "") -> "DynamicFrame":
        """Write a sample (``topk`` records, default 100) as JSON to ``path``; the frame is unchanged."""
        options = options or {}
        sample = self._df.limit(int(options.get("topk", 100)))
        self.glue_ctx.write_dynamic_frame.from_options(self._new(sample), "s3", {"path": path}, "json")
        return self

    @staticmethod
    def _struct_at(parts: list[str], frame: Any) -> Any:
        schema = frame.schema
        for part in parts:
            schema = schema[part].dataType
        return schema

    def _has(self, path: str, frame: Any = None) -> bool:
        from pyspark.sql.types import StructType

        schema = (frame if frame is not None else self._df).schema
        for part in _split_path(path):
            if not isinstance(schema, StructType) or part not in schema.fieldNames():
                return False
            schema = schema[part].dataType
        return True


_TYPE_ALIASES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint", "choice": "string"}


def _spark_type(name: str) -> str:
    """A Glue / Hive type name as Spark SQL understands it."""
    name = name.strip().lower()
    return _TYPE_ALIASES.get(name, name)


class DynamicFrameCollection:
    """Named DynamicFrames (what ``relationalize`` and multi-output transforms return)."""

    def __init__(self, dynamic_frames: dict[str, DynamicFrame], glue_ctx: "GlueContext") -> None:
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._frames[key]

    def __len__(self) -> int:
        return len(self._frames)

    def keys(self) -> list[str]:
        return list(self._frames)

    def values(self) -> list[DynamicFrame]:
        return list(self._frames.values())

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        return self._frames[key]

    def map(self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = "") -> "DynamicFrameCollection":  # noqa: A002
        return DynamicFrameCollection({k: callable(v, transformation_ctx) for k, v in self._frames.items()}, self.glue_ctx)

    def flatmap(self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = "") -> "DynamicFrameCollection":
        result: dict[str, DynamicFrame] = {}
        for key, frame in self._frames.items():
            out = f(frame, transformation_ctx)
            if isinstance(out, DynamicFrameCollection):
                result.update({f"{key}_{k}": v for k, v in out._frames.items()})
            else:
                result[key] = out
        return DynamicFrameCollection(result, self.glue_ctx)
