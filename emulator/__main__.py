"""``aws-ml-emulator`` / ``python -m emulator``: start the server."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

from werkzeug.serving import make_server

from emulator import __version__, workers
from emulator.scratch import SCRATCH
from emulator.app import create_app, service_summary
from emulator.config import Config, parse_databases
from emulator.log_setup import LOG_FORMATS, configure_logging
from emulator.persistence.disk import DATA_SYNC_MODES
from emulator.stopping import StopSignals


def _parser(base: Config) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aws-ml-emulator", description="Local emulator of AWS ML services.")
    parser.add_argument("--host", default=base.host, help="bind address (default 127.0.0.1; EMULATOR_HOST)")
    parser.add_argument("--port", type=int, default=base.port, help=f"port (default {base.port}; EMULATOR_PORT)")
    parser.add_argument("--region", default=base.region, help="region for unsigned requests (EMULATOR_REGION)")
    parser.add_argument("--data-dir", default=base.data_dir, help="state directory, created if missing (EMULATOR_DATA_DIR)")
    parser.add_argument("--move-broken-data-aside", action="store_true", default=base.move_broken_data_aside,
                        help="if --data-dir cannot be loaded, rename it DIR.broken-<time> and start empty "
                             "(default: refuse to start)")
    parser.add_argument("--data-sync", default=base.data_sync, choices=DATA_SYNC_MODES, type=str.lower,
                        help="full (default): an answered write survives a power cut; normal: it survives the "
                             "process dying (kill -9), not a power cut, and is faster (EMULATOR_DATA_SYNC)")
    parser.add_argument("--job-grace-seconds", type=float, default=base.job_grace_seconds,
                        help="how long a create call waits for its job (EMULATOR_JOB_GRACE_SECONDS)")
    parser.add_argument("--max-workers", type=int, default=base.max_workers,
                        help="worker processes running jobs at once (EMULATOR_MAX_WORKERS)")
    parser.add_argument("--job-memory-mb", type=int, default=base.job_memory_mb,
                        help="memory cap of each job's worker process, MB (EMULATOR_JOB_MEMORY_MB)")
    parser.add_argument("--log-level", default=base.log_level.lower(), choices=("debug", "info", "warning", "error"),
                        type=str.lower, help="server log level (default info; EMULATOR_LOG_LEVEL)")
    parser.add_argument("--log-format", default=base.log_format, choices=LOG_FORMATS,
                        help="server log format (default text; EMULATOR_LOG_FORMAT)")
    parser.add_argument("--background", action="store_true",
                        help="start in a detached process, wait until it answers, print its PID and log file, return")
    parser.add_argument("--database", action="append", default=[], metavar="ID=URL",
                        help="RDS instance / Redshift cluster ID -> database URL, or a file of such lines; "
                             "repeatable (EMULATOR_DATABASES)")
    parser.add_argument("--glue-job-minute-seconds", type=float, default=base.glue_job_minute_seconds,
                        help="seconds in one minute of a Glue job Timeout (EMULATOR_GLUE_JOB_MINUTE_SECONDS)")
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def parse_args(argv: list[str] | None = None) -> Config:
    """Options override ``EMULATOR_*`` environment variables, which override defaults."""
    try:
        base = Config.from_env()
    except ValueError as exc:  # a malformed EMULATOR_* value is a usage error, not a traceback
        _parser(Config()).error(str(exc))
    parser = _parser(base)
    args = parser.parse_args(argv)
    for option, value, allowed in (("--log-level", args.log_level, ("debug", "info", "warning", "error")),
                                   ("--log-format", args.log_format, LOG_FORMATS),
                                   ("--data-sync", args.data_sync, DATA_SYNC_MODES)):
        if value not in allowed:  # argparse checks choices on the command line, not on EMULATOR_* defaults
            parser.error(f"argument {option}: invalid choice: {value!r} (choose from {', '.join(allowed)})")
    try:
        databases = {**base.databases, **parse_databases(args.database)}
    except ValueError as exc:
        parser.error(str(exc))
    return Config(host=args.host, port=args.port, region=args.region, data_dir=args.data_dir,
                  move_broken_data_aside=args.move_broken_data_aside, data_sync=args.data_sync,
                  job_grace_seconds=args.job_grace_seconds, max_workers=args.max_workers,
                  log_level=args.log_level, log_format=args.log_format, databases=databases,
                  job_memory_mb=args.job_memory_mb, glue_job_minute_seconds=args.glue_job_minute_seconds)


def banner(config: Config, port: int, services: dict[str, dict[str, object]]) -> str:
    """The start-up lines: URL, data dir, services and how to point clients at it."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
    url = f"http://{host}:{port}"
    own = [name for name, info in services.items() if info.get("provider") == "emulator"]
    moto = [name for name, info in services.items() if info.get("provider") == "moto"]
    return "\n".join([
        f"aws-ml-emulator {__version__} listening on http://{config.host}:{port} (Ctrl-C stops it)",
        f"  data dir:  {os.path.abspath(config.data_dir) if config.data_dir else 'none (state is in memory)'}",
        f"  services:  {', '.join(own)}; with moto: {', '.join(moto)}",
        f"  clients:   eval \"$(python -m clients{'' if url == 'http://127.0.0.1:4599' else ' ' + url})\"",
    ])


