"""A Glue job applying a FindMatches transform to a catalog table (seed 000's ETL step)."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from awsglueml.transforms import FindMatches
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "database", "table", "transform_id", "output_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
records = glueContext.create_dynamic_frame.from_catalog(database=args["database"], table_name=args["table"])
matched = FindMatches.apply(frame=records, transformId=args["transform_id"], computeMatchConfidenceScores=True)
glueContext.write_dynamic_frame.from_options(frame=matched.repartition(1), connection_type="s3",
                                             connection_options={"path": args["output_path"]}, format="csv")
job.commit()
