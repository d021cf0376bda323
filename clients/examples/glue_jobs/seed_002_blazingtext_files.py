"""Seed 002, second Glue job: BlazingText training files from the balanced reviews.

Select the category and review text, tokenise the text with a ``map`` (the label
``__label__<category>`` first, then space-separated tokens), split 60/20/20 with
``randomSplit`` and write train / validation / test as one file each
(``repartition(1)``), space-separated, no header, no quoting.

The seed tokenises with NLTK; this script uses the equivalent regular expression
of NLTK's ``wordpunct_tokenize`` so that it needs no extra package.

Job arguments: --database, --table (the balanced table), --output_path (s3://...).
"""

import re
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "database", "table", "output_path"])

sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

data = glueContext.create_dynamic_frame.from_catalog(database=args["database"], table_name=args["table"])
data = data.select_fields(["product_category", "review_body"])


def tokenize(dynamicRecord):
    tokens = re.findall(r"\w+|[^\w\s]+", (dynamicRecord["review_body"] or "").lower())
    dynamicRecord["product_category"] = "__label__" + dynamicRecord["product_category"].lower()
    dynamicRecord["review_body"] = " ".join(tokens)
    return dynamicRecord


tokenized = data.map(f=tokenize)
train, validation, test = tokenized.toDF().randomSplit([0.6, 0.2, 0.2], seed=7)

for name, split in (("train", train), ("validation", validation), ("test", test)):
    # BlazingText wants one file per channel: one partition, label first, space separated
    single = DynamicFrame.fromDF(split.select("product_category", "review_body").repartition(1), glueContext, name)
    glueContext.write_dynamic_frame.from_options(
        frame=single, connection_type="s3",
        connection_options={"path": "{}/{}".format(args["output_path"].rstrip("/"), name)},
        format="csv", format_options={"separator": " ", "writeHeader": False, "quoteChar": -1})
job.commit()
