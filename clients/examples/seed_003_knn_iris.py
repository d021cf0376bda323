"""Seed 003 as a script: SageMaker's built-in k-NN on iris, with the SageMaker Python SDK.

The notebook's code runs unmodified; only the environment points it at the emulator:

    aws-ml-emulator &                                  # or: docker compose up
    python clients/examples/seed_003_knn_iris.py       # sets AWS_ENDPOINT_URL etc. if unset

Notebook-only lines are adapted: ``%env`` cells become environment defaults,
``!curl`` becomes the shipped ``data/iris.csv``, ``display`` prints, and ``plot``
draws only when matplotlib is installed (``pip install ".[examples]"``). The bucket is
created when missing (the notebook assumes one exists). The notebook's ``./tmp`` files
go to a temporary directory, removed at the end, unless ``$SEED003_WORK_DIR`` names one.

The SDK's ``deploy()`` sleeps 30 s before its first DescribeEndpoint whatever the
endpoint's state; that is most of this script's run time (see the README).
"""

import os
import random
import shutil
import string
import sys
import tempfile

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(EXAMPLE_DIR)))

from clients import configure_environment  # noqa: E402

# %env cells of the notebook
os.environ.setdefault("S3_DATASET_BUCKET", "sagemaker-knn-iris-example")
os.environ.setdefault("S3_DATASET_TRAIN", "knn/input/iris_train.csv")
os.environ.setdefault("S3_DATASET_TEST", "knn/input/iris_test.csv")
os.environ.setdefault("S3_TRAIN_OUTPUT", "knn/output")
os.environ.setdefault("SAGEMAKER_ROLE", "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-Emulator")
if "SAGEMAKER_USER_CONFIG_OVERRIDE" not in os.environ:
    configure_environment(os.environ.get("AWS_ENDPOINT_URL"), region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))

# ---- the notebook's code from here on ------------------------------------------------
import boto3  # noqa: E402
import pandas as pd  # noqa: E402
import sagemaker  # noqa: E402
from sagemaker import image_uris  # noqa: E402
from sagemaker.deserializers import JSONDeserializer  # noqa: E402
from sagemaker.estimator import Estimator, Predictor  # noqa: E402
from sagemaker.inputs import TrainingInput  # noqa: E402
from sagemaker.serializers import CSVSerializer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


def display(frame) -> None:  # IPython.display.display outside a notebook
    print(frame.to_string())


# Define constants (the notebook's ./tmp is a temporary directory here: no files in the caller's cwd)
WORK_DIR = os.environ.get('SEED003_WORK_DIR') or tempfile.mkdtemp(prefix='seed003-')
CSV_PATH = os.path.join(WORK_DIR, 'iris.csv')
S3_DATASET_BUCKET = os.getenv('S3_DATASET_BUCKET')
S3_DATASET_TRAIN = os.getenv('S3_DATASET_TRAIN')
S3_DATASET_TEST = os.getenv('S3_DATASET_TEST')
S3_TRAIN_OUTPUT = os.getenv('S3_TRAIN_OUTPUT')
SAGEMAKER_ROLE = os.getenv('SAGEMAKER_ROLE')
ESTIMATOR_INSTANCE_COUNT = 1
ESTIMATOR_INSTANCE_TYPE = 'ml.m5.large'
PREDICTOR_INSTANCE_TYPE = 'ml.t2.medium'
PREDICTOR_ENDPOINT_NAME = f'sagemaker-knn-{PREDICTOR_INSTANCE_TYPE}'.replace('.', '-')

# Define variables
bucket = boto3.resource('s3').Bucket(S3_DATASET_BUCKET)
train_df = None
test_df = None
train_object_path = None
test_object_path = None
knn = None
predictor = None


