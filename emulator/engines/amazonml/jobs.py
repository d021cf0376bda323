"""The Amazon ML job steps that run in a worker process (:mod:`emulator.workers`).

Module-level functions of plain, picklable data (our own ``Dataset`` / ``TrainedModel``
objects, bytes, strings), so the service's job threads hand them to a child process.
"""
from __future__ import annotations

import mmap
import os
from typing import Any

from ..memory import give_back_freed_memory
from .batch import batch_prediction_csv
import numpy as np

from .datasets import Dataset, ParsedFile, load_dataset, parse_file, select_dataset
from .rearrangement import parse_rearrangement, row_buckets
from .metrics import evaluate_with_insights
from .model import TrainedModel
from .schema import DataSchema
from .sgd import native_threadpools, train_model
from .statistics import compute_statistics


def load_data_source(files: list[tuple[str, bytes]], schema: DataSchema, rearrangement: str | None,
                     with_statistics: bool, split_names: list[str] | None = None
                     ) -> tuple[Dataset, dict[str, Any] | None]:
    """Parse and select the records of a data source, with its statistics if asked
    (``split_names``: the names random splits hash, see ``load_dataset``)."""
    dataset = load_dataset(files, schema, rearrangement, split_names)
    return dataset, compute_statistics(dataset) if with_statistics else None


def load_data_source_files(inputs: list[ParsedFile | tuple[str, bytes | str] | tuple[str, bytes | str, str | None]],
                           schema: DataSchema, rearrangement: str | None, with_statistics: bool,
                           split_names: list[str] | None = None, known_buckets: list[np.ndarray | None] | None = None,
                           return_parsed: bool = True, dataset_directory: str | None = None
                           ) -> tuple[Dataset, dict[str, Any] | None, list[ParsedFile | None], list[np.ndarray] | None]:
    """:func:`load_data_source` of files given as (name, bytes or the path of a file
    holding them[, directory]) or already
    parsed (a :class:`ParsedFile` of an earlier data source of the same bytes and schema),
    with each file's random-split buckets when known. Returns the dataset, its statistics,
    the files it parsed (None for those given parsed, or all None without
    ``return_parsed``) and each file's random-split buckets (None for other splits), so the
    caller can keep them.

    A file given with a directory has its parsed columns written there, and
    ``dataset_directory`` receives the data set's (:mod:`.stored`): what is returned then
    pickles as paths, and the next job memory-maps the columns."""
    split = parse_rearrangement(rearrangement)
    parsed = []
    for item in inputs:
        if isinstance(item, ParsedFile):
            parsed.append(item)
            continue
        content = item[1]
        if isinstance(content, str):  # a file the caller wrote for this job: memory-mapped
            one = _parse_path(item[0], content, schema)
        else:
            one = parse_file(item[0], content, schema)
        del content
        if len(item) > 2 and item[2] is not None:
            one.store_in(item[2])
            one.release()  # from here on its columns are read from the files, one at a time
        parsed.append(one)
        give_back_freed_memory()  # the line scan's temporaries
    per_file = None
    buckets = None
    if split is not None and split.strategy == "random":
        names = split_names if split_names is not None else [p.name for p in parsed]
        known = known_buckets or [None] * len(parsed)
        per_file = [k if k is not None else row_buckets(split.seed, name, p.fields()["offsets"]).astype(np.uint8)
                    for k, name, p in zip(known, names, parsed)]
        buckets = np.concatenate(per_file) if per_file else np.zeros(0, dtype=np.uint8)
    dataset = select_dataset(parsed, schema, split, split_names, buckets)
    statistics = compute_statistics(dataset) if with_statistics else None
    if dataset_directory is not None:
        dataset.store_in(dataset_directory)
    fresh = [None if isinstance(item, ParsedFile) or not return_parsed else p for item, p in zip(inputs, parsed)]
    return dataset, statistics, fresh, per_file


def _parse_path(name: str, path: str, schema: DataSchema) -> ParsedFile:
    """:func:`parse_file` of the file at ``path``, read through a memory map (its pages are
    the page cache's, given back once scanned) instead of a copy of its bytes."""
    with open(path, "rb") as source:
        if os.fstat(source.fileno()).st_size == 0:
            return parse_file(name, b"", schema)
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return parse_file(name, mapped, schema, path)
    finally:
        try:
            mapped.close()
        except BufferError:  # an array still views it: closed when collected
            pass


def train(dataset: Dataset, model_type: str, parameters: dict[str, str] | None,
          recipe_text: str | None) -> TrainedModel:
    """Train an ML model (see ``sgd.train_model``)."""
    return train_model(dataset, model_type, parameters, recipe_text)


def evaluation_metrics(model: TrainedModel, dataset: Dataset, baseline: float | None = None
                       ) -> tuple[dict[str, str], dict[str, Any]]:
    """An evaluation's PerformanceMetrics properties, and what the console charts of it
    (``baseline``: the training target's mean, for the regression baseline)."""
    return evaluate_with_insights(model, dataset, baseline)


def batch_predictions(model: TrainedModel, dataset: Dataset, score_threshold: float) -> list[tuple[str, str]]:
    """(input file name, result CSV text) for every file of the data source."""
    return [(name, batch_prediction_csv(model, dataset, name, score_threshold)[0]) for name in dataset.layout]


native_threadpools()  # inspected once in the worker forkserver (which preloads this module), inherited by every job
