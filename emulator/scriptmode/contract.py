"""The SageMaker Training Toolkit's contract: an /opt/ml-shaped job directory, SM_* variables, CLI args."""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any

HOST = "algo-1"
# Hyperparameters the SDK adds for the toolkit itself; they are not passed to the user's script.
RESERVED_PREFIX = "sagemaker_"


@dataclass(frozen=True)
class JobDirs:
    """``/opt/ml`` of one job, rooted at ``root``."""

    root: str

    @property
    def input(self) -> str: return os.path.join(self.root, "input")
    @property
    def config(self) -> str: return os.path.join(self.root, "input", "config")
    @property
    def data(self) -> str: return os.path.join(self.root, "input", "data")
    @property
    def model(self) -> str: return os.path.join(self.root, "model")
    @property
    def output(self) -> str: return os.path.join(self.root, "output")
    @property
    def output_data(self) -> str: return os.path.join(self.root, "output", "data")
    @property
    def intermediate(self) -> str: return os.path.join(self.root, "output", "intermediate")
    @property
    def code(self) -> str: return os.path.join(self.root, "code")

    def create(self) -> None:
        for path in (self.config, self.data, self.model, self.output_data, self.intermediate, self.code):
            os.makedirs(path, exist_ok=True)

    def channel(self, name: str) -> str:
        return os.path.join(self.data, name)


def decode_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """As the toolkit does: each value JSON-decoded when it parses, else kept as the string."""
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    return decoded


def user_hyperparameters(decoded: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decoded.items() if not k.startswith(RESERVED_PREFIX)}


def _arg_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def command_line_args(hyperparameters: dict[str, Any]) -> list[str]:
    """``{"n_estimators": 10}`` -> ``["--n_estimators", "10"]`` (sorted by name, as the toolkit does)."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        args += [f"--{key}", _arg_value(hyperparameters[key])]
    return args


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def write_training_config(dirs: JobDirs, hyperparameters: dict[str, str], input_config: list[dict[str, Any]],
                          instance_type: str) -> dict[str, Any]:
    """input/config/{hyperparameters,inputdataconfig,resourceconfig}.json; returns the resource config."""
    channels = {c["ChannelName"]: {"TrainingInputMode": c.get("InputMode") or "File",
                                   "S3DistributionType": (c.get("DataSource", {}).get("S3DataSource") or {})
                                   .get("S3DataDistributionType", "FullyReplicated"),
                                   "RecordWrapperType": c.get("RecordWrapperType", "None"),
                                   **({"ContentType": c["ContentType"]} if c.get("ContentType") else {})}
                for c in input_config}
    resource = {"current_host": HOST, "hosts": [HOST], "current_instance_type": instance_type,
                "current_group_name": "homogeneousCluster", "network_interface_name": "eth0",
                "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": instance_type,
                                     "hosts": [HOST]}]}
    for name, content in (("hyperparameters.json", hyperparameters), ("inputdataconfig.json", channels),
                          ("resourceconfig.json", resource)):
        with open(os.path.join(dirs.config, name), "w", encoding="utf-8") as f:
            json.dump(content, f)
    return resource


def training_environment(dirs: JobDirs, hyperparameters: dict[str, str], input_config: list[dict[str, Any]],
                         resource: dict[str, Any], job_name: str, module_dir: str | None,
                         entry_point: str) -> dict[str, str]:
    """The SM_* variables the toolkit exports to the user's script."""
    decoded = decode_hyperparameters(hyperparameters)
    hps = user_hyperparameters(decoded)
    channel_names = sorted(c["ChannelName"] for c in input_config)
    input_data_config = json.load(open(os.path.join(dirs.config, "inputdataconfig.json"), encoding="utf-8"))
    args = command_line_args(hps)
    env = {
        "SM_HOSTS": json.dumps([HOST]), "SM_CURRENT_HOST": HOST, "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_CURRENT_INSTANCE_TYPE": resource["current_instance_type"],
        "SM_HPS": json.dumps(hps), "SM_USER_ENTRY_POINT": entry_point, "SM_USER_ARGS": json.dumps(args),
        "SM_FRAMEWORK_PARAMS": json.dumps({k: v for k, v in decoded.items() if k.startswith(RESERVED_PREFIX)}),
        "SM_RESOURCE_CONFIG": json.dumps(resource), "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config),
        "SM_CHANNELS": json.dumps(channel_names), "SM_MODEL_DIR": dirs.model, "SM_INPUT_DIR": dirs.input,
        "SM_INPUT_CONFIG_DIR": dirs.config, "SM_OUTPUT_DIR": dirs.output, "SM_OUTPUT_DATA_DIR": dirs.output_data,
        "SM_OUTPUT_INTERMEDIATE_DIR": dirs.intermediate, "SM_MODULE_NAME": posixpath.splitext(entry_point)[0],
        "SM_MODULE_DIR": module_dir or "", "SM_LOG_LEVEL": str(decoded.get("sagemaker_container_log_level", 20)),
        "SM_NUM_CPUS": str(os.cpu_count() or 1), "SM_NUM_GPUS": "0", "SM_NUM_NEURONS": "0",
        "SM_IS_MASTER": "true", "SM_MASTER_ADDR": HOST, "SM_MASTER_PORT": "7777", "SM_JOB_NAME": job_name,
        "TRAINING_JOB_NAME": job_name,
    }
    for name in channel_names:
        env[f"SM_CHANNEL_{_env_name(name)}"] = dirs.channel(name)
    for key, value in hps.items():
        env[f"SM_HP_{_env_name(key)}"] = value if isinstance(value, str) else json.dumps(value)
    env["SM_TRAINING_ENV"] = json.dumps({
        "additional_framework_parameters": {}, "channel_input_dirs": {n: dirs.channel(n) for n in channel_names},
        "current_host": HOST, "hosts": [HOST], "hyperparameters": hps, "input_data_config": input_data_config,
        "input_dir": dirs.input, "job_name": job_name, "model_dir": dirs.model, "module_dir": module_dir or "",
        "module_name": env["SM_MODULE_NAME"], "num_cpus": int(env["SM_NUM_CPUS"]), "num_gpus": 0,
        "output_data_dir": dirs.output_data, "output_dir": dirs.output, "resource_config": resource,
        "user_entry_point": entry_point})
    return env


def confined_path(root: str, relative: str) -> str:
    """``root``/``relative`` normalised; ValueError when it would leave ``root``."""
    base = os.path.realpath(root)
    path = os.path.realpath(os.path.join(base, relative.lstrip("/")))
    if path != base and not path.startswith(base + os.sep):
        raise ValueError(f"path {relative!r} leaves the job directory")
    return path
