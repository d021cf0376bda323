"""Amazon ML data sources from databases, against real servers the tests start: a PostgreSQL
serving as the Redshift cluster (Redshift speaks PostgreSQL's protocol) and a MariaDB as
the RDS MySQL instance (skipped with the reason where either cannot start)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import urllib.request
import uuid
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from clients.testing import RunningEmulator, running_emulator
from emulator.config import Config
from tests.db_servers import (DATABASE, PASSWORD, USER, DatabaseServer, ServerUnavailable, start_mariadb,
                              start_postgres)

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/AmazonML"
CLUSTER = "digits-cluster"
PIXELS = [f"p{i}" for i in range(64)]
DIGITS_SCHEMA = {"version": "1.0", "rowId": None, "rowWeight": None, "targetAttributeName": "label",
                 "dataFormat": "CSV", "dataFileContainsHeader": False, "excludedAttributeNames": [],
                 "attributes": [{"attributeName": p, "attributeType": "NUMERIC"} for p in PIXELS]
                 + [{"attributeName": "label", "attributeType": "CATEGORICAL"}]}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _server(start: Callable[[], Any]) -> Iterator[DatabaseServer]:
    try:
        manager = start()
        server = manager.__enter__()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        manager.__exit__(None, None, None)


def _digits_rows(shuffle_labels: bool = False) -> list[tuple]:
    X, y = datasets.load_digits(return_X_y=True)
    labels = [int(v) for v in y]
    if shuffle_labels:
        random.Random(7).shuffle(labels)
    return [(i, *[int(v) for v in x], label) for i, (x, label) in enumerate(zip(X, labels))]


@pytest.fixture(scope="module")
def postgres() -> Iterator[DatabaseServer]:
    """A PostgreSQL with tables ``digits`` (sklearn's digits), ``digits_shuffled`` (labels
    permuted) and ``people`` (mixed column types)."""
    for server in _server(start_postgres):
        conn = server.connect()
        columns = ", ".join(f"{p} INTEGER" for p in PIXELS)
        with conn.cursor() as cur:
            for table, shuffled in (("digits", False), ("digits_shuffled", True)):
                cur.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {columns}, label INTEGER)")
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in _digits_rows(shuffled):
                        copy.write_row(row)
            cur.execute("CREATE TABLE people (id INTEGER, name VARCHAR(40), age NUMERIC(5,1), member BOOLEAN,"
                        " bio TEXT, city VARCHAR(40))")
            cur.execute("INSERT INTO people VALUES (1, 'Ann', 31.5, true, 'likes long walks, on the beach', 'Oslo'),"
                        " (2, 'Bob, Jr.', NULL, false, 'writes code every single day', 'Rome'),"
                        " (3, 'Cy', 40, NULL, 'plays chess in the park', NULL)")
        conn.close()
        yield server


@pytest.fixture(scope="module")
def mariadb() -> Iterator[DatabaseServer]:
    """A MariaDB with a ``sales`` table."""
    for server in _server(start_mariadb):
        conn = server.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE sales (id INT, region VARCHAR(10), amount DECIMAL(8,2), returned TINYINT)")
            cur.executemany("INSERT INTO sales VALUES (%s, %s, %s, %s)",
                            [(i, ["north", "south", "east"][i % 3], 10 + i * 1.25, int(i % 4 == 0))
                             for i in range(60)])
        conn.close()
        yield server


@pytest.fixture(scope="module")
def db_emulator(postgres: DatabaseServer) -> Iterator[RunningEmulator]:
    """An emulator started with ``--database digits-cluster=<postgres URL>``."""
    with running_emulator(Config(job_grace_seconds=30.0, databases={CLUSTER: postgres.url})) as running:
        yield running


@pytest.fixture
def ml(db_emulator: RunningEmulator) -> Any:
    return db_emulator.client("machinelearning")


@pytest.fixture
def db_bucket(db_emulator: RunningEmulator) -> str:
    name = f"db-{uuid.uuid4().hex[:12]}"
    db_emulator.client("s3").create_bucket(Bucket=name)
    return name


def redshift_source(ml: Any, bucket: str, query: str, *, ds_id: str | None = None, schema: dict | None = None,
                    rearrangement: dict | None = None, password: str = PASSWORD, database: str = DATABASE,
                    cluster: str = CLUSTER, **extra: Any) -> dict:
    ds_id = ds_id or uid("rs")
    spec: dict[str, Any] = {"DatabaseInformation": {"DatabaseName": database, "ClusterIdentifier": cluster},
                            "SelectSqlQuery": query, "DatabaseCredentials": {"Username": USER, "Password": password},
                            "S3StagingLocation": f"s3://{bucket}/staging/", **extra}
    if schema is not None:
        spec["DataSchema"] = json.dumps(schema)
    if rearrangement is not None:
        spec["DataRearrangement"] = json.dumps(rearrangement)
    ml.create_data_source_from_redshift(DataSourceId=ds_id, RoleARN=ROLE, ComputeStatistics=True, DataSpec=spec)
    return ml.get_data_source(DataSourceId=ds_id, Verbose=True)


def records(emulator: RunningEmulator, ds_id: str) -> list[dict]:
    url = f"{emulator.url}/_emulator/machinelearning/{ACCOUNT}/{REGION}/datasources/{ds_id}/records"
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())["Records"]


def split(complement: bool) -> dict:
    return {"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random", "complement": complement}}


def seed001_model_and_evaluation(ml: Any, train_id: str, eval_id: str) -> dict:
    """Seed 001's create_model + create_evaluation on two existing data sources."""
    model_id, ev_id = uid("learn-ml"), uid("learn-ev")
    ml.create_ml_model(MLModelId=model_id, MLModelType="MULTICLASS", TrainingDataSourceId=train_id,
                       Parameters={"sgd.maxPasses": "20", "sgd.shuffleType": "auto"})
    ml.get_waiter("ml_model_available").wait(FilterVariable="TrainingDataSourceId", EQ=train_id,
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ml.create_evaluation(EvaluationId=ev_id, MLModelId=model_id, EvaluationDataSourceId=eval_id)
    ml.get_waiter("evaluation_available").wait(FilterVariable="MLModelId", EQ=model_id,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ev = ml.get_evaluation(EvaluationId=ev_id)
    assert ev["Status"] == "COMPLETED", ev.get("Message")
    return {"model": model_id, "f1": float(ev["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"])}


def staged_csv(rows: list[tuple]) -> bytes:
    """What the staged file must hold: the query's rows as headerless CSV (id dropped)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(row[1:] for row in rows)
    return buffer.getvalue().encode()


def test_redshift_table_becomes_completed_data_source_and_model_predicts(db_emulator, ml, db_bucket) -> None:
    query = f"SELECT {', '.join(PIXELS)}, label FROM digits ORDER BY id"
    got = redshift_source(ml, db_bucket, query, schema=DIGITS_SCHEMA, ds_id=uid("rs-all"))
    assert got["Status"] == "COMPLETED", got.get("Message")
    ds_id = got["DataSourceId"]
    # the staged CSV is in S3 under the staging location, exactly the table's rows
    assert got["DataLocationS3"] == f"s3://{db_bucket}/staging/{ds_id}/"
    s3 = db_emulator.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=db_bucket, Prefix=f"staging/{ds_id}/")["Contents"]]
    assert keys == [f"staging/{ds_id}/0000_part_00"]
    body = s3.get_object(Bucket=db_bucket, Key=keys[0])["Body"].read()
    expected = staged_csv(_digits_rows())
    assert body == expected
    assert got["NumberOfFiles"] == 1 and got["DataSizeInBytes"] == len(expected)
    assert got["RedshiftMetadata"] == {"RedshiftDatabase": {"DatabaseName": DATABASE, "ClusterIdentifier": CLUSTER},
                                       "DatabaseUserName": USER, "SelectSqlQuery": query}
    assert "RDSMetadata" not in got and got["RoleARN"] == ROLE and got["ComputeStatistics"] is True
    assert json.loads(got["DataSourceSchema"])["targetAttributeName"] == "label"
    assert len(records(db_emulator, ds_id)) == 1797
    # a model trained on it predicts the digits of its own rows
    model = uid("m")
    ml.create_ml_model(MLModelId=model, MLModelType="MULTICLASS", TrainingDataSourceId=ds_id)
    assert ml.get_ml_model(MLModelId=model)["Status"] == "COMPLETED"
    endpoint = ml.create_realtime_endpoint(MLModelId=model)["RealtimeEndpointInfo"]["EndpointUrl"]
    rows = _digits_rows()[::60]
    predicted = [ml.predict(MLModelId=model, PredictEndpoint=endpoint,
                            Record={p: str(v) for p, v in zip(PIXELS, row[1:65])})["Prediction"]["predictedLabel"]
                 for row in rows]
    accuracy = np.mean([p == str(row[65]) for p, row in zip(predicted, rows)])
    assert accuracy >= 0.8, predicted
    # a batch prediction on a data source whose schema is inferred (no label column)
    unlabelled = redshift_source(ml, db_bucket, f"SELECT {', '.join(PIXELS)} FROM digits WHERE id % 10 = 0 ORDER BY id")
    assert unlabelled["Status"] == "COMPLETED", unlabelled.get("Message")
    bp = uid("bp")
    ml.create_batch_prediction(BatchPredictionId=bp, MLModelId=model, OutputUri=f"s3://{db_bucket}/out/",
                               BatchPredictionDataSourceId=unlabelled["DataSourceId"])
    assert ml.get_batch_prediction(BatchPredictionId=bp)["Status"] == "COMPLETED"
    result_key = f"out/batch-prediction/result/{bp}-0000_part_00.gz"
    lines = gzip.decompress(s3.get_object(Bucket=db_bucket, Key=result_key)["Body"].read()).decode().splitlines()
    header, scores = lines[0].split(","), [[float(v) for v in line.split(",")] for line in lines[1:]]
    labels = [row[65] for row in _digits_rows() if row[0] % 10 == 0]
    assert len(scores) == len(labels) == 180
    assert np.mean([header[int(np.argmax(s))] == str(y) for s, y in zip(scores, labels)]) >= 0.8


def test_seed001_flow_on_redshift_equals_s3_flow_on_the_same_rows(db_emulator, ml, db_bucket) -> None:
    query = f"SELECT {', '.join(PIXELS)}, label FROM digits ORDER BY id"
    mds = redshift_source(ml, db_bucket, query, schema=DIGITS_SCHEMA, rearrangement=split(False))
    eds = redshift_source(ml, db_bucket, query, schema=DIGITS_SCHEMA, rearrangement=split(True))
    assert mds["Status"] == eds["Status"] == "COMPLETED", (mds.get("Message"), eds.get("Message"))
    via_redshift = seed001_model_and_evaluation(ml, mds["DataSourceId"], eds["DataSourceId"])
    # the S3 flow on the same rows: the staged bytes as an S3 object of the same base name
    s3 = db_emulator.client("s3")
    staged = s3.get_object(Bucket=db_bucket, Key=f"staging/{mds['DataSourceId']}/0000_part_00")["Body"].read()
    s3.put_object(Bucket=db_bucket, Key="0000_part_00", Body=staged, ServerSideEncryption="AES256")
    ids = {}
    for part, complement in (("mds", False), ("eds", True)):
        ids[part] = uid(f"learn-{part}")
        ml.create_data_source_from_s3(DataSourceId=ids[part], ComputeStatistics=True, DataSpec={
            "DataLocationS3": f"s3://{db_bucket}/0000_part_00", "DataSchema": json.dumps(DIGITS_SCHEMA),
            "DataRearrangement": json.dumps(split(complement))})
    via_s3 = seed001_model_and_evaluation(ml, ids["mds"], ids["eds"])
    train = records(db_emulator, mds["DataSourceId"])
    test = records(db_emulator, eds["DataSourceId"])
    assert train == records(db_emulator, ids["mds"]) and test == records(db_emulator, ids["eds"])
    assert len(train) + len(test) == 1797 and 0.6 < len(train) / 1797 < 0.8
    assert via_redshift["f1"] == via_s3["f1"]
    # two-sided: near scikit-learn on the same rows, and a random-label table scores near chance
    X_train = np.array([[r[p] for p in PIXELS] for r in train])
    X_test = np.array([[r[p] for p in PIXELS] for r in test])
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression(max_iter=2000).fit(scaler.transform(X_train), [r["label"] for r in train])
    sk_f1 = f1_score([r["label"] for r in test], reference.predict(scaler.transform(X_test)), average="macro")
    print(f"digits macro F1: redshift {via_redshift['f1']:.4f} s3 {via_s3['f1']:.4f} sklearn {sk_f1:.4f}")
    assert via_redshift["f1"] >= sk_f1 - 0.05
    shuffled = f"SELECT {', '.join(PIXELS)}, label FROM digits_shuffled ORDER BY id"
    control = seed001_model_and_evaluation(
        ml, redshift_source(ml, db_bucket, shuffled, schema=DIGITS_SCHEMA, rearrangement=split(False))["DataSourceId"],
        redshift_source(ml, db_bucket, shuffled, schema=DIGITS_SCHEMA, rearrangement=split(True))["DataSourceId"])
    assert control["f1"] < 0.3


@pytest.mark.parametrize("query, password, database, message", [
    ("SELECT * FROM digits", "wrong-password", DATABASE, f'password authentication failed for user "{USER}"'),
    ("SELECT * FROM no_such_table", PASSWORD, DATABASE, 'relation "no_such_table" does not exist'),
    ("SELEKT * FROM digits", PASSWORD, DATABASE, 'syntax error at or near "SELEKT"'),
    ("SELECT * FROM digits", PASSWORD, "nosuchdb", 'database "nosuchdb" does not exist'),
    ("WITH gone AS (DELETE FROM digits RETURNING id) SELECT id FROM gone", PASSWORD, DATABASE,
     "must not contain data-modifying statements"),
    ("-- clean up\nDROP TABLE digits", PASSWORD, DATABASE, 'syntax error at or near "DROP"'),
])
def test_database_refusals_fail_the_data_source_with_its_message(ml, db_bucket, query, password, database,
                                                                 message) -> None:
    got = redshift_source(ml, db_bucket, query, password=password, database=database)
    assert got["Status"] == "FAILED" and message in got["Message"], got.get("Message")
    assert "FinishedAt" in got and "StartedAt" in got
    assert password not in got["Message"]
    # a model on it fails naming the data source, the server keeps serving
    model = uid("m")
    ml.create_ml_model(MLModelId=model, MLModelType="MULTICLASS", TrainingDataSourceId=got["DataSourceId"])
    assert ml.get_ml_model(MLModelId=model)["Status"] == "FAILED"


def test_schema_inferred_from_column_types_or_read_from_uri(db_emulator, ml, db_bucket) -> None:
    got = redshift_source(ml, db_bucket, "SELECT id, name, age, member, bio, city FROM people WHERE name LIKE '%' "
                                         "ORDER BY id")
    assert got["Status"] == "COMPLETED", got.get("Message")
    schema = json.loads(got["DataSourceSchema"])
    assert {a["attributeName"]: a["attributeType"] for a in schema["attributes"]} == {
        "id": "NUMERIC", "name": "CATEGORICAL", "age": "NUMERIC", "member": "BINARY", "bio": "TEXT",
        "city": "CATEGORICAL"}
    assert schema["targetAttributeName"] is None and schema["dataFileContainsHeader"] is False
    staged = db_emulator.client("s3").get_object(
        Bucket=db_bucket, Key=f"staging/{got['DataSourceId']}/0000_part_00")["Body"].read().decode()
    assert staged.splitlines() == ["1,Ann,31.5,t,\"likes long walks, on the beach\",Oslo",
                                   "2,\"Bob, Jr.\",,f,writes code every single day,Rome",
                                   "3,Cy,40.0,,plays chess in the park,"]
    rows = records(db_emulator, got["DataSourceId"])
    assert [r["member"] for r in rows] == ["1", "0", ""] and rows[1]["name"] == "Bob, Jr."
    # DataSchemaUri, with a target; a schema whose attribute count differs from the query fails
    schema_doc = {"version": "1.0", "targetAttributeName": "member", "dataFormat": "CSV",
                  "dataFileContainsHeader": True,
                  "attributes": [{"attributeName": "age", "attributeType": "NUMERIC"},
                                 {"attributeName": "member", "attributeType": "BINARY"}]}
    s3 = db_emulator.client("s3")
    s3.put_object(Bucket=db_bucket, Key="people.schema", Body=json.dumps(schema_doc).encode())
    from_uri = redshift_source(ml, db_bucket, "SELECT age, member FROM people ORDER BY id",
                               DataSchemaUri=f"s3://{db_bucket}/people.schema")
    assert from_uri["Status"] == "COMPLETED", from_uri.get("Message")
    assert [r["age"] for r in records(db_emulator, from_uri["DataSourceId"])][0] == "31.5"  # no row taken as header
    assert json.loads(from_uri["DataSourceSchema"])["targetAttributeName"] == "member"
    mismatch = redshift_source(ml, db_bucket, "SELECT age FROM people", schema=schema_doc)
    assert mismatch["Status"] == "FAILED"
    assert "returned 1 columns (age) but the data schema declares 2 attributes" in mismatch["Message"]


def test_unknown_cluster_fails_with_aws_wording(ml, db_bucket) -> None:
    got = redshift_source(ml, db_bucket, "SELECT 1", cluster="nowhere")
    assert got["Status"] == "FAILED" and got["Message"].startswith("Cluster nowhere not found.")


def test_clusters_and_instances_created_through_the_emulator_resolve(emulator, aws, bucket, postgres) -> None:
    """No --database: a Redshift cluster created through the emulator's Redshift API on the
    PostgreSQL's port is that PostgreSQL on 127.0.0.1."""
    cluster = uid("cl")
    created = aws("redshift").create_cluster(ClusterIdentifier=cluster, NodeType="dc2.large", MasterUsername=USER,
                                             MasterUserPassword=PASSWORD, Port=postgres.port)["Cluster"]
    assert created["Endpoint"]["Port"] == postgres.port
    ml = aws("machinelearning")
    got = redshift_source(ml, bucket, "SELECT label FROM digits WHERE id < 10 ORDER BY id", cluster=cluster)
    assert got["Status"] == "COMPLETED", got.get("Message")
    assert [r["label"] for r in records_of(emulator, got["DataSourceId"])] == [str(i) for i in range(10)]
    aws("redshift").delete_cluster(ClusterIdentifier=cluster, SkipFinalClusterSnapshot=True)
    gone = redshift_source(ml, bucket, "SELECT 1", cluster=cluster)
    assert gone["Status"] == "FAILED" and gone["Message"].startswith(f"Cluster {cluster} not found.")


def records_of(emulator: RunningEmulator, ds_id: str) -> list[dict]:
    return records(emulator, ds_id)


def rds_source(ml: Any, bucket: str, instance: str, query: str, password: str = PASSWORD, **extra: Any) -> dict:
    ds_id = uid("rds")
    ml.create_data_source_from_rds(
        DataSourceId=ds_id, RoleARN=ROLE, ComputeStatistics=True,
        RDSData={"DatabaseInformation": {"InstanceIdentifier": instance, "DatabaseName": DATABASE},
                 "SelectSqlQuery": query, "DatabaseCredentials": {"Username": USER, "Password": password},
                 "S3StagingLocation": f"s3://{bucket}/rds-staging", "ResourceRole": "DataPipelineDefaultResourceRole",
                 "ServiceRole": "DataPipelineDefaultRole", "SubnetId": "subnet-1", "SecurityGroupIds": ["sg-1"],
                 **extra})
    return ml.get_data_source(DataSourceId=ds_id, Verbose=True)


def test_rds_mysql_instance_through_the_emulator_rds_api(emulator, aws, bucket, mariadb) -> None:
    rds = aws("rds")
    instance = uid("db")
    rds.create_db_instance(DBInstanceIdentifier=instance, DBInstanceClass="db.t3.micro", Engine="mysql",
                           MasterUsername=USER, MasterUserPassword=PASSWORD, Port=mariadb.port, AllocatedStorage=20)
    ml = aws("machinelearning")
    query = "SELECT region, amount, returned FROM sales ORDER BY id"
    got = rds_source(ml, bucket, instance, query)
    assert got["Status"] == "COMPLETED", got.get("Message")
    assert got["RDSMetadata"] == {"Database": {"InstanceIdentifier": instance, "DatabaseName": DATABASE},
                                  "DatabaseUserName": USER, "SelectSqlQuery": query,
                                  "ResourceRole": "DataPipelineDefaultResourceRole",
                                  "ServiceRole": "DataPipelineDefaultRole"}
    assert got["DataLocationS3"] == f"s3://{bucket}/rds-staging/{got['DataSourceId']}/"
    types = {a["attributeName"]: a["attributeType"] for a in json.loads(got["DataSourceSchema"])["attributes"]}
    assert types == {"region": "CATEGORICAL", "amount": "NUMERIC", "returned": "NUMERIC"}
    rows = records(emulator, got["DataSourceId"])
    assert len(rows) == 60 and rows[3] == {"region": "north", "amount": "13.75", "returned": "0"}
    denied = rds_source(ml, bucket, instance, query, password="wrong-password")
    assert denied["Status"] == "FAILED" and f"Access denied for user '{USER}'" in denied["Message"]
    for statement in ("DELETE FROM sales", "/* tidy */ TRUNCATE sales"):  # the query runs read-only
        refused = rds_source(ml, bucket, instance, statement)
        assert refused["Status"] == "FAILED"
        assert refused["Message"] == "Cannot execute statement in a READ ONLY transaction (error 1792)"
    assert len(records(emulator, rds_source(ml, bucket, instance, "(SELECT id FROM sales)")["DataSourceId"])) == 60
    missing = rds_source(ml, bucket, instance, "SELECT * FROM no_such_table")
    assert missing["Status"] == "FAILED" and "no_such_table' doesn't exist" in missing["Message"]
    unknown = rds_source(ml, bucket, "no-such-instance", query)
    assert unknown["Status"] == "FAILED" and unknown["Message"].startswith("DBInstance no-such-instance not found.")


# ---------------------------------------------------------------- configuration and the reader, without HTTP
def test_database_option_environment_and_file(tmp_path) -> None:
    from emulator.__main__ import parse_args

    listing = tmp_path / "databases.txt"
    listing.write_text("# RDS and Redshift\nsales-db = mysql://ml@127.0.0.1:3306  # MariaDB\n"
                       "dw=postgresql://ml@127.0.0.1:5432/dev\n")
    config = parse_args(["--database", "a=postgresql://u@h:1", "--database", str(listing)])
    assert config.databases == {"a": "postgresql://u@h:1", "sales-db": "mysql://ml@127.0.0.1:3306",
                                "dw": "postgresql://ml@127.0.0.1:5432/dev"}
    env = Config.from_env({"EMULATOR_DATABASES": "x=postgresql://p@q:5 y=mysql://c@d"})
    assert env.databases == {"x": "postgresql://p@q:5", "y": "mysql://c@d"}
    with pytest.raises(SystemExit):
        parse_args(["--database", "not-a-mapping"])
    with pytest.raises(SystemExit):
        parse_args(["--database", "a=127.0.0.1:3306"])


def test_identifiers_resolve_through_mapping_then_emulator_endpoints(emulator, aws) -> None:
    from emulator.services.machinelearning.database_sources import DatabaseQuery, resolve_url

    def query(service: str, identifier: str) -> DatabaseQuery:
        return DatabaseQuery(service, identifier, "dev", "u", "password1", "SELECT 1")

    assert resolve_url({"c1": "postgresql://x@h:1"}, ACCOUNT, REGION, query("redshift", "c1")) == "postgresql://x@h:1"
    instance = uid("pg")
    endpoint = aws("rds").create_db_instance(DBInstanceIdentifier=instance, DBInstanceClass="db.t3.micro",
                                             Engine="postgres", MasterUsername="u", MasterUserPassword="password1",
                                             AllocatedStorage=20)["DBInstance"]["Endpoint"]
    address, port = endpoint["Address"], endpoint["Port"]
    assert resolve_url({}, ACCOUNT, REGION, query("rds", instance)) == f"postgresql://127.0.0.1:{port}"
    mapped = {f"{address}:{port}": "postgresql://a@10.0.0.5:6543"}
    assert resolve_url(mapped, ACCOUNT, REGION, query("rds", instance)) == "postgresql://a@10.0.0.5:6543"
    from emulator.engines.amazonml.errors import DataProcessingError
    oracle = uid("ora")
    aws("rds").create_db_instance(DBInstanceIdentifier=oracle, DBInstanceClass="db.t3.micro", Engine="oracle-ee",
                                  MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
    with pytest.raises(DataProcessingError, match="runs oracle-ee; Amazon ML reads MySQL"):
        resolve_url({}, ACCOUNT, REGION, query("rds", oracle))
    with pytest.raises(DataProcessingError, match=f"^DBInstance {instance} not found"):
        resolve_url({}, "210987654321", REGION, query("rds", instance))  # another account's instance
    with pytest.raises(DataProcessingError, match=f"^Cluster {instance} not found"):
        resolve_url({}, ACCOUNT, REGION, query("redshift", instance))


def test_rows_stream_through_a_server_side_cursor_in_batches(postgres) -> None:
    from emulator.databases import database_url, query_rows

    url = database_url(postgres.url, USER, PASSWORD, DATABASE)
    observer = postgres.connect()
    sizes, seen_by_server = [], []
    with query_rows(url, "SELECT id, label FROM digits ORDER BY id", batch_rows=500) as result:
        assert result.columns == ["id", "label"]
        for batch in result.batches:
            sizes.append(len(batch))
            seen_by_server.append(observer.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (DATABASE,)).fetchall())
        assert result.kinds == ["number", "number"]
    observer.close()
    assert sizes == [500, 500, 500, 297]
    activity = " ".join(str(row) for rows in seen_by_server for row in rows)
    print(activity)
    # the rows come batch by batch from a server-side cursor, not in one result set
    assert activity.count("FETCH FORWARD 500 FROM") >= 3, activity


def test_missing_driver_names_the_extra(monkeypatch) -> None:
    import sys

    from emulator.databases import DatabaseError, database_url, query_rows

    url = database_url("postgresql://u@127.0.0.1:1", "u", "pw", "db")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DatabaseError, match=r"optional extra 'databases'.*aws-ml-emulator\[databases\]"):
        with query_rows(url, "SELECT 1"):
            pass
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(DatabaseError, match=r"optional extra 'databases'"):
        database_url("mysql://u@h:1")


def test_large_results_stage_as_several_parts_and_split_disjointly(db_emulator, ml, db_bucket, monkeypatch) -> None:
    from emulator.services.machinelearning import database_sources

    monkeypatch.setattr(database_sources, "PART_BYTES", 60_000)  # the emulator runs in this process
    monkeypatch.setattr(database_sources, "BATCH_ROWS", 200)  # parts end at batch boundaries
    query = f"SELECT {', '.join(PIXELS)}, label FROM digits ORDER BY id"
    train = redshift_source(ml, db_bucket, query, schema=DIGITS_SCHEMA, rearrangement=split(False))
    test = redshift_source(ml, db_bucket, query, schema=DIGITS_SCHEMA, rearrangement=split(True))
    assert train["Status"] == test["Status"] == "COMPLETED"
    s3 = db_emulator.client("s3")
    listed = s3.list_objects_v2(Bucket=db_bucket, Prefix=f"staging/{train['DataSourceId']}/")["Contents"]
    keys = [o["Key"].rsplit("/", 1)[1] for o in listed]
    assert keys == [f"{i:04d}_part_00" for i in range(len(keys))] and len(keys) >= 3
    assert train["NumberOfFiles"] == len(keys) and train["DataSizeInBytes"] == sum(o["Size"] for o in listed)
    parts = b"".join(s3.get_object(Bucket=db_bucket, Key=o["Key"])["Body"].read() for o in listed)
    assert parts == staged_csv(_digits_rows())
    # rows are identified by content + position: the split and its complement partition the table
    train_rows, test_rows = ([tuple(r[p] for p in PIXELS + ["label"]) for r in records(db_emulator, ds["DataSourceId"])]
                             for ds in (train, test))
    everything = [tuple(str(v) for v in row[1:]) for row in _digits_rows()]
    assert sorted(train_rows + test_rows) == sorted(everything)
    assert 0.6 < len(train_rows) / len(everything) < 0.8
