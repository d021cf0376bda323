"""Batch prediction result files laid out as Amazon ML writes them.

``<OutputUri>/batch-prediction/result/<bpId>-<input basename>.gz``: gzip CSV with a
header and one line per input row in input order (a blank line for a rejected row);
``<OutputUri>/batch-prediction/<bpId>.manifest``: JSON map input file -> result file.

Columns: BINARY ``bestAnswer,score``; MULTICLASS one column per class label;
REGRESSION ``score``. With a ``rowId`` in the batch schema its column comes first
(named after the attribute), and when the batch data declares the model's target
attribute a ``trueLabel`` column follows it ([U], as parsed by public consumers).
Scores are written in Java-like scientific notation (``8.7642E-3``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import posixpath
from typing import Any

import numpy as np

from emulator.engines.amazonml.datasets import value_to_text


def sci(value: float) -> str:
    """``8.7642E-3`` style (7 significant digits, trailing zeros trimmed)."""
    if value == 0 or not np.isfinite(value):
        return "0.0E0" if value == 0 else str(value)
    mantissa, exponent = f"{value:.6E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def join_uri(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(parts)


def result_files(bp_id: str, output_uri: str, model: Any, dataset: Any, file_uris: dict[str, str],
                 score_threshold: float) -> tuple[dict[str, bytes], dict[str, str]]:
    """(s3 uri -> gzip bytes of each result file, manifest map input uri -> result uri)."""
    schema = dataset.schema
    frame = dataset.frame
    preds = model.predict_frame(frame, score_threshold, source_schema=schema) if len(frame) else None
    header: list[str] = []
    row_id = schema.row_id
    target = model.schema.target
    with_truth = target is not None and target in schema.names
    if row_id:
        header.append(row_id)
    if with_truth:
        header.append("trueLabel")
    if model.model_type == "BINARY":
        header += ["bestAnswer", "score"]
    elif model.model_type == "MULTICLASS":
        header += list(model.classes)
    else:
        header += ["score"]

    def cells(pos: int) -> list[str]:
        out: list[str] = []
        if row_id:
            out.append(str(frame[row_id].iat[pos]))
        if with_truth:
            out.append(value_to_text(frame[target].iat[pos], schema.type_of(target)))
        if model.model_type == "BINARY":
            out += [preds.labels[pos], sci(float(preds.scores[pos]))]
        elif model.model_type == "MULTICLASS":
            out += [sci(float(p)) for p in preds.scores[pos]]
        else:
            out.append(sci(float(preds.values[pos])))
        return out

    files: dict[str, bytes] = {}
    manifest: dict[str, str] = {}
    for name, positions in dataset.layout.items():
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        for pos in positions:
            if pos < 0:
                text.write("\n")
            else:
                writer.writerow(cells(int(pos)))
        uri = join_uri(output_uri, "batch-prediction", "result", f"{bp_id}-{posixpath.basename(name)}.gz")
        files[uri] = gzip.compress(text.getvalue().encode("utf-8"))
        manifest[file_uris.get(name, name)] = uri
    return files, manifest


def manifest_bytes(manifest: dict[str, str]) -> bytes:
    return json.dumps(manifest).encode("utf-8")
