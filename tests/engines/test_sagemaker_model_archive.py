"""model.tar.gz members are read lazily within a byte budget: a gzip bomb beside the
model files is never decompressed into memory."""

from __future__ import annotations

import io
import tarfile
import tracemalloc

import pytest

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel
from emulator.engines.sagemaker.common import LazyModelFiles


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as read (never held whole)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        n = min(len(buffer), self.left)
        buffer[:n] = b"\0" * n
        self.left -= n
        return n


def _with_bomb(model_tar_gz: bytes, bomb_bytes: int) -> bytes:
    """The archive's members plus a highly compressible ``bomb.bin`` of ``bomb_bytes``."""
    files = LazyModelFiles(model_tar_gz)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("bomb.bin")
        info.size = bomb_bytes
        tar.addfile(info, io.BufferedReader(_Zeros(bomb_bytes), 1 << 20))
        for name in files:
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture(scope="module")
def knn_archive() -> bytes:
    rows = "\n".join(f"{i % 2},{i % 2 + 0.1 * (i % 5)},{1 - i % 2}" for i in range(40)).encode()
    result = sm.train("knn", {"k": "3", "sample_size": "40", "predictor_type": "classifier"},
                      {"train": Channel("train", "text/csv", [("train.csv", rows)])})
    return sm.make_model_tar_gz(result.model_files)


def test_a_bomb_member_is_never_read(knn_archive: bytes) -> None:
    archive = _with_bomb(knn_archive, 200 * 1024 * 1024)
    assert len(archive) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        predictor = sm.load_predictor("knn", archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    body, _ = predictor.invoke(b"1,1.1", "text/csv", "application/json")
    assert b"predicted_label" in body


def test_reading_past_the_budget_is_an_algorithm_error(knn_archive: bytes) -> None:
    files = LazyModelFiles(_with_bomb(knn_archive, 50 * 1024 * 1024), budget=10 * 1024 * 1024)
    assert "bomb.bin" in files and len(files) >= 2
    with pytest.raises(AlgorithmError, match="too large"):
        files["bomb.bin"]
    assert all(files[name] for name in files if name != "bomb.bin")  # the model files still are


def test_not_an_archive_is_an_algorithm_error() -> None:
    with pytest.raises(AlgorithmError, match="not a valid archive"):
        LazyModelFiles(b"\x1f\x8b garbage")


def test_incompressible_models_are_stored_not_deflated() -> None:
    """fastText's float matrices barely compress: stored deflate blocks (level 0) skip seconds of
    CPU per training job; the archive is still a gzip'ed tar with the same members."""
    import gzip

    import numpy as np

    from emulator.engines.sagemaker.common import make_model_tar_gz, read_model_tar_gz

    noise = np.random.default_rng(0).uniform(-0.01, 0.01, size=2_000_000).astype("float32").tobytes()
    stored = make_model_tar_gz({"model.bin": noise, "meta.json": b"{}"})
    assert len(stored) > len(noise)  # not deflated
    assert read_model_tar_gz(stored)["model.bin"] == noise and gzip.decompress(stored)[:9] == b"meta.json"
    zeros = make_model_tar_gz({"model.bin": bytes(len(noise))})
    assert len(zeros) < len(noise) // 100  # compressible members are still compressed
    assert make_model_tar_gz({"model.bin": noise}) == make_model_tar_gz({"model.bin": noise})  # deterministic
    assert stored[4:8] == zeros[4:8] == bytes(4)  # the gzip header's mtime is 0, not the current second


def test_train_to_file_writes_the_same_archive_train_would(tmp_path, knn_archive: bytes) -> None:
    """A job's worker packs the model.tar.gz itself (beside the training, as one file for the
    server to store): byte for byte the archive of ``train`` + ``make_model_tar_gz``."""
    rows = "\n".join(f"{i % 2},{i % 2 + 0.1 * (i % 5)},{1 - i % 2}" for i in range(40)).encode()
    path = tmp_path / "model.tar.gz"
    result = sm.train_to_file("knn", {"k": "3", "sample_size": "40", "predictor_type": "classifier"},
                              {"train": Channel("train", "text/csv", [("train.csv", rows)])}, str(path))
    assert result.model_files == {} and result.log_lines
    assert path.read_bytes() == knn_archive
