"""``python -m clients --notebook-metadata``: sagemaker.get_execution_role() answers offline, no STS call."""

from __future__ import annotations

import json

from clients.__main__ import main
from clients.notebook_metadata import DEFAULT_PATH, metadata_path
from clients.testing import RunningEmulator


def test_metadata_path_is_the_sdks() -> None:
    import sagemaker.session

    assert metadata_path() == sagemaker.session.NOTEBOOK_METADATA_FILE == DEFAULT_PATH


def test_get_execution_role_reads_the_written_file(sagemaker_sdk: RunningEmulator, monkeypatch, tmp_path, capsys) -> None:
    import sagemaker
    import sagemaker.session

    path = tmp_path / "opt" / "ml" / "metadata" / "resource-metadata.json"
    monkeypatch.setattr(sagemaker.session, "NOTEBOOK_METADATA_FILE", str(path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "210987654321")  # a 12-digit key selects that account
    assert main(["--notebook-metadata", sagemaker_sdk.url]) == 0
    out = capsys.readouterr().out
    assert f"export AWS_ENDPOINT_URL={sagemaker_sdk.url}" in out
    assert json.loads(path.read_text()) == {
        "ResourceName": "aws-ml-emulator",
        "ExecutionRoleArn": "arn:aws:iam::210987654321:role/AmazonSageMaker-ExecutionRole-Emulator"}
    calls = []
    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", lambda *a, **k: calls.append(a) or {})
    assert sagemaker.get_execution_role() == "arn:aws:iam::210987654321:role/AmazonSageMaker-ExecutionRole-Emulator"
    assert calls == []  # answered from the file, as on a notebook instance
    path.write_text(json.dumps({"ExecutionRoleArn": "arn:aws:iam::111111111111:role/Mine"}))
    assert main(["--notebook-metadata"]) == 0  # an existing file is left alone
    assert sagemaker.get_execution_role() == "arn:aws:iam::111111111111:role/Mine"
