"""Seed 002 as a script: BlazingText text classification tuned with SageMaker automatic model tuning.

The notebook's SageMaker half, run against the emulator with the SageMaker Python SDK
2.x (the talk used SDK 1.x names: ``get_image_uri`` -> ``image_uris.retrieve``,
``s3_input`` -> ``TrainingInput``, ``train_instance_*`` -> ``instance_*``):

    aws-ml-emulator &                                         # or: docker compose up
    python clients/examples/seed_002_blazingtext_tuner.py     # sets AWS_ENDPOINT_URL etc. if unset

Adapted, because they happen outside the notebook: the Glue jobs that balance,
tokenise and split the Amazon reviews become :mod:`review_corpus` (a generated
corpus of the same shape, small so that the ten jobs take seconds); ``nltk``'s
tokenizer becomes a regular expression. ``sagemaker.get_execution_role()`` is called
unmodified: it reads the notebook metadata file, which this preamble writes when it
is missing (see ``clients/notebook_metadata.py``).
"""

import json
import os
import re
import sys

EXAMPLE_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(EXAMPLE_DIR)))

from clients import configure_environment  # noqa: E402
from clients.examples.review_corpus import splits  # noqa: E402
from clients.notebook_metadata import write_notebook_metadata  # noqa: E402

if "SAGEMAKER_USER_CONFIG_OVERRIDE" not in os.environ:
    configure_environment(os.environ.get("AWS_ENDPOINT_URL"), region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
try:
    print(f"sagemaker.get_execution_role() will read {write_notebook_metadata()}")
except OSError as exc:  # not root: get_execution_role() then needs AWS's STS, as outside a notebook
    print(f"Could not write the notebook metadata file ({exc}); run `sudo python -m clients --notebook-metadata`")

BUCKET = os.environ.get("SEED002_BUCKET", "sagemaker-blazingtext-reviews")
EPOCHS = 20  # the corpus is small: more passes than the talk's production-sized data needs

# ---- the notebook's code from here on ------------------------------------------------
import boto3  # noqa: E402
import sagemaker  # noqa: E402
from sagemaker import image_uris  # noqa: E402
from sagemaker.inputs import TrainingInput  # noqa: E402
from sagemaker.tuner import CategoricalParameter, ContinuousParameter, HyperparameterTuner, IntegerParameter  # noqa: E402


def word_tokenize(sentence: str) -> list:  # nltk.word_tokenize, close enough for these sentences
    return re.findall(r"\w+|[^\w\s]", sentence)


def upload_corpus(bucket: str, prefix: str) -> None:
    """What the Glue preparation job wrote: one object per split."""
    s3 = boto3.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    for name, lines in splits().items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}/{name}.txt", Body=("\n".join(lines) + "\n").encode())


def main() -> dict:
    """The notebook's cells in order; returns what a reader would look at."""
    sess = sagemaker.Session()
    role = sagemaker.get_execution_role()
    bucket = BUCKET
    prefix = "blazingtext/reviews"
    upload_corpus(bucket, prefix)

    train_channel = prefix + "/train"
    validation_channel = prefix + "/validation"
    s3_train_data = "s3://{}/{}".format(bucket, train_channel)
    s3_validation_data = "s3://{}/{}".format(bucket, validation_channel)
    train_data = TrainingInput(s3_train_data, distribution="FullyReplicated", content_type="text/plain",
                               s3_data_type="S3Prefix")
    validation_data = TrainingInput(s3_validation_data, distribution="FullyReplicated", content_type="text/plain",
                                    s3_data_type="S3Prefix")
    data_channels = {"train": train_data, "validation": validation_data}
    s3_output_location = "s3://{}/{}/output".format(bucket, prefix)

    region_name = boto3.Session().region_name
    container = image_uris.retrieve("blazingtext", region_name, "latest")
    print("Using SageMaker BlazingText container: {} ({})".format(container, region_name))

    bt_model = sagemaker.estimator.Estimator(
        container, role, instance_count=1, instance_type="ml.c5.4xlarge", volume_size=30, max_run=360000,
        input_mode="File", output_path=s3_output_location, sagemaker_session=sess)
    bt_model.set_hyperparameters(mode="supervised", epochs=EPOCHS, min_count=2)

    hyperparameter_ranges = {
        "learning_rate": ContinuousParameter(0.01, 0.08),
        "vector_dim": IntegerParameter(100, 200),
        "word_ngrams": CategoricalParameter([1, 2, 3]),
    }
    objective_metric_name = "validation:accuracy"
    tuner = HyperparameterTuner(bt_model, objective_metric_name, hyperparameter_ranges,
                                objective_type="Maximize", max_jobs=10, max_parallel_jobs=2)
    tuner.fit(inputs=data_channels, logs=True)
    tuner.wait()

    best = tuner.best_training_job()
    print("Best training job:", best)
    results = tuner.analytics().dataframe()
    print(results.sort_values("FinalObjectiveValue", ascending=False).to_string())

    text_classifier = tuner.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge",
                                   endpoint_name="blazingtext-reviews")
    sentences = ["Disappointed, stopped working due to water after only two weeks.",
                 "Ten-year-old loved it.",
                 "The metal is very cheap and bendable, but it works fine."]
    tokenized_sentences = [" ".join(word_tokenize(sent.lower())) for sent in sentences]

    payload = {"instances": tokenized_sentences}
    response = text_classifier.predict(json.dumps(payload))
    predictions = json.loads(response)
    print(json.dumps(predictions, indent=2))

    payload = {"instances": tokenized_sentences, "configuration": {"k": 2}}
    response = text_classifier.predict(json.dumps(payload))
    predictions_k2 = json.loads(response)
    print(json.dumps(predictions_k2, indent=2))

    text_classifier.delete_endpoint()
    return {"tuner": tuner, "best": best, "results": results, "predictions": predictions,
            "predictions_k2": predictions_k2, "role": role}


if __name__ == "__main__":
    main()
