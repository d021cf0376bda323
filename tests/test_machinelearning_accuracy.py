"""Amazon ML through the API vs plain scikit-learn on the same split (real data sets).

The 70/30 split is done once here and uploaded as two objects, so the emulator
(default recipe, default SGD parameters) and scikit-learn see the same rows. Tolerances
are the README's, two-sided: AUC and macro F1 within 0.02, RMSE within 2 %.
"""

from __future__ import annotations

import io
import json
import math
import uuid

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def run_through_api(aws, bucket: str, X_train, X_test, y_train, y_test, target_type: str, model_type: str,
                    y_format=str) -> dict:
    s3, ml = aws("s3"), aws("machinelearning")
    names = [f"f{i}" for i in range(X_train.shape[1])]
    key = uuid.uuid4().hex[:8]
    for part, X, y in (("train", X_train, y_train), ("eval", X_test, y_test)):
        frame = pd.DataFrame(X, columns=names)
        frame["target"] = [y_format(v) for v in y]
        s3.put_object(Bucket=bucket, Key=f"{key}/{part}.csv", Body=_csv(frame))
    schema = json.dumps({
        "version": "1.0", "targetAttributeName": "target", "dataFormat": "CSV", "dataFileContainsHeader": True,
        "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in names]
        + [{"attributeName": "target", "attributeType": target_type}]})
    ids = {}
    for part in ("train", "eval"):
        ids[part] = f"acc-{key}-{part}"
        ml.create_data_source_from_s3(DataSourceId=ids[part], ComputeStatistics=part == "train",
                                      DataSpec={"DataLocationS3": f"s3://{bucket}/{key}/{part}.csv",
                                                "DataSchema": schema})
    ml.create_ml_model(MLModelId=f"acc-{key}-model", MLModelType=model_type, TrainingDataSourceId=ids["train"])
    ml.create_evaluation(EvaluationId=f"acc-{key}-ev", MLModelId=f"acc-{key}-model",
                         EvaluationDataSourceId=ids["eval"])
    ml.get_waiter("evaluation_available").wait(FilterVariable="MLModelId", EQ=f"acc-{key}-model",
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 1})
    ev = ml.get_evaluation(EvaluationId=f"acc-{key}-ev")
    assert ev["Status"] == "COMPLETED", ev.get("Message")
    return ev["PerformanceMetrics"]["Properties"]


def _split(X, y, stratify=True):
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y if stratify else None)


def test_binary_breast_cancer_auc(aws, bucket) -> None:
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression(max_iter=5000).fit(scaler.transform(X_train), y_train)
    sk_auc = roc_auc_score(y_test, reference.predict_proba(scaler.transform(X_test))[:, 1])
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "BINARY", "BINARY", lambda v: str(int(v)))
    auc = float(props["BinaryAUC"])
    print(f"breast cancer AUC: emulator {auc:.4f} sklearn {sk_auc:.4f}")
    assert abs(auc - sk_auc) <= 0.02


def test_multiclass_wine_macro_f1(aws, bucket) -> None:
    X, y = datasets.load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression(max_iter=5000).fit(scaler.transform(X_train), y_train)
    sk_f1 = f1_score(y_test, reference.predict(scaler.transform(X_test)), average="macro")
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "CATEGORICAL", "MULTICLASS",
                            lambda v: f"class_{v}")
    f1 = float(props["MulticlassAvgFScore"])
    print(f"wine macro F1: emulator {f1:.4f} sklearn {sk_f1:.4f}")
    assert abs(f1 - sk_f1) <= 0.02


def test_regression_diabetes_rmse(aws, bucket) -> None:
    X, y = datasets.load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y, stratify=False)
    reference = LinearRegression().fit(X_train, y_train)
    sk_rmse = math.sqrt(mean_squared_error(y_test, reference.predict(X_test)))
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "NUMERIC", "REGRESSION",
                            lambda v: repr(float(v)))
    rmse = float(props["RegressionRMSE"])
    print(f"diabetes RMSE: emulator {rmse:.2f} sklearn {sk_rmse:.2f} (baseline {np.std(y_test):.2f})")
    assert abs(rmse / sk_rmse - 1) <= 0.02


def test_regression_2100_rows_with_quantile_bins(aws, bucket) -> None:
    """Large enough for the default recipe's quantile_bin (>= 500 rows per 10 bins)."""
    X, y = datasets.make_regression(n_samples=3000, n_features=10, n_informative=6, noise=10, random_state=0)
    X_train, X_test, y_train, y_test = _split(X, y, stratify=False)
    sk_rmse = math.sqrt(mean_squared_error(y_test, LinearRegression().fit(X_train, y_train).predict(X_test)))
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "NUMERIC", "REGRESSION",
                            lambda v: repr(float(v)))
    rmse = float(props["RegressionRMSE"])
    print(f"make_regression RMSE: emulator {rmse:.3f} sklearn {sk_rmse:.3f}")
    assert abs(rmse / sk_rmse - 1) <= 0.02


def test_binary_2100_rows_with_quantile_bins(aws, bucket) -> None:
    X, y = datasets.make_classification(n_samples=3000, n_features=10, n_informative=5, flip_y=0.05,
                                        random_state=1)
    X_train, X_test, y_train, y_test = _split(X, y)
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression(max_iter=5000).fit(scaler.transform(X_train), y_train)
    sk_auc = roc_auc_score(y_test, reference.predict_proba(scaler.transform(X_test))[:, 1])
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "BINARY", "BINARY", lambda v: str(int(v)))
    auc = float(props["BinaryAUC"])
    print(f"make_classification AUC: emulator {auc:.4f} sklearn {sk_auc:.4f}")
    assert abs(auc - sk_auc) <= 0.02


def test_binary_random_labels_score_chance(aws, bucket) -> None:
    """Random-label control through the API: AUC about 0.5."""
    X, y = datasets.make_classification(n_samples=2000, n_features=8, random_state=3)
    y = np.random.default_rng(3).permutation(y)
    X_train, X_test, y_train, y_test = _split(X, y)
    props = run_through_api(aws, bucket, X_train, X_test, y_train, y_test, "BINARY", "BINARY", lambda v: str(int(v)))
    assert abs(float(props["BinaryAUC"]) - 0.5) <= 0.07
