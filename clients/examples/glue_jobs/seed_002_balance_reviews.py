"""Seed 002, first Glue job: balance the review table down to its smallest category.

Count the reviews per category, compute a sampling factor per category
(smallest count / category count), read each category alone with a
``push_down_predicate`` (only that partition is read), sample it, union the samples
and write them as Parquet partitioned by product category.

Job arguments: --database, --table (the partitioned review table), --output_path (s3://...).
"""

import sys
from functools import reduce

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.transforms import *  # noqa: F401,F403 - as Glue's generated scripts do
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import DataFrame

args = getResolvedOptions(sys.argv, ["JOB_NAME", "database", "table", "output_path"])

sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# find the category with the lowest count and a sampling factor for every category
reviews = glueContext.create_dynamic_frame.from_catalog(database=args["database"], table_name=args["table"])
counts = reviews.toDF().groupBy("product_category").count().collect()
lowest = min(row["count"] for row in counts)
factors = {row["product_category"]: lowest / row["count"] for row in counts}
print("reviews per category:", {row["product_category"]: row["count"] for row in counts})

# take a sample of each category, reading only that category's partition
samples = []
for category, factor in sorted(factors.items()):
    reader = glueContext.create_dynamic_frame.from_catalog(
        database=args["database"], table_name=args["table"],
        push_down_predicate="product_category == '{}'".format(category))
    sample = reader.toDF().sample(withReplacement=False, fraction=factor, seed=42)
    samples.append(sample)

# write the balanced data set as Parquet, partitioned by category
balanced = reduce(DataFrame.union, samples)
writer = DynamicFrame.fromDF(balanced, glueContext, "balanced")
glueContext.write_dynamic_frame.from_options(
    frame=writer, connection_type="s3",
    connection_options={"path": args["output_path"], "partitionKeys": ["product_category"]},
    format="parquet")
job.commit()
