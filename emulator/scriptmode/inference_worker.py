"""The inference worker: loads the user's inference script and answers requests through the SageMaker
inference toolkits' handler contract (model_fn, input_fn, predict_fn, output_fn or transform_fn, with the
toolkits' default CSV / JSON / NPY decoders and encoders). Runs as a child process of the emulator:

    python inference_worker.py MODEL_DIR CODE_DIR PROGRAM REQUEST_FD RESPONSE_FD

Imports only the standard library and numpy (lazily) besides the user's module."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import traceback
from typing import Any


def _load_framing() -> Any:
    """framing.py beside this file, without putting this directory on sys.path (its module names could
    shadow the user's)."""
    spec = importlib.util.spec_from_file_location(
        "_emulator_framing", os.path.join(os.path.dirname(os.path.abspath(__file__)), "framing.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


_framing = _load_framing()
read_frame, write_frame = _framing.read_frame, _framing.write_frame

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"


class HandlerError(Exception):
    """An error the toolkit answers with a specific HTTP status (415 for an unsupported content type)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _base(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def default_input_fn(data: bytes, content_type: str) -> Any:
    """sagemaker_inference.decoder.decode: JSON, CSV and NPY payloads to numpy arrays."""
    import numpy as np

    kind = _base(content_type) or JSON
    if kind == JSON:
        return np.array(json.loads(data))
    if kind == CSV:
        text = data.decode("utf-8")
        try:  # the common all-numeric payload, without genfromtxt's per-call overhead
            return np.array([[float(v) for v in row.split(",")] for row in text.splitlines() if row.strip()],
                            dtype=np.float32)
        except ValueError:
            return np.genfromtxt(io.StringIO(text), delimiter=",", dtype=np.float32, ndmin=2)
    if kind == NPY:
        return np.load(io.BytesIO(data), allow_pickle=False)  # never unpickle request bytes
    raise HandlerError(f"Content type {content_type} is not supported by this framework.\n\n"
                       f"Please implement input_fn to to deserialize the request data or an output_fn to\n"
                       f"serialize the response. For more information, see the SageMaker Python SDK README.", 415)


def default_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """sagemaker_inference.encoder.encode: numpy arrays (or lists) to JSON, CSV or NPY."""
    import numpy as np

    kind = _base(accept) or JSON
    if kind in ("*/*", ""):
        kind = JSON
    array = np.asarray(prediction)
    if kind == JSON:
        return json.dumps(array.tolist()).encode("utf-8"), JSON
    if kind == CSV:
        buffer = io.StringIO()
        np.savetxt(buffer, array if array.ndim else array.reshape(1), delimiter=",", fmt="%s")
        return buffer.getvalue().encode("utf-8"), CSV
    if kind == NPY:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue(), NPY
    raise HandlerError(f"Accept type {accept} is not supported by this framework.", 415)


def load_user_module(code_dir: str, program: str) -> Any:
    sys.path.insert(0, code_dir)
    name = os.path.splitext(os.path.basename(program))[0]
    spec = importlib.util.spec_from_file_location(name, os.path.join(code_dir, program))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {program}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Handlers:
    """The user's hooks, falling back on the toolkit's defaults."""

    def __init__(self, module: Any, model_dir: str) -> None:
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise NotImplementedError("Please provide a model_fn implementation.\n"
                                      "See documentation for model_fn at https://github.com/aws/sagemaker-python-sdk")
        self.model = model_fn(model_dir)
        self.transform_fn = getattr(module, "transform_fn", None)
        self.input_fn = getattr(module, "input_fn", default_input_fn)
        self.predict_fn = getattr(module, "predict_fn", default_predict_fn)
        self.output_fn = getattr(module, "output_fn", None)

    def __call__(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, body, content_type, accept)
        else:
            data = self.input_fn(body, content_type)
            prediction = self.predict_fn(data, self.model)
            if self.output_fn is None:
                return default_output_fn(prediction, accept)
            result = self.output_fn(prediction, accept)
        if isinstance(result, tuple) and len(result) == 2:
            payload, returned_type = result
        else:
            payload, returned_type = result, accept
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        return bytes(payload), str(returned_type or accept)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def main(argv: list[str]) -> int:
    model_dir, code_dir, program, request_fd, response_fd = argv[1], argv[2], argv[3], int(argv[4]), int(argv[5])
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)
    try:
        handlers = Handlers(load_user_module(code_dir, program), model_dir)
    except BaseException as exc:  # noqa: BLE001 - report any failure to load the model
        traceback.print_exc()
        write_frame(response_fd, {"ready": False, "message": _error_text(exc)})
        return 1
    write_frame(response_fd, {"ready": True})
    while True:
        try:
            header, body = read_frame(request_fd)
        except EOFError:
            return 0
        accept = header.get("accept") or default_accept
        if accept == "*/*":
            accept = default_accept
        try:
            payload, content_type = handlers(body, header.get("content_type") or JSON, accept)
            write_frame(response_fd, {"status": 200, "content_type": content_type}, payload)
        except HandlerError as exc:
            write_frame(response_fd, {"status": exc.status, "message": str(exc)})
        except Exception as exc:  # noqa: BLE001 - the user's exception becomes a ModelError
            traceback.print_exc()
            sys.stderr.flush()
            write_frame(response_fd, {"status": 500, "message": _error_text(exc)})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
