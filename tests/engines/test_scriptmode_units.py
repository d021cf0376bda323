"""Script mode's pure parts, without a server: images, archives, the toolkit contract, path mapping,
the inference toolkit's default handlers."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from emulator.scriptmode import contract
from emulator.scriptmode.archives import UnsafeArchive, extract_tar, pack_tar_gz
from emulator.scriptmode.frameworks import FrameworkMissing, check_framework, framework_image
from emulator.scriptmode.processing_paths import PathMapper
from emulator.services.sagemaker.script_mode import MetricParser, error_message, relative_key


@pytest.mark.parametrize("uri, name, version", [
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", "sklearn", "1.2"),
    ("141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost", "1.7"),
    ("763104351884.dkr.ecr.ap-southeast-2.amazonaws.com/pytorch-training:2.1-cpu-py310", "pytorch", "2.1"),
    ("763104351884.dkr.ecr.us-west-2.amazonaws.com/tensorflow-inference:2.13-cpu", "tensorflow", "2.13"),
    ("763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.0.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04",
     "huggingface", "4.28.1"),
])
def test_framework_images_are_recognised_in_any_region(uri: str, name: str, version: str) -> None:
    image = framework_image(uri)
    assert image is not None and image.framework.name == name and image.version == version


def test_other_images_are_not_framework_images() -> None:
    assert framework_image("382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1") is None
    assert framework_image("my-registry.example.com/team/custom:latest") is None
    assert framework_image(None) is None


def test_framework_checks_name_the_package_and_warn_on_major_mismatch() -> None:
    torch = framework_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310")
    try:
        import torch as _  # noqa: F401
    except ImportError:
        with pytest.raises(FrameworkMissing, match=r"pip install torch==2\.1\.\*"):
            check_framework(torch, None)
    sklearn = framework_image("x.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3")
    assert "0.23" in (check_framework(sklearn, None) or "")
    import sklearn as installed
    matching = framework_image(f"x/sagemaker-scikit-learn:{installed.__version__.split('.')[0]}.0-1-cpu-py3")
    assert check_framework(matching, None) is None


def _tar(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in members:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize("member", [_file("../escape.py"), _file("/abs/escape.py"), _file("a/../../escape.py"),
                                    _link("link", "/etc/passwd")])
def test_unsafe_archives_are_refused_and_write_nothing(tmp_path, member: tarfile.TarInfo) -> None:
    with pytest.raises(UnsafeArchive):
        extract_tar(_tar([_file("ok.py"), member]), str(tmp_path / "dest"))
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "dest" / "ok.py").exists()


def test_archives_round_trip(tmp_path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "m.txt").write_text("model")
    extract_tar(pack_tar_gz(str(tmp_path / "src")), str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "m.txt").read_text() == "model"


def test_hyperparameters_are_decoded_and_passed_as_arguments() -> None:
    decoded = contract.decode_hyperparameters({"sagemaker_program": '"train.py"', "n": "10", "lr": "0.1",
                                               "name": "plain text", "layers": "[1, 2]"})
    assert decoded == {"sagemaker_program": "train.py", "n": 10, "lr": 0.1, "name": "plain text", "layers": [1, 2]}
    assert contract.command_line_args(contract.user_hyperparameters(decoded)) == [
        "--layers", "[1, 2]", "--lr", "0.1", "--n", "10", "--name", "plain text"]


def test_confined_paths() -> None:
    assert contract.confined_path("/tmp/job", "a/b.csv") == "/tmp/job/a/b.csv"
    with pytest.raises(ValueError):
        contract.confined_path("/tmp/job", "../other")


def test_channel_keys_land_below_their_prefix() -> None:
    assert relative_key("data/train/a.csv", "data/train/") == "a.csv"
    assert relative_key("data/train/part/a.csv", "data/train") == "part/a.csv"
    assert relative_key("data/train.csv", "data/train.csv") == "train.csv"
    assert relative_key("data/train-1.csv", "data/train") == "train-1.csv"


def test_metric_definitions_keep_the_last_value() -> None:
    parser = MetricParser([{"Name": "loss", "Regex": r"loss=([0-9.]+)"}, {"Name": "bad", "Regex": "("}])
    for line in ("epoch 1 loss=0.5", "nothing", "epoch 2 loss=0.25"):
        parser.feed(line)
    assert parser.latest == {"loss": 0.25}


def test_error_message_is_the_exception_line() -> None:
    tail = ["Traceback (most recent call last):", '  File "train.py", line 3, in <module>',
            "    raise KeyError('label')", "KeyError: 'label'"]
    assert error_message(tail) == "KeyError: 'label'"


def test_processing_paths_map_into_the_job_directory(tmp_path) -> None:
    mapper = PathMapper(str(tmp_path))
    assert mapper.local("/opt/ml/processing/input/") == f"{tmp_path}/processing/input"
    with pytest.raises(ValueError):
        mapper.local("/opt/ml/processing/../../../etc")
    with pytest.raises(ValueError):
        mapper.local("/data")
    assert mapper.rewrite("--out=/opt/ml/processing/train") == f"--out={tmp_path}/processing/train"
    (tmp_path / "code.py").write_text('open("/opt/ml/processing/input/x.csv")\n')
    assert mapper.rewrite_python_sources(str(tmp_path)) == [str(tmp_path / "code.py")]
    assert f'"{tmp_path}/processing/input/x.csv"' in (tmp_path / "code.py").read_text()


def test_default_handlers_decode_and_encode_like_the_toolkit() -> None:
    from emulator.scriptmode import inference_worker as worker

    assert worker.default_input_fn(b"1,2\n3,4\n", "text/csv").tolist() == [[1, 2], [3, 4]]
    assert worker.default_input_fn(b"1,,2\n", "text/csv").shape == (1, 3)  # genfromtxt fallback
    assert worker.default_input_fn(b"[[1, 2]]", "application/json").tolist() == [[1, 2]]
    buffer = io.BytesIO()
    np.save(buffer, np.array([1.5]))
    assert worker.default_input_fn(buffer.getvalue(), "application/x-npy").tolist() == [1.5]
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        worker.default_input_fn(pickled.getvalue(), "application/x-npy")  # never unpickled
    with pytest.raises(worker.HandlerError) as error:
        worker.default_input_fn(b"x", "image/png")
    assert error.value.status == 415
    assert worker.default_output_fn(np.array([1, 2]), "application/json") == (b"[1, 2]", "application/json")
    assert json.loads(worker.default_output_fn(np.array([[1.0]]), "*/*")[0]) == [[1.0]]
    body, kind = worker.default_output_fn(np.array([3, 4]), "text/csv")
    assert kind == "text/csv" and body.decode().split() == ["3", "4"]


def test_memory_cap_is_applied_to_the_child(monkeypatch, tmp_path) -> None:
    import sys

    from emulator.scriptmode.process import run_streaming

    monkeypatch.setenv("EMULATOR_SCRIPT_MEMORY_MB", "200")
    lines: list[str] = []
    result = run_streaming([sys.executable, "-c", "b = bytearray(400 * 1024 * 1024)"], str(tmp_path),
                           {"PATH": "/usr/bin:/bin"}, lines.append, lambda: None)
    assert result.exit_code != 0 and any("MemoryError" in line for line in lines)
    monkeypatch.delenv("EMULATOR_SCRIPT_MEMORY_MB")
    assert run_streaming([sys.executable, "-c", "b = bytearray(400 * 1024 * 1024)"], str(tmp_path),
                         {"PATH": "/usr/bin:/bin"}, lines.append, lambda: None).exit_code == 0
