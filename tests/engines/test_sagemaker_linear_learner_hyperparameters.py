"""Every Linear Learner hyperparameter of AWS's documentation changes the result (or is
refused): each test trains twice and shows the effect, or checks the AWS error."""
import re

import numpy as np
import pytest
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import fbeta_score, precision_score, recall_score
from sklearn.preprocessing import StandardScaler

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel
from emulator.engines.sagemaker.linear_learner import LinearModel


def csv(y, X):
    return "\n".join(",".join(repr(float(v)) for v in [a, *row]) for a, row in zip(y, X)).encode()


def binary_data(n=800, features=10, informative=4, seed=0, weights=None):
    X, y = datasets.make_classification(n_samples=n, n_features=features, n_informative=informative,
                                        n_redundant=0, n_clusters_per_class=1, flip_y=0.05, weights=weights,
                                        random_state=seed)
    return X[: n * 3 // 4], y[: n * 3 // 4], X[n * 3 // 4:], y[n * 3 // 4:]


def regression_data(n=800, seed=0, outliers=False):
    X, y = datasets.make_regression(n_samples=n, n_features=8, n_informative=5, noise=10, random_state=seed)
    if outliers:
        y = y.copy()
        y[np.random.default_rng(seed).choice(n * 3 // 4, n // 10, replace=False)] += 2000
    return X[: n * 3 // 4], y[: n * 3 // 4], X[n * 3 // 4:], y[n * 3 // 4:]


def run(hp, Xtr, ytr, Xv=None, yv=None, validation=True):
    """Train; the held-out rows go to the test channel and (unless ``validation=False``,
    for accuracy checks where they must stay unseen) to the validation channel too."""
    channels = {"train": Channel("train", "text/csv", [("a", csv(ytr, Xtr))])}
    if Xv is not None:
        channels["test"] = Channel("test", "text/csv", [("t", csv(yv, Xv))])
        if validation:
            channels["validation"] = Channel("validation", "text/csv", [("v", csv(yv, Xv))])
    result = sm.train("linear-learner", hp, channels)
    return result, LinearModel.from_files(result.model_files), dict(result.metrics)


BIN = {"predictor_type": "binary_classifier", "mini_batch_size": "50"}
REG = {"predictor_type": "regressor", "mini_batch_size": "50"}
ONE = {"num_models": "1", "learning_rate": "0.05", "wd": "0", "l1": "0"}


# ------------------------------------------------------------------ accuracy
@pytest.fixture(scope="module")
def binary_set():
    return binary_data()


def test_binary_accuracy_and_auc_match_sklearn(binary_set):
    Xtr, ytr, Xte, yte = binary_set
    sc = StandardScaler().fit(Xtr)
    ref = LogisticRegression(max_iter=5000).fit(sc.transform(Xtr), ytr)
    ref_acc = ref.score(sc.transform(Xte), yte)
    res, model, m = run(BIN, Xtr, ytr, Xte, yte, validation=False)
    print(m["test:binary_classification_accuracy"], ref_acc)
    assert abs(m["test:binary_classification_accuracy"] - ref_acc) <= 0.03
    # the final metrics are those of the stored model on the test rows
    pred = model.predicted_labels(model.scores(Xte))
    assert m["test:binary_classification_accuracy"] == pytest.approx(np.mean(pred == yte))
    assert m["test:precision"] == pytest.approx(precision_score(yte, pred))
    assert m["test:recall"] == pytest.approx(recall_score(yte, pred))


def test_regression_rmse_matches_least_squares():
    Xtr, ytr, Xte, yte = regression_data()
    ref = float(np.sqrt(np.mean((LinearRegression().fit(Xtr, ytr).predict(Xte) - yte) ** 2)))
    _, model, m = run(REG, Xtr, ytr, Xte, yte, validation=False)
    print(m["test:rmse"], ref)
    assert abs(m["test:rmse"] / ref - 1) <= 0.05
    assert m["test:rmse"] == pytest.approx(float(np.sqrt(np.mean((model.scores(Xte) - yte) ** 2))))


def test_multiclass_accuracy_matches_sklearn():
    X, y = datasets.make_classification(n_samples=900, n_features=8, n_informative=5, n_classes=3,
                                        random_state=2)
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[600:], y[600:]
    sc = StandardScaler().fit(Xtr)
    ref = LogisticRegression(max_iter=5000).fit(sc.transform(Xtr), ytr).score(sc.transform(Xte), yte)
    _, _, m = run({"predictor_type": "multiclass_classifier", "num_classes": "3", "mini_batch_size": "50"},
                  Xtr, ytr, Xte, yte, validation=False)
    assert abs(m["test:multiclass_accuracy"] - ref) <= 0.03


@pytest.mark.parametrize("ptype", ["binary_classifier", "multiclass_classifier", "regressor"])
def test_random_labels_score_chance(ptype):
    """Random-label control: accuracy about the majority share / 1/k, RMSE about the spread."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1200, 6))
    k = {"binary_classifier": 2, "multiclass_classifier": 3}.get(ptype)
    y = rng.integers(0, k, 1200).astype(float) if k else rng.normal(50, 10, 1200)
    hp = {"predictor_type": ptype, "mini_batch_size": "100"}
    if k == 3:
        hp["num_classes"] = "3"
    _, _, m = run(hp, X[:800], y[:800], X[800:], y[800:], validation=False)
    if ptype == "binary_classifier":
        assert abs(m["test:binary_classification_accuracy"] - 0.5) <= 0.08
    elif ptype == "multiclass_classifier":
        assert abs(m["test:multiclass_accuracy"] - 1 / 3) <= 0.08
    else:
        assert 0.97 <= m["test:rmse"] / float(np.std(y[800:])) <= 1.1


# ------------------------------------------------------------- the epoch loop
def test_epoch_lines_and_metric_definitions(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    res, _, m = run({**BIN, "epochs": "4", "early_stopping_patience": "10"}, Xtr, ytr, Xv, yv)
    train = [l for l in res.log_lines if ", train binary_classification_cross_entropy_objective" in l and "epoch=" in l]
    val = [l for l in res.log_lines if ", validation binary_classification_cross_entropy_objective" in l and "epoch=" in l]
    assert [re.search(r"epoch=(\d+)", l).group(1) for l in train] == ["0", "1", "2", "3"]
    assert len(val) == 4 and sum("#early_stopping_criteria_metric" in l for l in res.log_lines) == 4
    # every final metric is what the built-in MetricDefinitions extract from the log
    for definition in sm.metric_definitions("linear-learner"):
        values = [float(x.group(1)) for l in res.log_lines if (x := re.search(definition["Regex"], l))]
        if values:
            assert m[definition["Name"]] == values[-1]
    assert m["validation:objective_loss"] == float(val[-1].rsplit("=", 1)[1])
    assert not any("Progress: 100" in l for l in res.log_lines)


def test_epochs_learning_rate_and_mini_batch_size_change_the_model(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    _, default, m_default = run({**BIN, **ONE}, Xtr, ytr, Xv, yv)
    _, tiny, m_tiny = run({**BIN, **ONE, "learning_rate": "1e-5", "epochs": "1"}, Xtr, ytr, Xv, yv)
    _, big_batch, _ = run({**BIN, **ONE, "mini_batch_size": "600"}, Xtr, ytr, Xv, yv)
    assert np.abs(tiny.coef).max() < 0.1 < np.abs(default.coef).max()
    assert not np.allclose(default.coef, big_batch.coef)
    assert m_default["test:binary_classification_accuracy"] > m_tiny["test:binary_classification_accuracy"] + 0.05


def test_early_stopping_on_validation(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    res, _, _ = run({**BIN, "epochs": "30", "early_stopping_patience": "1", "early_stopping_tolerance": "0.5"},
                    Xtr, ytr, Xv, yv)
    assert any("Early stop condition met" in l for l in res.log_lines)
    assert sum("epoch=" in l and "validation" in l and "#quality_metric" in l for l in res.log_lines) == 2
    res, _, _ = run({**BIN, "epochs": "6", "early_stopping_patience": "7"}, Xtr, ytr, Xv, yv)
    assert not any("Early stop" in l for l in res.log_lines)


def test_optimizers_and_momentum(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    coefs = {}
    for opt, extra in [("sgd", {}), ("sgd", {"momentum": "0.9"}), ("adam", {}), ("adam", {"beta_1": "0.5"}),
                       ("adam", {"beta_2": "0.9"}), ("rmsprop", {})]:
        _, model, m = run({**BIN, **ONE, "optimizer": opt, **extra}, Xtr, ytr, Xv, yv)
        assert m["test:binary_classification_accuracy"] > 0.75
        coefs[opt + str(extra)] = model.coef
    values = list(coefs.values())
    assert all(not np.allclose(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def test_num_models_and_tuning_jobs(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    res, _, _ = run({**BIN, "num_models": "3"}, Xtr, ytr, Xv, yv)
    assert any("Training 3 model(s)" in l for l in res.log_lines)
    res, _, _ = run(BIN, Xtr, ytr, Xv, yv)
    assert any("Training 8 model(s)" in l for l in res.log_lines)
    res, _, _ = run({**BIN, "num_models": "5", "_tuning_objective_metric": "validation:objective_loss"},
                    Xtr, ytr, Xv, yv)
    assert any("Training 1 model(s)" in l for l in res.log_lines)


def test_l1_makes_exact_zeros_and_wd_shrinks():
    Xtr, ytr, Xv, yv = binary_data(n=800, features=20, informative=2, seed=3)
    _, plain, _ = run({**BIN, **ONE}, Xtr, ytr, Xv, yv)
    _, sparse, m = run({**BIN, **ONE, "l1": "0.02"}, Xtr, ytr, Xv, yv)
    _, shrunk, _ = run({**BIN, **ONE, "wd": "0.5"}, Xtr, ytr, Xv, yv)
    assert np.count_nonzero(plain.coef) == 20
    assert np.count_nonzero(sparse.coef) <= 6 and m["test:binary_classification_accuracy"] > 0.75
    assert np.linalg.norm(shrunk.coef) < 0.5 * np.linalg.norm(plain.coef)


def test_bias_hyperparameters(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    _, no_bias, _ = run({**BIN, **ONE, "use_bias": "false"}, Xtr, ytr, Xv, yv)
    assert np.all(no_bias.intercept == 0)
    y_shift = ytr.copy()
    y_shift[: len(ytr) // 3] = 1  # mostly positives: the bias matters
    _, base, _ = run({**BIN, **ONE, "epochs": "2"}, Xtr, y_shift)
    _, fast, _ = run({**BIN, **ONE, "epochs": "2", "bias_lr_mult": "10"}, Xtr, y_shift)
    _, decayed, _ = run({**BIN, **ONE, "epochs": "2", "wd": "0.5", "bias_wd_mult": "5"}, Xtr, y_shift)
    _, start, _ = run({**BIN, **ONE, "epochs": "1", "learning_rate": "1e-6", "init_bias": "3"}, Xtr, y_shift)
    assert abs(fast.intercept[0]) > abs(base.intercept[0]) + 0.1
    assert abs(decayed.intercept[0]) < abs(base.intercept[0])
    assert start.intercept[0] == pytest.approx(3, abs=1e-3)


def test_initialisation(binary_set):
    Xtr, ytr, _, _ = binary_set
    frozen = {**BIN, **ONE, "epochs": "1", "learning_rate": "1e-9"}
    _, uniform, _ = run({**frozen, "init_method": "uniform", "init_scale": "0.5"}, Xtr, ytr)
    _, normal, _ = run({**frozen, "init_method": "normal", "init_sigma": "0.001"}, Xtr, ytr)
    _, xavier, _ = run({**frozen, "init_method": "xavier"}, Xtr, ytr)
    assert 0.3 < np.abs(uniform.coef).max() <= 0.5 + 1e-6
    assert np.abs(normal.coef).max() < 0.01
    bound = np.sqrt(6 / (Xtr.shape[1] + 1))
    assert 0.5 * bound < np.abs(xavier.coef).max() <= bound + 1e-6


def test_lr_scheduler(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    base = {**BIN, **ONE, "optimizer": "sgd", "learning_rate": "0.5"}
    _, plain, _ = run(base, Xtr, ytr)
    _, decayed, _ = run({**base, "lr_scheduler_step": "1", "lr_scheduler_factor": "0.5"}, Xtr, ytr)
    _, floored, _ = run({**base, "lr_scheduler_step": "1", "lr_scheduler_factor": "0.5",
                         "lr_scheduler_minimum_lr": "0.2"}, Xtr, ytr)
    assert np.linalg.norm(decayed.coef) < 0.5 * np.linalg.norm(plain.coef)
    assert np.linalg.norm(decayed.coef) < np.linalg.norm(floored.coef)


def test_scaling_hyperparameters():
    Xtr, ytr, Xv, yv = regression_data()
    Xtr = Xtr * 10 + 5
    _, model, _ = run({**REG, **ONE}, Xtr, ytr)
    assert model.mean == pytest.approx(Xtr.mean(axis=0)) and model.std == pytest.approx(Xtr.std(axis=0))
    _, first, _ = run({**REG, **ONE, "num_point_for_scaler": "100"}, Xtr, ytr)
    assert first.mean == pytest.approx(Xtr[:100].mean(axis=0)) and first.std == pytest.approx(Xtr[:100].std(axis=0))
    _, raw, _ = run({**REG, **ONE, "normalize_data": "false"}, Xtr, ytr)
    assert np.all(raw.mean == 0) and np.all(raw.std == 1)
    _, scaled_only, _ = run({**REG, **ONE, "unbias_data": "false"}, Xtr, ytr)
    assert np.all(scaled_only.mean == 0) and scaled_only.std == pytest.approx(Xtr.std(axis=0))
    # label scaling: without it, 1 epoch at a small rate cannot reach labels of size ~100
    quick = {**REG, **ONE, "epochs": "1", "learning_rate": "0.01"}
    _, norm, m_norm = run(quick, Xtr, ytr, Xv * 10 + 5, yv)
    _, unnorm, m_unnorm = run({**quick, "normalize_label": "false"}, Xtr, ytr, Xv * 10 + 5, yv)
    _, uncentred, _ = run({**quick, "unbias_label": "false"}, Xtr, ytr, Xv * 10 + 5, yv)
    assert m_unnorm["test:rmse"] > m_norm["test:rmse"]
    assert not np.allclose(uncentred.coef, norm.coef)


@pytest.mark.parametrize("loss,extra", [
    ("absolute_loss", {}), ("huber_loss", {"huber_delta": "5"}),
    ("eps_insensitive_absolute_loss", {"loss_insensitivity": "5"}),
    ("eps_insensitive_squared_loss", {"loss_insensitivity": "5"})])
def test_robust_regression_losses_resist_outliers(loss, extra):
    Xtr, ytr, Xte, yte = regression_data(outliers=True)
    hp = {**REG, "num_models": "2", "learning_rate": "0.05", "wd": "0", "l1": "0", "epochs": "20"}
    _, squared, m_sq = run(hp, Xtr, ytr, Xte, yte)
    res, robust, m_robust = run({**hp, "loss": loss, **extra}, Xtr, ytr, Xte, yte)
    obj = {"absolute_loss": "absolute_loss_objective", "huber_loss": "huber_loss_objective"}.get(loss)
    print(loss, m_sq["test:rmse"], m_robust["test:rmse"])
    if loss != "eps_insensitive_squared_loss":
        assert m_robust["test:rmse"] < 0.8 * m_sq["test:rmse"]
    assert not np.allclose(robust.coef, squared.coef)
    assert any(f"test {obj or loss + '_objective'} <loss>=" in l for l in res.log_lines)


def test_quantile_loss():
    Xtr, ytr, Xte, yte = regression_data()
    hp = {**REG, "num_models": "1", "learning_rate": "0.05", "wd": "0", "l1": "0", "epochs": "30",
          "loss": "quantile_loss"}
    _, high, _ = run({**hp, "quantile": "0.9"}, Xtr, ytr)
    _, low, _ = run({**hp, "quantile": "0.1"}, Xtr, ytr)
    assert 0.8 <= np.mean(yte <= high.scores(Xte)) <= 0.98
    assert 0.02 <= np.mean(yte <= low.scores(Xte)) <= 0.2


def test_hinge_loss_and_margin(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    res, hinge, m = run({**BIN, **ONE, "loss": "hinge_loss"}, Xtr, ytr, Xv, yv)
    _, wide, m_wide = run({**BIN, **ONE, "loss": "hinge_loss", "margin": "5"}, Xtr, ytr, Xv, yv)
    assert m["test:binary_classification_accuracy"] > 0.75
    assert any("test binary_classification_hinge_loss_objective" in l for l in res.log_lines)
    assert hinge.scores(Xv).max() > 1  # margins, not probabilities
    # a wider margin keeps more rows inside it: a larger objective and other weights
    assert m_wide["test:objective_loss"] > m["test:objective_loss"] + 1
    assert not np.allclose(wide.coef, hinge.coef)


def test_positive_example_weight_mult():
    Xtr, ytr, Xv, yv = binary_data(seed=4, weights=[0.8])
    hp = {**BIN, **ONE, "binary_classifier_model_selection_criteria": "loss_function"}
    _, _, plain = run(hp, Xtr, ytr, Xv, yv)
    _, _, heavy = run({**hp, "positive_example_weight_mult": "8"}, Xtr, ytr, Xv, yv)
    _, _, balanced = run({**hp, "positive_example_weight_mult": "balanced"}, Xtr, ytr, Xv, yv)
    assert heavy["test:recall"] > plain["test:recall"] + 0.1
    assert balanced["test:recall"] > plain["test:recall"] + 0.05


def test_selection_criteria_calibrate_the_threshold(binary_set):
    Xtr, ytr, Xv, yv = binary_set
    _, model, m = run({**BIN, "binary_classifier_model_selection_criteria": "precision_at_target_recall",
                       "target_recall": "0.97"}, Xtr, ytr, Xv, yv)
    assert m["validation:recall"] >= 0.97
    _, model2, m2 = run({**BIN, "binary_classifier_model_selection_criteria": "recall_at_target_precision",
                         "target_precision": "0.97"}, Xtr, ytr, Xv, yv)
    assert m2["validation:precision"] >= 0.97 and model2.threshold > model.threshold
    _, model3, m3 = run({**BIN, "binary_classifier_model_selection_criteria": "f_beta", "f_beta": "3"},
                        Xtr, ytr, Xv, yv)
    pred = model3.predicted_labels(model3.scores(Xv))
    assert m3["validation:binary_f_beta"] == pytest.approx(fbeta_score(yv, pred, beta=3))
    _, model4, _ = run({**BIN, "binary_classifier_model_selection_criteria": "loss_function"}, Xtr, ytr, Xv, yv)
    assert model4.threshold == 0.5
    # num_calibration_samples: the threshold is fitted on the first rows only
    res, _, _ = run({**BIN, "num_calibration_samples": "50"}, Xtr, ytr, Xv, yv)
    assert any("on 50 rows of the validation channel" in l for l in res.log_lines)


def test_multiclass_top_k_and_balanced_weights():
    X, y = datasets.make_classification(n_samples=1200, n_features=8, n_informative=4, n_classes=4,
                                        n_clusters_per_class=1, weights=[0.7, 0.2, 0.05, 0.05], random_state=5)
    Xtr, ytr, Xte, yte = X[:800], y[:800], X[800:], y[800:]
    hp = {"predictor_type": "multiclass_classifier", "num_classes": "4", "mini_batch_size": "50", **ONE}
    res, _, m = run({**hp, "accuracy_top_k": "2"}, Xtr, ytr, Xte, yte)
    assert any("test multiclass_top_k_accuracy_2 " in l for l in res.log_lines)
    assert m["test:multiclass_top_k_accuracy"] >= m["test:multiclass_accuracy"]
    _, _, balanced = run({**hp, "balance_multiclass_weights": "true"}, Xtr, ytr, Xte, yte)
    assert balanced["test:macro_recall"] > m["test:macro_recall"] + 0.03


@pytest.mark.parametrize("hp,needle", [
    ({"predictor_type": "regressor", "loss": "hinge_loss"}, "loss 'hinge_loss' is not valid"),
    ({"predictor_type": "binary_classifier", "loss": "squared_loss"}, "not valid for predictor_type"),
    ({"predictor_type": "regressor", "positive_example_weight_mult": "2"}, "applies only to predictor_type"),
    ({"predictor_type": "binary_classifier", "num_classes": "3"}, "applies only to predictor_type"),
    ({"predictor_type": "binary_classifier", "normalize_label": "true"}, "applies only to predictor_type"),
    ({"predictor_type": "regressor", "binary_classifier_model_selection_criteria": "f_beta"}, "applies only"),
    ({"predictor_type": "binary_classifier", "optimizer": "adagrad"}, "is not one of"),
    ({"predictor_type": "binary_classifier", "nonsense": "1"}, "Additional properties are not allowed"),
])
def test_refused_like_aws(hp, needle, binary_set):
    Xtr, ytr, _, _ = binary_set
    with pytest.raises(AlgorithmError, match=needle) as err:
        run(hp, Xtr, ytr)
    assert str(err.value).startswith("Unable to initialize the algorithm. Failed to validate input hyperparameters.")


def test_inapplicable_setting_is_logged(binary_set):
    Xtr, ytr, _, _ = binary_set
    res, _, _ = run({**BIN, **ONE, "epochs": "1", "momentum": "0.5", "target_recall": "0.9"}, Xtr, ytr)
    assert any("'momentum' has no effect without optimizer=sgd" in l for l in res.log_lines)
    assert any("'target_recall' has no effect" in l for l in res.log_lines)
