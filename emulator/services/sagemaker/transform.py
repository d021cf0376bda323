"""Batch transform: every input object's records through the model, as InvokeEndpoint would run them.

The model is loaded with the endpoints' own loader (``hosting.load_model_predictor``)
and each request goes through the predictor's ``invoke`` exactly as
``sagemaker-runtime`` InvokeEndpoint does; the record plumbing (split, batch, filters,
join, assembly) is ``emulator.engines.batch_transform``. Outputs are written as
``<S3OutputPath>/<input key relative to the input prefix>.out``; the log goes to
``/aws/sagemaker/TransformJobs``.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import time
from typing import Any

from emulator.aws.s3 import S3AccessError, S3Store, split_s3_uri
from emulator.context import RequestContext
from emulator.engines import batch_transform as records
from emulator.engines import sagemaker as engine
from emulator.services.sagemaker.channels import ChannelReadError, read_channels
from emulator.services.sagemaker.errors import in_use, validation
from emulator.services.sagemaker.hosting import load_model_predictor
from emulator.services.sagemaker.listing import list_page
from emulator.services.sagemaker.state import SageMakerState

LOG_GROUP = "/aws/sagemaker/TransformJobs"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class TransformStopped(Exception):
    """StopTransformJob was called while the job ran."""


class TransformOperations:
    """CreateTransformJob, DescribeTransformJob, ListTransformJobs, StopTransformJob."""

    def create_transform_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        name = request["TransformJobName"]
        arn = ctx.arn("sagemaker", f"transform-job/{name.lower()}")
        transform_input = request["TransformInput"]
        source = transform_input["DataSource"].get("S3DataSource")
        if source is None:
            raise validation("TransformInput.DataSource.S3DataSource must be specified.")
        if transform_input.get("SplitType") == "TFRecord":
            raise validation("SplitType TFRecord is not supported by the emulator.")
        if request.get("BatchStrategy") == "MultiRecord" and transform_input.get("SplitType", "None") == "None":
            raise validation("BatchStrategy MultiRecord requires SplitType Line or RecordIO.")
        with state.lock:
            if name in state.transform_jobs:
                raise in_use(f"Job name must be unique within an AWS account and region, and a job with this name "
                             f"already exists ({state.transform_jobs[name]['TransformJobArn']})")
            model = state.models.get(request["ModelName"])
            if model is None:
                raise validation(f'Could not find model "{ctx.arn("sagemaker", "model/" + request["ModelName"].lower())}".')
            now = _now()
            job = {
                "TransformJobName": name, "TransformJobArn": arn, "TransformJobStatus": "InProgress",
                "ModelName": request["ModelName"], "MaxConcurrentTransforms": request.get("MaxConcurrentTransforms", 1),
                "ModelClientConfig": request.get("ModelClientConfig"),
                "MaxPayloadInMB": request.get("MaxPayloadInMB", 6),
                "BatchStrategy": request.get("BatchStrategy", "SingleRecord"),
                "Environment": request.get("Environment"),
                "TransformInput": {"CompressionType": "None", "SplitType": "None", **copy.deepcopy(transform_input)},
                "TransformOutput": {"AssembleWith": "None", **copy.deepcopy(request["TransformOutput"])},
                "DataCaptureConfig": request.get("DataCaptureConfig"),
                "TransformResources": request["TransformResources"],
                "CreationTime": now, "LastModifiedTime": now,
                "DataProcessing": {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None",
                                   **(request.get("DataProcessing") or {})},
                "ExperimentConfig": request.get("ExperimentConfig"),
            }
            state.transform_jobs[name] = job
            state.tags[arn] = {t["Key"]: t.get("Value", "") for t in request.get("Tags") or []}
            model = copy.deepcopy(model)
        run = TransformJobRun(ctx, state, name, model)
        future = self.emulator.jobs.submit(run.run)  # type: ignore[attr-defined]
        state.transform_futures[name] = future
        self.emulator.jobs.wait(future)  # type: ignore[attr-defined]
        return {"TransformJobArn": arn}

    def describe_transform_job(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            return copy.deepcopy(_find(state, request["TransformJobName"]))

    def list_transform_jobs(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        state = ctx.state(SageMakerState)
        with state.lock:
            jobs = [dict(j) for j in state.transform_jobs.values()]
        keys = ("TransformJobName", "TransformJobArn", "CreationTime", "TransformEndTime", "LastModifiedTime",
                "TransformJobStatus", "FailureReason")
        page, token = list_page(jobs, request, name_key="TransformJobName", status_key="TransformJobStatus",
                                summary=lambda j: {k: j.get(k) for k in keys})
        return {"TransformJobSummaries": page, "NextToken": token}

    def stop_transform_job(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        state = ctx.state(SageMakerState)
        with state.lock:
            job = _find(state, request["TransformJobName"])
            if job["TransformJobStatus"] == "InProgress":
                job.update(TransformJobStatus="Stopping", LastModifiedTime=_now())
            elif job["TransformJobStatus"] != "Stopping":
                raise validation(f"The request was rejected because the transform job is in status "
                                 f"{job['TransformJobStatus']}.")
        return None


def _find(state: SageMakerState, name: str) -> dict[str, Any]:
    job = state.transform_jobs.get(name)
    if job is None:
        raise validation(f"Could not find requested job with name {name}")
    return job


class TransformJobRun:
    """One transform job's background work."""

    def __init__(self, ctx: RequestContext, state: SageMakerState, name: str, model: dict[str, Any]) -> None:
        self.state, self.name, self.model = state, name, model
        self.s3: S3Store = ctx.s3()
        self.logs = ctx.logs()
        self.lines: list[str] = []
        self.stream = f"{name}/emulator-{int(time.time())}"

    @property
    def job(self) -> dict[str, Any]:
        return self.state.transform_jobs[self.name]

    def log(self, message: str) -> None:
        self.lines.append(f"{_now().strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}:[sagemaker logs]: {message}")

    def run(self) -> None:
        with self.state.lock:
            self.job["TransformStartTime"] = _now()
            job = copy.deepcopy(self.job)
        try:
            predictor = load_model_predictor(self.s3, self.model)
            self.log(f"MaxConcurrentTransforms={job['MaxConcurrentTransforms']}, MaxPayloadInMB={job['MaxPayloadInMB']}, "
                     f"BatchStrategy={job['BatchStrategy'].upper().replace('RECORD', '_RECORD')}")
            for key, data in self._inputs(job):
                self._check_stop()
                output = self._transform_object(job, predictor, key, data)
                self.s3.put_uri(self._output_uri(job, key), output)
            self._finish("Completed")
        except TransformStopped:
            self._finish("Stopped")
        except (records.TransformDataError, engine.ModelError) as exc:
            self._finish("Failed", f"ClientError: {exc}")
        except (engine.AlgorithmError, ChannelReadError, S3AccessError, ValueError) as exc:
            self._finish("Failed", f"ClientError: {exc}")
        except Exception as exc:  # an unexpected bug must still end the job
            self._finish("Failed", f"AlgorithmError: {type(exc).__name__}: {exc}")
        finally:
            if self.lines:
                self.logs.write(LOG_GROUP, self.stream, self.lines)

    def _check_stop(self) -> None:
        with self.state.lock:
            if self.job["TransformJobStatus"] == "Stopping":
                raise TransformStopped()

    def _inputs(self, job: dict[str, Any]) -> list[tuple[str, bytes]]:
        source = job["TransformInput"]["DataSource"]["S3DataSource"]
        channel = {"ChannelName": "transform", "DataSource": {"S3DataSource": {
            "S3DataType": source.get("S3DataType", "S3Prefix"), "S3Uri": source["S3Uri"]}}}
        objects = read_channels(self.s3, [channel])["transform"].objects
        if job["TransformInput"].get("CompressionType") == "Gzip":
            try:
                objects = [(key, gzip.decompress(data)) for key, data in objects]
            except (OSError, EOFError) as exc:
                raise records.TransformDataError(f"Unable to decompress the input as Gzip: {exc}") from exc
        return objects

    def _output_uri(self, job: dict[str, Any], key: str) -> str:
        source = job["TransformInput"]["DataSource"]["S3DataSource"]
        if key.startswith("s3://"):  # manifest entries are full URIs
            relative = key.rsplit("/", 1)[-1]
        else:
            _, prefix = split_s3_uri(source["S3Uri"])
            base = prefix if prefix.endswith("/") else prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
            relative = key[len(base):] if key.startswith(base) else key.rsplit("/", 1)[-1]
        return f"{job['TransformOutput']['S3OutputPath'].rstrip('/')}/{relative}.out"

    def _transform_object(self, job: dict[str, Any], predictor: Any, key: str, data: bytes) -> bytes:
        transform_input, output = job["TransformInput"], job["TransformOutput"]
        processing = job["DataProcessing"]
        content_type, accept = transform_input.get("ContentType"), output.get("Accept")
        split = transform_input.get("SplitType", "None")
        items: list[bytes] = []
        sources = records.split_records(data, split)
        for batch in records.batches(sources, job["BatchStrategy"], job["MaxPayloadInMB"], split):
            self._check_stop()
            filtered = [records.filter_input(r, content_type, processing.get("InputFilter")) for r in batch]
            try:
                body, answer_type = predictor.invoke(records.join_payload(filtered, split), content_type, accept)
            except engine.ModelError as exc:
                self.log(f"{key}: Bad HTTP status received from algorithm: {exc.status_code}")
                self.log(f"{key}: Message: {exc.message}")
                raise engine.ModelError(f"Bad HTTP status received from algorithm: {exc.status_code}. "
                                        f"{key}: {exc.message}", exc.status_code) from exc
            join = processing.get("JoinSource") == "Input"
            out_filter = processing.get("OutputFilter")
            per_record = join or out_filter not in (None, "", "$") or output.get("AssembleWith") == "Line"
            if not per_record:
                items.append(body)
                continue
            answers = records.split_response(body, answer_type, len(batch))
            for source, answer in zip(batch, answers):
                if join:
                    kind, value = records.join_output(source, content_type, answer, answer_type)
                elif out_filter not in (None, "", "$"):
                    kind, value = records.parse_record(answer, answer_type)
                else:
                    items.append(answer)
                    continue
                items.append(records.render(kind, records.apply_filter(out_filter, value)))
        return records.assemble(items, output.get("AssembleWith"))

    def _finish(self, status: str, reason: str | None = None) -> None:
        now = _now()
        with self.state.lock:
            job = self.job
            job.update(TransformJobStatus=status, TransformEndTime=now, LastModifiedTime=now)
            if reason:
                job["FailureReason"] = reason[:1024]
