"""pytest plugin of aws-ml-emulator (registered by the ``pytest11`` entry point, no import needed).

Fixtures:

- ``mock_ml``: the emulator in-process for one test (no server, no port; see
  :mod:`clients.mock`); every boto3/SageMaker SDK client made in the test reaches it.
- ``aws_ml_emulator``: one real server on 127.0.0.1 and a free port for the whole
  session, with ``AWS_ENDPOINT_URL``, dummy credentials, the region and the SageMaker SDK
  config set in the environment; a :class:`clients.testing.RunningEmulator` (``.url``,
  ``.client("s3")``, ``.environment``, ``.reset()``). Every test that uses it starts
  from empty state (emulator and moto reset before the test), so create shared data
  inside each test, not in a module-scoped fixture.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest


@pytest.fixture
def mock_ml() -> Iterator[Any]:
    """A fresh in-process emulator for this test; yields the :class:`clients.mock.MockML`."""
    from clients.mock import MockML

    with MockML() as mock:
        yield mock


@pytest.fixture(scope="session")
def aws_ml_emulator() -> Iterator[Any]:
    """One emulator server for the session, the environment pointing at it."""
    from clients import environment_for
    from clients.testing import running_emulator

    with running_emulator() as running:
        running.environment = environment_for(running.url)
        saved = {name: os.environ.get(name) for name in running.environment}
        os.environ.update(running.environment)
        try:
            yield running
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(autouse=True)
def _aws_ml_emulator_reset(request: pytest.FixtureRequest) -> None:
    """Before each test that uses ``aws_ml_emulator``: empty state (emulator and moto)."""
    if "aws_ml_emulator" in request.fixturenames:
        request.getfixturevalue("aws_ml_emulator").reset()