def load_csv(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    # Move the last label column to the first
    # See https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-training.html#cdf-csv-format
    df = df[['Species', 'Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width']]
    # Convert target string to int
    df['Species'] = df['Species'].map({'setosa': 0, 'versicolor': 1, 'virginica': 2})
    return df


def plot(df: pd.DataFrame) -> None:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    pd.plotting.scatter_matrix(df, figsize=(15, 15), c=df['Species'])
    plt.show()


def upload_csv_to_s3(df: pd.DataFrame, object_path: str) -> str:
    filename = ''.join([random.choice(string.digits + string.ascii_lowercase) for i in range(10)])
    path = os.path.abspath(os.path.join(WORK_DIR, filename))
    df.to_csv(path, header=False, index=False)
    # Change content-type because the default is binary/octet-stream
    bucket.upload_file(path, object_path, ExtraArgs={'ContentType': 'text/csv'})
    return f's3://{bucket.name}/{object_path}'


def get_estimator(**hyperparams) -> Estimator:
    estimator = Estimator(
        image_uri=image_uris.retrieve('knn', boto3.Session().region_name),  # AWS provided container in ECR,
        role=SAGEMAKER_ROLE,
        instance_count=ESTIMATOR_INSTANCE_COUNT,
        instance_type=ESTIMATOR_INSTANCE_TYPE,
        input_mode='Pipe',
        output_path=f's3://{S3_DATASET_BUCKET}/{S3_TRAIN_OUTPUT}',
        sagemaker_session=sagemaker.Session(),
    )
    hyperparams.update({'predictor_type': 'classifier'})
    estimator.set_hyperparameters(**hyperparams)
    return estimator


def train(estimator: Estimator, train_object_path: str, test_object_path: str) -> None:
    # Specify content-type because the default is application/x-recordio-protobuf
    train_input = TrainingInput(train_object_path, content_type='text/csv', input_mode='Pipe')
    test_input = TrainingInput(test_object_path, content_type='text/csv', input_mode='Pipe')
    estimator.fit({'train': train_input, 'test': test_input})


def deploy(estimator: Estimator) -> Predictor:
    return estimator.deploy(
        initial_instance_count=1,
        instance_type=PREDICTOR_INSTANCE_TYPE,
        serializer=CSVSerializer(),
        deserializer=JSONDeserializer(),
        endpoint_name=PREDICTOR_ENDPOINT_NAME
    )


def validate(predictor: Predictor, test_df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, data in test_df.iterrows():
        predict = predictor.predict(
            pd.DataFrame([data.drop('Species')]).to_csv(header=False, index=False),
            initial_args={'ContentType': 'text/csv'}
        )
        predicted_label = predict['predictions'][0]['predicted_label']
        row = data.tolist()
        row.append(predicted_label)
        row.append(data['Species'] == predicted_label)
        rows.extend([row])
    return pd.DataFrame(rows, columns=('Species', 'Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width', 'Prediction', 'Result'))


def delete_model(predictor: Predictor) -> None:
    try:
        predictor.delete_model()
        print(f'Deleted a model')
    except BaseException as e:
        print(e)


def delete_endpoint(predictor: Predictor) -> None:
    try:
        predictor.delete_endpoint(delete_endpoint_config=True)
        print(f'Deleted {predictor.endpoint_name}')
    except BaseException as e:
        print(e)


def main() -> pd.DataFrame:
    """The notebook's ``if __name__ == '__main__'`` cells in order; returns the predictions table."""
    global train_df, test_df, train_object_path, test_object_path, knn, predictor
    os.makedirs(WORK_DIR, exist_ok=True)  # !mkdir -p tmp
    shutil.copy(os.path.join(EXAMPLE_DIR, 'data', 'iris.csv'), CSV_PATH)  # !curl -o tmp/iris.csv ...
    if bucket.creation_date is None:
        bucket.create()

    # Prepare data
    df = load_csv(CSV_PATH)
    display(df)
    plot(df)
    train_df, test_df = train_test_split(df, shuffle=True, random_state=0)  # type: (pd.DataFrame, pd.DataFrame)
    train_object_path = upload_csv_to_s3(train_df, S3_DATASET_TRAIN)
    test_object_path = upload_csv_to_s3(test_df, S3_DATASET_TEST)

    knn = get_estimator(k=1, sample_size=1000)
    train(knn, train_object_path, test_object_path)

    predictor = deploy(knn)
    predictions = validate(predictor, test_df)
    display(predictions)

    delete_model(predictor)
    delete_endpoint(predictor)
    return predictions


if __name__ == '__main__':
    try:
        main()
    finally:
        if not os.environ.get('SEED003_WORK_DIR'):
            shutil.rmtree(WORK_DIR, ignore_errors=True)
