"""Batch prediction output files (one CSV per input file) and the manifest.

Layout decisions ([U] parts):

* header first; with a ``rowId`` in the schema the first column is named after the
  rowId attribute (the DG example header ``tag,...`` is read as a rowId named
  ``tag``; consumers also parse ``user_id,trueLabel,...``) and holds its verbatim value;
* if the target attribute is present in the data, ``trueLabel`` follows (BINARY 0/1,
  categorical text, numbers without a trailing ``.0``; empty when missing);
* BINARY: ``bestAnswer,score``; MULTICLASS: one column per class label (scores);
  REGRESSION: ``score``.  Scores use Java-style scientific notation with 5
  significant digits (``8.7642E-3``);
* one line per input row in input order; an invalid row yields an empty line.
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np

from .datasets import Dataset, coerce_frame, value_to_text
from .errors import DataProcessingError
from .model import TrainedModel


def format_score(value: float) -> str:
    """Java-style scientific notation, e.g. 0.0087642 -> ``8.7642E-3``."""
    mantissa, exp = f"{float(value):.4E}".split("E")
    return f"{mantissa}E{int(exp)}"


def batch_prediction_csv(model: TrainedModel, dataset: Dataset, file_name: str,
                         score_threshold: float = 0.5) -> tuple[str, int, int]:
    """CSV text for input file ``file_name``; returns (csv_text, total_records, invalid_records)."""
    if file_name not in dataset.layout:
        raise DataProcessingError(f"Input file '{file_name}' is not part of the batch prediction datasource")
    positions = dataset.layout[file_name]
    schema = dataset.schema
    row_id = schema.row_id
    target = model.schema.target
    has_target = target is not None and target in schema.names and target != row_id
    rows = positions[positions >= 0]
    sub = dataset.frame.iloc[rows].reset_index(drop=True)
    pred = model.predict_frame(coerce_frame(sub, schema, model.schema), score_threshold) if len(sub) else None
    header: list[str] = []
    if row_id:
        header.append(row_id)
    if has_target:
        header.append("trueLabel")
    if model.model_type == "BINARY":
        header += ["bestAnswer", "score"]
    elif model.model_type == "MULTICLASS":
        header += list(model.classes)
    else:
        header.append("score")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    target_type = schema.type_of(target) if has_target else None
    j = 0
    for pos in positions:
        if pos < 0:
            out.write("\n")
            continue
        line: list[str] = []
        if row_id:
            line.append(str(dataset.frame[row_id].iat[pos]))
        if has_target:
            line.append(value_to_text(sub[target].iat[j], target_type))
        if model.model_type == "BINARY":
            line += [pred.labels[j], format_score(pred.scores[j])]
        elif model.model_type == "MULTICLASS":
            line += [format_score(s) for s in pred.scores[j]]
        else:
            line.append(format_score(pred.values[j]))
        writer.writerow(line)
        j += 1
    return out.getvalue(), int(len(positions)), int(np.sum(positions < 0))


def manifest_json(mapping: dict[str, str]) -> str:
    """Manifest: JSON object mapping each input S3 location to its result file."""
    return json.dumps(mapping)
