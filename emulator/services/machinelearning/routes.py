"""Emulator-specific read-only JSON routes of the Amazon ML provider.

* ``GET /_emulator/machinelearning/<account>/<region>/datasources/<id>/statistics``:
  the statistics computed for a data source created with ``ComputeStatistics``
  (what the AWS console shows; AWS has no API for them).
* ``GET /_emulator/machinelearning/<account>/<region>/datasources/<id>/records``:
  the valid records a data source selected (after schema typing and
  DataRearrangement), as JSON objects of CSV text values, in input order; use it to
  check that a split and its complement are disjoint and cover the file.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from .state import MachineLearningState


def register_routes(app: Flask, emulator: Any) -> None:
    """Mount the read-only routes on the emulator's Flask app."""

    def _data_source(account: str, region: str, ds_id: str):  # noqa: ANN202
        state = emulator.store.get(MachineLearningState, account, region)
        with state.lock:
            return state.data_sources.get(ds_id)

    def _missing(ds_id: str):  # noqa: ANN202
        return jsonify({"error": "ResourceNotFound", "message": f"No DataSource with id {ds_id} exists"}), 404

    @app.get("/_emulator/machinelearning/<account>/<region>/datasources/<ds_id>/statistics")
    def machinelearning_datasource_statistics(account: str, region: str, ds_id: str):  # noqa: ANN202
        ds = _data_source(account, region, ds_id)
        if ds is None:
            return _missing(ds_id)
        if ds.statistics is None:
            reason = ("it was created without ComputeStatistics" if not ds.compute_statistics
                      else f"it is {ds.status}")
            return jsonify({"error": "NotAvailable", "DataSourceId": ds_id, "Status": ds.status,
                            "message": f"DataSource {ds_id} has no statistics: {reason}"}), 409
        return jsonify({"DataSourceId": ds_id, "Status": ds.status, "Statistics": ds.statistics})

    @app.get("/_emulator/machinelearning/<account>/<region>/datasources/<ds_id>/records")
    def machinelearning_datasource_records(account: str, region: str, ds_id: str):  # noqa: ANN202
        from emulator.engines.amazonml.datasets import value_to_text

        ds = _data_source(account, region, ds_id)
        if ds is None:
            return _missing(ds_id)
        dataset = ds.dataset
        if dataset is None:
            return jsonify({"error": "NotAvailable", "DataSourceId": ds_id, "Status": ds.status,
                            "message": f"DataSource {ds_id} holds no data ({ds.status})"}), 409
        schema = dataset.schema
        # a data set kept in files is read for this answer only (the server keeps its paths)
        frame = dataset.fields()["frame"]
        columns = {a.name: [value_to_text(v, "TEXT" if a.name == schema.row_id else a.type)
                            for v in frame[a.name]] for a in schema.attributes}
        records = [dict(zip(columns, row)) for row in zip(*columns.values())]
        return jsonify({"DataSourceId": ds_id, "TotalRecordCount": dataset.total_record_count,
                        "InvalidRecordCount": dataset.invalid_record_count, "Records": records})
