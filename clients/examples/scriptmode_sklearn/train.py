"""A SageMaker scikit-learn script-mode entry point: trains a RandomForest on the `train` channel
(label in the first column, no header) and reports accuracy on the `test` channel."""

import argparse
import glob
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def read_channel(path):
    files = sorted(glob.glob(os.path.join(path, "**", "*.csv"), recursive=True))
    return pd.concat([pd.read_csv(f, header=None) for f in files])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n_estimators", type=int, default=50)
    parser.add_argument("--random_state", type=int, default=0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--test", default=os.environ.get("SM_CHANNEL_TEST"))
    args = parser.parse_args()

    train = read_channel(args.train)
    model = RandomForestClassifier(n_estimators=args.n_estimators, random_state=args.random_state)
    model.fit(train.iloc[:, 1:].to_numpy(), train.iloc[:, 0].to_numpy())
    if args.test:
        test = read_channel(args.test)
        accuracy = float(np.mean(model.predict(test.iloc[:, 1:].to_numpy()) == test.iloc[:, 0].to_numpy()))
        print(f"test:accuracy={accuracy:.6f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))


def model_fn(model_dir):
    """Inference toolkit hook: load the model saved above."""
    return joblib.load(os.path.join(model_dir, "model.joblib"))
