"""Glue job scripts (uploaded to S3 and run by Glue jobs; not imported)."""
