"""Shared fixtures: one real emulator over HTTP on 127.0.0.1 for the whole session."""

from __future__ import annotations

import os
import shutil
import uuid
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator

import pytest

from clients.testing import RunningEmulator, running_emulator
from emulator.config import Config
from tests import leftovers

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
leftovers.mark_session()  # every process the tests start carries it: see no_server_left_behind

# The package's pytest plugin (fixtures mock_ml, aws_ml_emulator) comes from its pytest11
# entry point once installed; a checkout used through PYTHONPATH loads it here instead.
if not any(ep.name == "aws_ml_emulator" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["clients.pytest_plugin"]


@pytest.fixture(scope="module", autouse=True)
def no_server_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test module (its fixtures torn down): no ``python -m emulator`` it started
    may still run. A leftover is killed (its process group too) and fails the module's last test."""
    yield
    left = leftovers.settle(leftovers.leftover_servers, grace_seconds=3.0)
    if left:
        alive = leftovers.kill(left)
        pytest.fail(f"{request.module.__name__} left {len(left)} emulator server(s) running, killed now"
                    f"{' (still alive: ' + ', '.join(str(p.pid) for p in alive) + ')' if alive else ''}:\n"
                    + "\n".join(map(str, left)), pytrace=False)


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down, also on -x
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run fails if any process it started would outlive it (a server, a script, a
    database, a browser ...); they are killed."""
    left = leftovers.settle(leftovers.outliving, grace_seconds=5.0)
    if not left:
        return
    alive = leftovers.kill(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", f"{len(left)} process(es) started by the tests outlived them, killed now", red=True)
        for line in [*map(str, left), *(f"still alive after SIGKILL: {p}" for p in alive)]:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    """A live emulator on a free port."""
    with running_emulator(Config(job_grace_seconds=20.0)) as running:
        yield running


@pytest.fixture
def aws(emulator: RunningEmulator) -> Callable[..., Any]:
    """``aws("s3")`` -> a boto3 client of the default account against the emulator."""
    return emulator.client


@pytest.fixture
def bucket(aws: Callable[..., Any]) -> str:
    """A fresh S3 bucket in the default account."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    aws("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def sagemaker_sdk(emulator: RunningEmulator, tmp_path, monkeypatch) -> RunningEmulator:
    """Environment for unmodified SageMaker SDK code against the emulator, with the SDK's
    client-side sleeps (5 s before the first Describe, 30 s after CreateEndpoint) skipped."""
    from clients import environment_for

    for name, value in environment_for(emulator.url, config_dir=str(tmp_path)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sagemaker.session.time.sleep", lambda seconds: None)
    return emulator


# Console tests (tests/test_console*.py): Debian's Chromium driven headless by Playwright.
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")  # per module: Playwright's sync session must not outlive the console tests
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; skipped only when no browser can be run."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> str:
    """Where screenshots are saved."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS") or str(tmp_path_factory.mktemp("console-screenshots"))
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (1280 wide)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20000)
    yield tab
    context.close()