def background_log_path(port: int) -> str:
    """Where ``--background`` writes the server log: ``$XDG_STATE_HOME/aws-ml-emulator/server-<port>.log``."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "aws-ml-emulator", f"server-{port}.log")


def start_background(argv: list[str], config: Config, deadline_seconds: float = 120.0) -> int:
    """Re-run this command without ``--background`` in a detached process; return once it answers."""
    log_path = background_log_path(config.port)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "emulator", *[a for a in argv if a != "--background"]],
                                   stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
    url = f"http://{host}:{config.port}"
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"aws-ml-emulator exited with status {process.returncode}; see {log_path}", file=sys.stderr)
            return 1
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:  # never leave behind a server nobody knows the PID of
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print(f"aws-ml-emulator did not answer within {deadline_seconds:.0f} s (stopped it); see {log_path}",
              file=sys.stderr)
        return 1
    print(f"aws-ml-emulator running in the background on {url} (PID {process.pid}; stop it with: kill {process.pid})")
    print(f"  log:       {log_path}")
    print(f"  clients:   eval \"$(python -m clients{'' if url == 'http://127.0.0.1:4599' else ' ' + url})\"")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM (or start it detached with ``--background``), then
    stop within seconds: no new requests, running jobs ended (their state says why), one log line."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["snapshot"]:
        from emulator.persistence.cli import snapshot_main

        return snapshot_main(argv[1:])
    config = parse_args(argv)
    if "--background" in argv:
        return start_background(argv, config)
    configure_logging(config.log_level, config.log_format)
    stops = StopSignals().install()  # before loading --data-dir: a signal during start-up stops it too
    try:
        app = create_app(config)
    except Exception as exc:  # an unusable --data-dir: say which file, never serve half a state
        stops.uninstall()
        from emulator.persistence.disk import DataDirError

        if not isinstance(exc, (DataDirError, ValueError)):
            raise
        print(f"aws-ml-emulator: cannot start: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        stops.uninstall()
        raise
    try:
        server = make_server(config.host, config.port, app, threaded=True)
    except BaseException:  # the port is taken ...: close the data dir before saying so
        app.emulator.shutdown()  # type: ignore[attr-defined]
        stops.uninstall()
        raise
    print(banner(config, server.server_port, service_summary(app.emulator)), flush=True)  # type: ignore[attr-defined]
    code = 0
    try:
        stops.server = server  # from here a signal makes serve_forever return
        if stops.signal_name is None:  # (one during start-up: stop at once)
            server.serve_forever()
    finally:
        reason = stops.signal_name or "stopped"
        stops.begin(reason)  # whatever happens below, the process ends within the deadline
        try:
            server.server_close()  # stop accepting requests
            running = workers.stats()["running"]
            app.emulator.shutdown(wait_seconds=5.0)  # type: ignore[attr-defined]
            workers.shutdown()
            SCRATCH.remove_all()  # job data kept in files between worker processes
            logging.getLogger("emulator").info("aws-ml-emulator stopped (%s); %d running job(s) ended", reason, running)
        except BaseException:  # noqa: BLE001 - still exit now, never wait on a job thread
            logging.getLogger("emulator").exception("aws-ml-emulator stopped (%s); the clean stop failed", reason)
            code = 1
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)  # never wait on a job thread still inside a library call


if __name__ == "__main__":
    sys.exit(main())
