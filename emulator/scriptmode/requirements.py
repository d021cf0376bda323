"""``requirements.txt`` of a source directory: satisfied from the host environment when it can be,
otherwise pip-installed once into a cache directory keyed by the file's content and put on PYTHONPATH."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import sys
import threading
from typing import Callable

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class RequirementsError(ValueError):
    """pip could not install the requirements; the message names the package pip complained about."""


def _unsatisfied(lines: list[str]) -> list[str]:
    """The requirement lines the host environment does not already satisfy."""
    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            missing.append(line)  # options, URLs, ...: let pip deal with them
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(line)
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            missing.append(line)
    return missing


def install_requirements(path: str, cache_root: str, log: Callable[[str], None]) -> str | None:
    """The directory to prepend to PYTHONPATH (None when the host environment already satisfies every line)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not _unsatisfied(lines):
        log("requirements.txt: every requirement is already satisfied by the environment")
        return None
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    target = os.path.join(cache_root, key)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if os.path.exists(os.path.join(target, ".complete")):
            log(f"requirements.txt: using the cached environment {target}")
            return target
        log(f"Installing requirements with pip into {target}")
        process = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
             "--retries", "2", "--timeout", "30",
             "--target", target, "-r", path], capture_output=True, text=True, timeout=1800,
            cwd=os.path.dirname(path))  # relative paths in the file are relative to the source directory
        for line in (process.stdout + process.stderr).splitlines():
            log(line)
        if process.returncode != 0:
            errors = [ln for ln in process.stderr.splitlines() if ln.startswith("ERROR")]
            raise RequirementsError("; ".join(errors) or f"pip exited with {process.returncode}")
        with open(os.path.join(target, ".complete"), "w", encoding="utf-8") as f:
            f.write(text)
    return target
