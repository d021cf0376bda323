"""Shared types and helpers of the SageMaker built-in algorithm engine.

Nothing in here knows about HTTP, S3 or CloudWatch: the provider passes bytes and
parameters in and receives plain Python objects back.
"""
from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field


class AlgorithmError(Exception):
    """User or data error detected by an algorithm (job fails with ``ClientError: ...``)."""


class ModelError(Exception):
    """An endpoint's model could not process a request payload (runtime ModelError, 400)."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass
class Channel:
    name: str
    content_type: str | None
    objects: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class TrainingResult:
    model_files: dict[str, bytes]
    metrics: list[tuple[str, float]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    stopped_early: bool = False
    """True when the caller's ``progress`` listener stopped training after an epoch
    (a tuning job's early stopping); the model is the one trained so far."""


Progress = Callable[[list[str]], bool]
"""Told the log lines written since its last call at the end of every epoch (round);
returns True to stop training there."""


# --------------------------------------------------------------------------- logs
class Log:
    """Collects log lines in the style of the AWS algorithm containers."""

    def __init__(self, progress: Progress | None = None):
        self.lines: list[str] = []
        self.thread_id = threading.get_ident()  # the thread that runs the training
        self.progress = progress
        self._told = 0

    def epoch_end(self) -> bool:
        """Tell the listener this epoch's lines; True when it asks to stop training now."""
        if self.progress is None:
            return False
        new, self._told = self.lines[self._told:], len(self.lines)
        return bool(self.progress(new))

    def info(self, message: str) -> None:
        stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
        self.lines.append(f"[{stamp} INFO {self.thread_id}] {message}")

    def warning(self, message: str) -> None:
        stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
        self.lines.append(f"[{stamp} WARNING {self.thread_id}] {message}")

    def raw(self, message: str) -> None:
        self.lines.append(message)


# --------------------------------------------------------------- hyperparameters
def clean_hyperparameters(hyperparameters: dict | None) -> dict[str, str]:
    """Strip the JSON quoting the SageMaker SDK may add (``'"classifier"'``)."""
    out: dict[str, str] = {}
    for key, value in (hyperparameters or {}).items():
        if value is None:
            continue
        text = str(value).strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        out[str(key)] = text
    return out


class Hyper:
    """Typed access to string hyperparameters with AWS-like validation messages."""

    def __init__(self, hyperparameters: dict | None, known: set[str] | None = None):
        self.values = clean_hyperparameters(hyperparameters)
        # SageMaker's own keys (sagemaker_*, _tuning_objective_metric) are ignored.
        if known is not None:
            unknown = sorted(
                k for k in self.values
                if k not in known and not k.startswith("sagemaker_") and not k.startswith("_")
            )
            if unknown:
                raise AlgorithmError(
                    "Unable to initialize the algorithm. Failed to validate input hyperparameters."
                    f" Additional properties are not allowed ({', '.join(repr(u) for u in unknown)}"
                    " were unexpected)"
                )

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] != ""

    def raw(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default) if self.has(name) else default

    def required(self, name: str) -> str:
        if not self.has(name):
            raise AlgorithmError(f"No value for '{name}' hyperparameter")
        return self.values[name]

    def _bad(self, name: str, value: str, expected: str) -> AlgorithmError:
        return AlgorithmError(
            "Unable to initialize the algorithm. Failed to validate input hyperparameters."
            f" (caused by ValidationError) Caused by: {value!r} is not valid under any of the"
            f" given schemas. Hyperparameter '{name}' must be {expected}."
        )

    def int(self, name: str, default: int | None = None, *, required: bool = False,
            minimum: int | None = None, maximum: int | None = None) -> int | None:
        text = self.required(name) if required else self.raw(name)
        if text is None:
            return default
        try:
            number = float(text)
            if not math.isfinite(number) or number != int(number):
                raise ValueError
            value = int(number)
        except ValueError:
            raise self._bad(name, text, "an integer") from None
        if minimum is not None and value < minimum:
            raise self._bad(name, text, f"an integer >= {minimum}")
        if maximum is not None and value > maximum:
            raise self._bad(name, text, f"an integer <= {maximum}")
        return value

    def float(self, name: str, default: float | None = None, *, required: bool = False,
              minimum: float | None = None, maximum: float | None = None,
              exclusive_minimum: bool = False) -> float | None:
        text = self.required(name) if required else self.raw(name)
        if text is None:
            return default
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise self._bad(name, text, "a number") from None
        if minimum is not None and (value < minimum or (exclusive_minimum and value == minimum)):
            raise self._bad(name, text, f"a number {'>' if exclusive_minimum else '>='} {minimum}")
        if maximum is not None and value > maximum:
            raise self._bad(name, text, f"a number <= {maximum}")
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        text = self.raw(name)
        if text is None:
            return default
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise self._bad(name, text, "a boolean (true or false)")

    def choice(self, name: str, choices: list[str], default: str | None = None, *,
               required: bool = False, case_insensitive: bool = False) -> str | None:
        text = self.required(name) if required else self.raw(name)
        if text is None:
            return default
        for choice in choices:
            if text == choice or (case_insensitive and text.lower() == choice.lower()):
                return choice
        raise AlgorithmError(
            "Unable to initialize the algorithm. Failed to validate input hyperparameters."
            f" (caused by ValidationError) Caused by: {text!r} is not one of"
            f" {choices!r} (hyperparameter '{name}')"
        )


