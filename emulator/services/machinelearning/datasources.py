"""Data sources: CreateDataSourceFromS3/RDS/Redshift, Get/Describe/Update/DeleteDataSource."""

from __future__ import annotations

import os
from typing import Any, Callable
from urllib.parse import urlparse

from emulator.aws.s3 import S3Head, S3Object, S3Store
from emulator.context import RequestContext
from emulator.engines import lazy
from emulator.engines.memory import give_back_freed_memory
from emulator.engines.amazonml.errors import DataProcessingError
from emulator.scratch import SCRATCH

from .common import (JOBS, Kind, check_s3_uri, delete_object, describe_objects, engine_input, get_object, iam_user,
                     invalid, parse_schema, read_s3_text, replay, state_of, submit, update_object, wait, work)
from .database_sources import (DatabaseQuery, connection_url, inferred_schema_text, part_names, stage_query,
                               staged_schema, staging_prefix)
from .parsed_files import directory_size, schema_layout
from .state import DataSource, MachineLearningState

_ENGINE = "emulator.engines.amazonml"
parse_rearrangement = lazy(f"{_ENGINE}.rearrangement", "parse_rearrangement")


def render_data_source(ds: DataSource) -> dict[str, Any]:
    """A DataSource as Describe/GetDataSource show it."""
    return {
        "DataSourceId": ds.id, "DataLocationS3": ds.location_s3, "DataRearrangement": ds.rearrangement,
        "CreatedByIamUser": ds.created_by, "CreatedAt": ds.created_at, "LastUpdatedAt": ds.last_updated_at,
        "DataSizeInBytes": ds.data_size, "NumberOfFiles": ds.number_of_files, "Name": ds.name,
        "Status": ds.status, "Message": ds.message, "RedshiftMetadata": ds.redshift_metadata,
        "RDSMetadata": ds.rds_metadata, "RoleARN": ds.role_arn, "ComputeStatistics": ds.compute_statistics,
        "ComputeTime": ds.compute_time, "FinishedAt": ds.finished_at, "StartedAt": ds.started_at,
    }


DATA_SOURCE = Kind(DataSource, "DataSourceId", "DataSourceName", render_data_source)


def _load(ctx: RequestContext, state: MachineLearningState, ds: DataSource, s3: S3Store) -> None:
    """Job: read the S3 data, select and type the records, compute statistics."""
    with state.lock:
        ds.start()
    heads = [o for o in s3.heads(ds.location_s3) if not o.key.endswith(".schema")]
    if not heads:
        raise DataProcessingError(f"No data files found at {ds.location_s3}")
    bucket = urlparse(ds.location_s3).netloc
    load_files(ctx, state, ds, bucket, heads, lambda key: s3.get_object(bucket, key))


