"""A local implementation of AWS Glue's ``awsglueml`` library (FindMatches in ETL scripts),
shipped by aws-ml-emulator: ``from awsglueml.transforms import FindMatches``."""