# ------------------------------------------------------------------- artefacts
def _gzip_level(model_files: dict[str, bytes]) -> int:
    """9, or 0 (stored deflate blocks, still a valid gzip stream) when a sample of the
    members barely compresses: fastText's float matrices (tens of MB) gain ~7% at level 9
    for seconds of CPU per training job."""
    if sum(len(data) for data in model_files.values()) < 4 * 1024 * 1024:
        return 9
    sample = b"".join(data[:512 * 1024] for data in model_files.values())
    return 0 if len(zlib.compress(sample, 1)) > 0.85 * len(sample) else 9


def make_model_tar_gz(model_files: dict[str, bytes]) -> bytes:
    """Pack ``{name: bytes}`` into a deterministic gzip'ed tarball."""
    buffer = io.BytesIO()
    # the gzip header's mtime too is 0 (tarfile's "w:gz" would stamp the current second)
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=_gzip_level(model_files), mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w") as tar:
        for name in sorted(model_files):
            data = model_files[name]
            info = tarfile.TarInfo(name=name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MODEL_READ_BUDGET = 512 * 1024 ** 2
"""Bytes of model.tar.gz members a predictor may read in all (a gzip bomb stays unread)."""
MODEL_SCAN_LIMIT = 1024 ** 3
"""How far into the uncompressed archive members are looked for."""


class LazyModelFiles(Mapping[str, bytes]):
    """The regular files of a model.tar.gz, each decompressed only when a predictor asks
    for it, within a byte budget; no path games (absolute, ``..``) and no links."""

    def __init__(self, model_tar_gz: bytes, budget: int = MODEL_READ_BUDGET, scan_limit: int = MODEL_SCAN_LIMIT):
        self._remaining = budget
        self._read: dict[str, bytes] = {}
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            self._tar = tarfile.open(fileobj=io.BytesIO(model_tar_gz), mode="r:*")
            for member in self._tar:
                if member.offset_data > scan_limit:
                    raise AlgorithmError("Unable to load model: model.tar.gz is too large to load.")
                name = member.name
                while name.startswith("./"):
                    name = name[2:]
                if member.isfile() and not name.startswith("/") and ".." not in name.split("/"):
                    self._members[name] = member
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise AlgorithmError(f"Unable to load model: model.tar.gz is not a valid archive ({exc}).") from None

    def __getitem__(self, name: str) -> bytes:
        if name in self._read:
            return self._read[name]
        member = self._members[name]
        if member.size > self._remaining:
            raise AlgorithmError(f"Unable to load model: {name} in model.tar.gz is too large to load.")
        self._remaining -= member.size
        try:
            handle = self._tar.extractfile(member)
            data = handle.read(member.size + 1) if handle is not None else b""
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise AlgorithmError(f"Unable to load model: {name} cannot be read ({exc}).") from None
        self._read[name] = data
        return data

    def __contains__(self, name: object) -> bool:  # without reading the member
        return name in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)


def read_model_tar_gz(model_tar_gz: bytes, max_total: int = MODEL_READ_BUDGET) -> Mapping[str, bytes]:
    """Open a model.tar.gz safely; members are read lazily (see :class:`LazyModelFiles`)."""
    return LazyModelFiles(model_tar_gz, budget=max_total)


def base_content_type(content_type: str | None) -> tuple[str | None, dict[str, str]]:
    """``'text/csv; label_size=1'`` -> ``('text/csv', {'label_size': '1'})``."""
    if content_type is None or not content_type.strip():
        return None, {}
    parts = [p.strip() for p in content_type.split(";")]
    params: dict[str, str] = {}
    for part in parts[1:]:
        if "=" in part:
            key, _, value = part.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
