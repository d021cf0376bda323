"""After a --data-dir restart, every job type the restart cut off ends in its service's failed
(or, when it was being stopped, stopped) state with a reason; finished ones are untouched."""

from __future__ import annotations

from emulator.persistence.interrupted import RESTARTED
from emulator.services.glue.job_state import GlueJobState
from emulator.services.glue.ml_state import MLTransformState
from emulator.services.sagemaker.processing import ProcessingState
from emulator.services.sagemaker.state import SageMakerState


def test_sagemaker_tuning_transform_and_processing_jobs_end() -> None:
    state = SageMakerState()
    state.tuning_jobs.update(run={"HyperParameterTuningJobStatus": "InProgress"},
                             stop={"HyperParameterTuningJobStatus": "Stopping"},
                             done={"HyperParameterTuningJobStatus": "Completed"})
    state.transform_jobs.update(run={"TransformJobStatus": "InProgress"})
    state.after_restart("123456789012", "us-east-1")
    assert state.tuning_jobs["run"]["HyperParameterTuningJobStatus"] == "Failed"
    assert state.tuning_jobs["run"]["FailureReason"] == RESTARTED
    assert state.tuning_jobs["stop"]["HyperParameterTuningJobStatus"] == "Stopped"
    assert "FailureReason" not in state.tuning_jobs["stop"]
    assert state.tuning_jobs["done"] == {"HyperParameterTuningJobStatus": "Completed"}
    assert state.transform_jobs["run"]["TransformJobStatus"] == "Failed" and "TransformEndTime" in state.transform_jobs["run"]
    processing = ProcessingState()
    processing.jobs.update(run={"ProcessingJobStatus": "InProgress"})
    processing.after_restart("123456789012", "us-east-1")
    assert processing.jobs["run"]["ProcessingJobStatus"] == "Failed"
    assert processing.jobs["run"]["FailureReason"] == RESTARTED


def test_glue_job_runs_and_findmatches_task_runs_end() -> None:
    jobs = GlueJobState()
    jobs.runs["job"] = {"a": {"JobRunState": "RUNNING"}, "b": {"JobRunState": "STOPPING"},
                        "c": {"JobRunState": "SUCCEEDED"}}
    jobs.after_restart("123456789012", "us-east-1")
    assert jobs.runs["job"]["a"]["JobRunState"] == "FAILED" and jobs.runs["job"]["a"]["ErrorMessage"] == RESTARTED
    assert jobs.runs["job"]["b"]["JobRunState"] == "STOPPED"
    assert jobs.runs["job"]["c"] == {"JobRunState": "SUCCEEDED"}
    transforms = MLTransformState()
    transforms.task_runs["tfm"] = {"r": {"Status": "STARTING"}}
    transforms.after_restart("123456789012", "us-east-1")
    assert transforms.task_runs["tfm"]["r"]["Status"] == "FAILED"
    assert transforms.task_runs["tfm"]["r"]["ErrorString"] == RESTARTED
