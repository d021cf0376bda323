"""Everything that touches moto: the mounted WSGI app and in-process S3/Logs access."""
