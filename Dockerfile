# aws-ml-emulator: one port that speaks AWS's ML services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    EMULATOR_HOST=0.0.0.0 EMULATOR_PORT=4599 EMULATOR_DATA_DIR=/data

# SPARK=false leaves out Java 17 and PySpark (Glue glueetl job runs then fail saying so)
ARG SPARK=true
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    $( [ "$SPARK" = "true" ] && echo openjdk-17-jre-headless ) && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY clients ./clients
COPY awsglue ./awsglue
COPY awsglueml ./awsglueml
RUN if [ "$SPARK" = "true" ]; then pip install --no-cache-dir ".[spark,databases,parquet]"; else pip install --no-cache-dir ".[databases,parquet]"; fi

VOLUME ["/data"]
EXPOSE 4599
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:4599/_emulator/health', timeout=2).status == 200 else 1)"
CMD ["aws-ml-emulator", "--host", "0.0.0.0", "--port", "4599", "--data-dir", "/data"]
