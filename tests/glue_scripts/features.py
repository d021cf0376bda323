"""A Glue job script exercising the awsglue API; it writes what it observed to s3://<bucket>/result.json."""

import json
import sys

import boto3
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, DropFields, Filter, Join, Map, RenameField, ResolveChoice, SelectFields
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket", "database"])
bucket, database = args["bucket"], args["database"]
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
seen = {}

# catalog read: the predicate prunes partitions before reading (kind=bad holds a corrupt file)
events = glueContext.create_dynamic_frame.from_catalog(
    database=database, table_name="events", push_down_predicate="year >= 2021 AND kind <> 'bad'")
seen["events"] = sorted([r["year"], r["kind"], r["count"]] for r in events.toDF().groupBy("year", "kind").count().collect())
seen["events_types"] = dict(events.toDF().dtypes)
like = glueContext.create_dynamic_frame.from_catalog(  # LIKE is evaluated by Spark SQL
    database=database, table_name="events", push_down_predicate="kind LIKE 'vi%' AND year = 2022")
seen["events_like"] = like.count()

# s3 csv with format options, bookmarked under transformation_ctx "people"
people = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [f"s3://{bucket}/raw/people/"]}, format="csv",
    format_options={"withHeader": True, "separator": ";"}, transformation_ctx="people")
mapped = ApplyMapping.apply(frame=people, mappings=[("id", "string", "id", "long"), ("name", "string", "full_name", "string"),
                                                   ("age", "string", "age", "int"), ("city", "string", "address.city", "string")])
seen["mapped_schema"] = mapped.toDF().schema.simpleString()
seen["schema_fields"] = [f.name for f in mapped.schema().fields]
mapped.show(2)
mapped.printSchema()
older = Filter.apply(frame=mapped, f=lambda r: r["age"] >= 30)
seen["older"] = sorted(r["full_name"] for r in older.toDF().collect())
renamed = RenameField.apply(frame=older, old_name="full_name", new_name="name")
dropped = DropFields.apply(frame=renamed, paths=["age", "address.city"])
seen["dropped_columns"] = dropped.toDF().columns
selected = SelectFields.apply(frame=mapped, paths=["id", "age", "missing"])
seen["selected_columns"] = selected.toDF().columns
resolved = ResolveChoice.apply(frame=mapped, specs=[("age", "cast:string")])
seen["resolved_age_type"] = dict(resolved.toDF().dtypes)["age"]


def initials(record):
    if record["full_name"] == "Bad":
        raise ValueError("no initials")
    record["initials"] = "".join(p[0] for p in record["full_name"].split())
    return record


with_initials = Map.apply(frame=mapped, f=initials)
seen["initials"] = sorted(r["initials"] for r in with_initials.toDF().collect())
seen["map_errors"] = with_initials.errorsCount()

# s3 json (nested), relationalize, join
orders = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [f"s3://{bucket}/raw/orders.json"]}, format="json")
tables = orders.relationalize("root", f"s3://{bucket}/tmp/")
seen["relationalized"] = {k: sorted(tables.select(k).toDF().columns) for k in tables.keys()}
seen["items_rows"] = tables.select("root_items").count()
joined = Join.apply(frame1=mapped, frame2=orders.select_fields(["person_id", "total"]), keys1=["id"], keys2=["person_id"])
seen["joined"] = sorted([r["full_name"], r["total"]] for r in joined.toDF().collect())
seen["count"] = mapped.count()
seen["partitions_after_repartition"] = mapped.repartition(3).getNumPartitions()
seen["partitions_after_coalesce"] = mapped.repartition(3).coalesce(1).getNumPartitions()

# sink with catalog update: a new table with partitions
sink = glueContext.getSink(connection_type="s3", path=f"s3://{bucket}/out/people/", enableUpdateCatalog=True,
                           updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["age"])
sink.setFormat("json")
sink.setCatalogInfo(catalogDatabase=database, catalogTableName="people_out")
sink.writeFrame(SelectFields.apply(frame=mapped, paths=["id", "full_name", "age"]))

# write from_catalog adds the new partition to the events table
new_events = glueContext.spark_session.createDataFrame([(9, "x", 2024, "new")], "id long, payload string, year int, kind string")
from awsglue.dynamicframe import DynamicFrame  # noqa: E402

glueContext.write_dynamic_frame.from_catalog(frame=DynamicFrame.fromDF(new_events, glueContext, "new"), database=database,
                                             table_name="events")
glueContext.purge_s3_path(f"s3://{bucket}/purge/", {"retentionPeriod": 0})
boto3.client("s3").put_object(Bucket=bucket, Key="result.json", Body=json.dumps(seen).encode())
job.commit()
