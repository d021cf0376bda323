"""A SageMaker Processing script (SKLearnProcessor): splits iris.csv into label-first train/test CSVs.
It uses the container paths /opt/ml/processing/... as it would on AWS."""

import argparse
import os

import pandas as pd
from sklearn.model_selection import train_test_split

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()

    df = pd.read_csv(os.path.join("/opt/ml/processing/input", "iris.csv"))
    df = df[["Species", "Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]]
    df["Species"] = df["Species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
    train, test = train_test_split(df, test_size=args.test_size, shuffle=True, random_state=args.random_state)
    train.to_csv("/opt/ml/processing/train/train.csv", header=False, index=False)
    test.to_csv("/opt/ml/processing/test/test.csv", header=False, index=False)
    print(f"wrote {len(train)} training rows and {len(test)} test rows")