def load_files(ctx: RequestContext, state: MachineLearningState, ds: DataSource, bucket: str,
               objects: list[S3Object] | list[S3Head], read: Callable[[str], S3Object] | None = None,
               split_names: list[str] | None = None) -> None:
    """Select and type the records of ``objects`` (in ``bucket``; heads are read by ``read``
    unless their parse is kept) by the data source's schema and rearrangement, compute
    statistics (in a worker process), and end COMPLETED.

    The bytes reach the worker as a scratch file; the worker keeps what it parsed and the
    data set in scratch directories (memory-mapped by later jobs): the server holds their
    paths, and the directories go with the objects that hold them."""
    kept = state.parsed_files
    layout = schema_layout(ds.schema)
    entries = [kept.get((bucket, o.key, o.etag, layout)) if o.etag else None for o in objects]
    split = parse_rearrangement(ds.rearrangement)
    random_split = split is not None and split.strategy == "random"
    names = split_names if split_names is not None else [o.key for o in objects]
    known = [e.buckets.get((split.seed, name)) if e is not None and random_split else None
             for e, name in zip(entries, names)]
    keys: list[tuple | None] = []
    inputs: list[Any] = []
    kept_directories: list[str] = []  # the parses' and the data set's (owned by them on success)
    try:
        with SCRATCH.directory("input") as input_directory:  # the objects' bytes, for this job only
            for index, (entry, o) in enumerate(zip(entries, objects)):
                if entry is not None:
                    keys.append((bucket, o.key, o.etag, layout))
                    inputs.append(entry.parsed)
                    continue
                whole = o if isinstance(o, S3Object) else read(o.key)
                keys.append((bucket, whole.key, whole.etag, layout) if whole.etag else None)
                path = os.path.join(input_directory, f"{index}")
                with open(path, "wb") as sink:
                    sink.write(whole.data)
                del whole
                give_back_freed_memory()  # the object's bytes (and the upload's buffers) while the worker runs
                kept_directories.append(SCRATCH.new_directory("parsed"))
                inputs.append((o.key, path, kept_directories[-1]))
            kept_directories.append(SCRATCH.new_directory("dataset"))
            dataset, statistics, parsed, buckets = work(
                ctx, ds, f"{JOBS}:load_data_source_files", inputs, ds.schema, ds.rearrangement,
                ds.compute_statistics, split_names, known, True, kept_directories[-1])
    except BaseException:
        for directory in kept_directories:
            SCRATCH.remove(directory)
        raise
    SCRATCH.own(dataset, dataset.store_directory)
    for i, key in enumerate(keys):
        if parsed[i] is not None:
            SCRATCH.own(parsed[i], parsed[i].store_directory)
            if key is not None:
                kept.put(key, parsed[i], directory_size(parsed[i].store_directory))
        entry = kept.get(key) if key is not None else None
        if entry is not None and buckets is not None and known[i] is None:
            entry.buckets[(split.seed, names[i])] = buckets[i]
    with state.lock:
        if ds.deleted:
            return
        ds.dataset = dataset
        ds.statistics = statistics
        ds.files = [f"s3://{bucket}/{o.key}" for o in objects]
        ds.data_size = dataset.size_in_bytes
        ds.number_of_files = dataset.number_of_files
        message = None
        if dataset.invalid_record_count:
            message = (f"{dataset.invalid_record_count} of {dataset.total_record_count} records were rejected"
                       + (f"; first: {dataset.invalid_examples[0]}" if dataset.invalid_examples else ""))
        ds.finish("COMPLETED", message)


def _load_query(ctx: RequestContext, state: MachineLearningState, ds: DataSource, s3: S3Store, url: Callable[[], Any],
                query: str) -> None:
    """Job: run the query, stage its rows as CSV in S3, infer a schema if none was given,
    then load the staged files like an S3 data source."""
    with state.lock:
        ds.start()
    expected = len(ds.schema.attributes) if ds.schema is not None else None
    staged = stage_query(url(), query, s3, ds.location_s3, expected)
    if ds.schema is None:
        schema = parse_schema(inferred_schema_text(staged))
        with state.lock:
            ds.schema, ds.schema_text = schema, schema.to_json()
    bucket = urlparse(ds.location_s3).netloc
    objects = [s3.get_object(bucket, key) for key in staged.keys]
    load_files(ctx, state, ds, bucket, objects, None, part_names(staged.keys))


def _query(service: str, identifier: str, db: dict[str, Any], spec: dict[str, Any]) -> DatabaseQuery:
    credentials = spec["DatabaseCredentials"]
    return DatabaseQuery(service, identifier, db["DatabaseName"], credentials["Username"], credentials["Password"],
                         spec["SelectSqlQuery"])


def _release(ds: DataSource) -> None:
    ds.dataset = None  # its scratch directory goes with the last reference (a running job's)


