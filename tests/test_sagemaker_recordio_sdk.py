"""Unmodified SageMaker SDK first-party estimators (``sagemaker.KNN``, ``sagemaker.LinearLearner``)
with their default data format, application/x-recordio-protobuf: ``record_set`` (a ManifestFile
channel of RecordIO-protobuf shards), fit, deploy, predict through RecordSerializer /
RecordDeserializer, delete_endpoint."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from clients.testing import RunningEmulator
from tests.sagemaker_helpers import ROLE


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return (X_train.astype("float32"), y_train.astype("float32"),
            X_test.astype("float32"), y_test.astype("float32"))


def _labels(records, key="predicted_label"):
    return np.array([r.label[key].float32_tensor.values[0] for r in records])


def test_knn_record_set_fit_deploy_predict(sagemaker_sdk: RunningEmulator, cancer) -> None:
    import sagemaker
    from sklearn.neighbors import KNeighborsClassifier

    X_train, y_train, X_test, y_test = cancer
    session = sagemaker.Session()
    knn = sagemaker.KNN(role=ROLE, instance_count=1, instance_type="ml.m5.large", k=5, sample_size=500,
                        predictor_type="classifier", sagemaker_session=session)
    records = knn.record_set(X_train, labels=y_train)
    assert records.s3_data_type == "ManifestFile"
    knn.fit(records)
    description = session.sagemaker_client.describe_training_job(TrainingJobName=knn.latest_training_job.name)
    assert description["TrainingJobStatus"] == "Completed"
    assert description["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] == "ManifestFile"

    predictor = knn.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        results = predictor.predict(X_test)
        assert len(results) == len(X_test)
        predicted = _labels(results)
        expected = KNeighborsClassifier(n_neighbors=5).fit(X_train, y_train).predict(X_test)
        assert np.array_equal(predicted, expected)
        assert np.mean(predicted == y_test) > 0.9
        # a single row (1-D array) is one record too
        single = predictor.predict(X_test[0])
        assert len(single) == 1 and single[0].label["predicted_label"].float32_tensor.values[0] == expected[0]
    finally:
        predictor.delete_endpoint()


def test_knn_regressor_verbose_recordio(sagemaker_sdk: RunningEmulator, cancer) -> None:
    import sagemaker
    from sagemaker.deserializers import RecordDeserializer
    from sklearn.neighbors import KNeighborsRegressor

    X_train, y_train, X_test, _ = cancer
    target = X_train[:, 0] * 2.0          # mean radius, doubled
    session = sagemaker.Session()
    knn = sagemaker.KNN(role=ROLE, instance_count=1, instance_type="ml.m5.large", k=3, sample_size=500,
                        predictor_type="regressor", sagemaker_session=session)
    knn.fit(knn.record_set(X_train[:, 1:], labels=target))
    predictor = knn.deploy(initial_instance_count=1, instance_type="ml.m5.large",
                           deserializer=RecordDeserializer(accept="application/x-recordio-protobuf; verbose=true"))
    try:
        results = predictor.predict(X_test[:20, 1:])
        expected = KNeighborsRegressor(n_neighbors=3).fit(X_train[:, 1:], target).predict(X_test[:20, 1:])
        np.testing.assert_allclose(_labels(results), expected, rtol=1e-5)
        first = results[0].label
        assert len(first["labels"].float32_tensor.values) == 3
        distances = list(first["distances"].float32_tensor.values)
        assert distances == sorted(distances)
    finally:
        predictor.delete_endpoint()


def test_linear_learner_record_set_fit_deploy_predict(sagemaker_sdk: RunningEmulator, cancer) -> None:
    import sagemaker
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, y_train, X_test, y_test = cancer
    session = sagemaker.Session()
    ll = sagemaker.LinearLearner(role=ROLE, instance_count=1, instance_type="ml.m5.large",
                                 predictor_type="binary_classifier", sagemaker_session=session)
    ll.fit(ll.record_set(X_train, labels=y_train))
    predictor = ll.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        results = predictor.predict(X_test)
        assert len(results) == len(X_test)
        predicted = _labels(results)
        scores = np.array([r.label["score"].float32_tensor.values[0] for r in results])
        assert set(np.unique(predicted)) <= {0.0, 1.0}
        assert np.all((scores >= 0) & (scores <= 1))
        # one calibrated threshold separates the predicted labels (AWS calibrates it for accuracy)
        assert scores[predicted == 1].min() > scores[predicted == 0].max()
        accuracy = np.mean(predicted == y_test)
        reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
        reference_accuracy = np.mean(reference.predict(X_test) == y_test)
        assert accuracy > 0.93
        assert abs(accuracy - reference_accuracy) <= 0.03
    finally:
        predictor.delete_endpoint()
