"""Hosting script-mode models: models whose container environment names SAGEMAKER_PROGRAM and
SAGEMAKER_SUBMIT_DIRECTORY serve through the user's inference handlers in a worker process."""

from __future__ import annotations

import os
import shutil
import threading
import time
from typing import Any

from emulator.aws.logs import LogWriter
from emulator.aws.s3 import S3AccessError, S3Store
from emulator.scriptmode.archives import UnsafeArchive, extract_tar
from emulator.scriptmode.contract import confined_path
from emulator.scriptmode.frameworks import check_framework, framework_image
from emulator.scriptmode.requirements import install_requirements
from emulator.scriptmode.serving import ScriptPredictor, WorkerStartError
from emulator.services.sagemaker.script_mode import child_environment, work_root

LOG_GROUP = "/aws/sagemaker/Endpoints"


def container_of(model: dict[str, Any]) -> dict[str, Any]:
    return model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]


def is_script_model(model: dict[str, Any] | None) -> bool:
    """A framework image whose environment names the user's inference program."""
    if not model:
        return False
    container = container_of(model)
    return bool((container.get("Environment") or {}).get("SAGEMAKER_PROGRAM") and framework_image(container.get("Image")))


def load_script_predictor(s3: S3Store, logs: LogWriter, model: dict[str, Any], endpoint: str, variant: str,
                          data_dir: str | None) -> ScriptPredictor:
    """Download the model and source directory, start the worker; ValueError when it cannot serve."""
    container = container_of(model)
    environment = dict(container.get("Environment") or {})
    image = framework_image(container.get("Image"))
    assert image is not None
    stream = f"{variant}/i-{int(time.time() * 1000):x}"
    lock = threading.Lock()

    def log(line: str) -> None:
        with lock:
            logs.write(f"{LOG_GROUP}/{endpoint}", stream, [line])

    root = os.path.join(work_root(data_dir, "endpoints"), f"{endpoint}-{variant}-{time.time_ns()}")
    model_dir, code_dir = os.path.join(root, "model"), os.path.join(root, "code")
    os.makedirs(model_dir)
    try:
        if container.get("ModelDataUrl"):
            extract_tar(s3.get_uri(container["ModelDataUrl"]), model_dir)
        submit = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        if submit.startswith("s3://"):
            extract_tar(s3.get_uri(submit), code_dir)
        elif os.path.isdir(os.path.join(model_dir, "code")):  # repacked model: /opt/ml/model/code
            shutil.copytree(os.path.join(model_dir, "code"), code_dir)
        else:
            raise ValueError(f"SAGEMAKER_SUBMIT_DIRECTORY {submit!r} is neither an s3:// sourcedir.tar.gz nor "
                             f"the model's code/ directory")
    except (S3AccessError, UnsafeArchive) as exc:
        raise ValueError(f"Failed to download the model or its code: {exc}") from exc
    program = environment["SAGEMAKER_PROGRAM"]
    if not os.path.isfile(confined_path(code_dir, program)):  # ValueError too when it leaves code/
        raise ValueError(f"The inference program {program!r} is not in the source directory")
    program = os.path.relpath(confined_path(code_dir, program), code_dir)
    paths = [code_dir]
    requirements = os.path.join(code_dir, "requirements.txt")
    if os.path.isfile(requirements):
        installed = install_requirements(requirements, work_root(data_dir, "requirements"), log)
        if installed:
            paths.append(installed)
    warning = check_framework(image, None, paths[1:])
    if warning:
        log(warning)
    env = child_environment({**environment, "SM_MODEL_DIR": model_dir, "SAGEMAKER_BIND_TO_PORT": "8080"}, paths)
    try:
        predictor = ScriptPredictor(model_dir, code_dir, program, env, log)
    except WorkerStartError as exc:
        if not data_dir:
            shutil.rmtree(root, ignore_errors=True)
        raise ValueError(f"The model server failed to load the model: {exc}") from exc
    predictor.remove_on_close = None if data_dir else root
    return predictor