class DataSourceOperations:
    """The data source operations of the ``machinelearning`` provider."""

    def create_data_source_from_s3(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Validate schema and rearrangement now; load the data in the background."""
        state = state_of(ctx)
        with state.lock:
            if (answer := replay(state, DATA_SOURCE, request)) is not None:
                return answer
        spec = request["DataSpec"]
        location = spec["DataLocationS3"]
        check_s3_uri(location, "DataLocationS3")
        if spec.get("DataSchema"):
            schema_text = spec["DataSchema"]
        elif spec.get("DataSchemaLocationS3"):
            schema_text = read_s3_text(ctx, spec["DataSchemaLocationS3"], "DataSchemaLocationS3")
        else:
            raise invalid("DataSpec must contain DataSchema or DataSchemaLocationS3")
        schema = engine_input(lambda: parse_schema(schema_text))
        rearrangement = spec.get("DataRearrangement")
        engine_input(lambda: parse_rearrangement(rearrangement))
        ds = DataSource(id=request["DataSourceId"], name=request.get("DataSourceName"), created_by=iam_user(ctx),
                        request=request, location_s3=location, rearrangement=rearrangement,
                        schema_text=schema.to_json(), schema=schema,
                        compute_statistics=bool(request.get("ComputeStatistics", False)))
        s3 = ctx.s3()
        with state.lock:
            if (answer := replay(state, DATA_SOURCE, request)) is not None:
                return answer
            state.data_sources[ds.id] = ds
            submit(ctx, state, ds, lambda: _load(ctx, state, ds, s3))
        wait(ctx, ds)
        return {"DataSourceId": ds.id}

    def create_data_source_from_rds(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Query the RDS instance's database (``--database`` or the emulator's RDS API) into a data source."""
        spec = request["RDSData"]
        if not spec["SecurityGroupIds"]:
            raise invalid("RDSData.SecurityGroupIds must list at least one security group")
        db = spec["DatabaseInformation"]
        metadata = {"Database": dict(db), "DatabaseUserName": spec["DatabaseCredentials"]["Username"],
                    "SelectSqlQuery": spec["SelectSqlQuery"], "ResourceRole": spec["ResourceRole"],
                    "ServiceRole": spec["ServiceRole"]}
        return _database_data_source(ctx, request, spec, "rds_metadata", metadata,
                                     _query("rds", db["InstanceIdentifier"], db, spec))

    def create_data_source_from_redshift(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Query the Redshift cluster's database (``--database`` or the emulator's Redshift API) into a data source."""
        spec = request["DataSpec"]
        db = spec["DatabaseInformation"]
        metadata = {"RedshiftDatabase": dict(db), "DatabaseUserName": spec["DatabaseCredentials"]["Username"],
                    "SelectSqlQuery": spec["SelectSqlQuery"]}
        return _database_data_source(ctx, request, spec, "redshift_metadata", metadata,
                                     _query("redshift", db["ClusterIdentifier"], db, spec))

    def get_data_source(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The data source; with Verbose also its schema."""
        return get_object(ctx, DATA_SOURCE, request, verbose=lambda ds: {"DataSourceSchema": ds.schema_text})

    def describe_data_sources(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """One filtered, sorted page of data sources."""
        return describe_objects(ctx, DATA_SOURCE, request)

    def update_data_source(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Rename a data source."""
        return update_object(ctx, DATA_SOURCE, request)

    def delete_data_source(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """Mark a data source DELETED and drop its records."""
        return delete_object(ctx, DATA_SOURCE, request, release=_release)


def _database_data_source(ctx: RequestContext, request: dict[str, Any], spec: dict[str, Any],
                          metadata_key: str, metadata: dict[str, Any], target: DatabaseQuery) -> dict[str, Any]:
    """CreateDataSourceFromRDS/FromRedshift once the engine-specific members are read:
    validate now; query, stage and load in the background."""
    state = state_of(ctx)
    with state.lock:
        if (answer := replay(state, DATA_SOURCE, request)) is not None:
            return answer
    check_s3_uri(spec["S3StagingLocation"], "S3StagingLocation")
    schema = None
    if spec.get("DataSchema"):
        schema = engine_input(lambda: parse_schema(spec["DataSchema"]))
    elif spec.get("DataSchemaUri"):
        text = read_s3_text(ctx, spec["DataSchemaUri"], "DataSchemaUri")
        schema = engine_input(lambda: parse_schema(text))
    engine_input(lambda: parse_rearrangement(spec.get("DataRearrangement")))
    if not spec["SelectSqlQuery"].strip():
        raise invalid("SelectSqlQuery must not be blank")
    ds = DataSource(id=request["DataSourceId"], name=request.get("DataSourceName"), created_by=iam_user(ctx),
                    request=request, location_s3=staging_prefix(spec["S3StagingLocation"], request["DataSourceId"]),
                    rearrangement=spec.get("DataRearrangement"),
                    schema_text=schema.to_json() if schema else None,
                    schema=staged_schema(schema) if schema else None,
                    compute_statistics=bool(request.get("ComputeStatistics", False)),
                    role_arn=request.get("RoleARN"), **{metadata_key: metadata})
    s3 = ctx.s3()
    databases, account, region = ctx.emulator.config.databases, ctx.account_id, ctx.region
    url = lambda: connection_url(databases, account, region, target)  # noqa: E731 - resolved in the job
    with state.lock:
        if (answer := replay(state, DATA_SOURCE, request)) is not None:
            return answer
        state.data_sources[ds.id] = ds
        submit(ctx, state, ds, lambda: _load_query(ctx, state, ds, s3, url, target.query))
    wait(ctx, ds)
    return {"DataSourceId": ds.id}
