"""Entry point of a Glue job run's child process (run as a file, not imported by the server).

``python script_launcher.py RESULT_JSON SCRIPT [job arguments...]`` runs SCRIPT as
``__main__`` with ``sys.argv = [SCRIPT, job arguments...]`` (what ``getResolvedOptions``
parses), the extra Python paths of ``GLUE_EMULATOR_PYTHONPATH`` importable. Whatever
happens, it writes RESULT_JSON: ``{"error": null}`` on success, else
``{"error": "<ExceptionType>: <message>"}``; the traceback goes to stderr (the run's
error log stream).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f" ({os.path.basename(exc.filename or 'script')}, line {exc.lineno})" if exc.lineno else ""
        return f"SyntaxError: {exc.msg}{where}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main() -> int:
    result_path, script, *arguments = sys.argv[1:]
    for path in reversed([p for p in os.environ.get("GLUE_EMULATOR_PYTHONPATH", "").split(os.pathsep) if p]):
        sys.path.insert(0, path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    sys.argv = [script, *arguments]
    error: str | None = None
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = f"SystemExit: {exc.code}"
            traceback.print_exc()
    except BaseException as exc:  # noqa: BLE001 - everything a script raises ends the run FAILED
        error = _error_message(exc)
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"error": error}, handle)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
