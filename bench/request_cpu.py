"""Server-side CPU per request, in-process: the emulator's WSGI stack next to the trivial floor app.

    python bench/request_cpu.py [--rounds 20] [--per-round 100]

Less sensitive to machine load than bench/bench.py (which times whole boto3 calls over
HTTP): one Predict (Amazon ML, BINARY model, 30 attributes), one InvokeEndpoint (k-NN, one
CSV row) and one ListModels are recorded as WSGI requests from real boto3 calls, then
replayed straight into the app (no sockets, no client) and timed in CPU time, interleaved
in rounds, next to the same replay into bench/floor_app.py's Flask app. What is printed
is the server's own work from the WSGI call to the last body byte: gateway, validation,
provider, engine, serialisation, request log. It excludes werkzeug's HTTP parsing and
socket I/O, which are the same for both apps.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import threading
import time
from typing import Any, Callable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

import bench  # noqa: E402
import floor_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from emulator.app import create_app  # noqa: E402
from emulator.config import Config  # noqa: E402
from emulator.log_setup import configure_logging  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args()
    configure_logging("info", "text", stream=open(os.devnull, "w"))  # the request log still formats each line
    app = create_app(Config(port=0))
    recorded: dict[str, tuple[dict[str, Any], bytes]] = {}
    inner = app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]):  # noqa: ANN202
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        key = environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO", "")
        recorded[key] = ({k: v for k, v in environ.items() if k != "wsgi.input"}, body)
        return inner(environ, start_response)

    app.wsgi_app = recording  # type: ignore[method-assign]
    servers = [make_server("127.0.0.1", 0, app, threaded=True),
               make_server("127.0.0.1", 0, floor_app.create_app(), threaded=True)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    url, floor_url = (f"http://127.0.0.1:{s.server_port}" for s in servers)
    predict, _ = bench.prepare_amazonml(url, floor_url)
    invoke, _ = bench.prepare_knn(url, floor_url)
    bench.client("sagemaker", url).list_models(MaxResults=1)
    predict()
    invoke()
    app.wsgi_app = inner  # type: ignore[method-assign]
    for server in servers:
        server.shutdown()
    print(f"engine import {_wait_engines()}")

    def replay(target: Callable[..., Any], key: str) -> Callable[[], None]:
        environ, body = recorded[key]

        def once() -> None:
            env = dict(environ)
            env["wsgi.input"] = io.BytesIO(body)
            out = target(env, lambda status, headers, exc_info=None: None)
            b"".join(out)
            if hasattr(out, "close"):
                out.close()

        return once

    targets = {"floor app (trivial Flask)": replay(servers[1].app, "SageMaker.ListModels"),
               "machinelearning Predict": replay(app, "AmazonML_20141212.Predict"),
               "sagemaker-runtime InvokeEndpoint": replay(app, "/endpoints/bench-knn/invocations"),
               "sagemaker ListModels": replay(app, "SageMaker.ListModels")}
    for call in targets.values():
        for _ in range(200):
            call()
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(args.rounds):
        for name, call in targets.items():
            begin = time.process_time()
            for _ in range(args.per_round):
                call()
            samples[name].append((time.process_time() - begin) * 1000 / args.per_round)
    floor = statistics.median(samples["floor app (trivial Flask)"])
    print(f"server CPU per request (median of {args.rounds} rounds of {args.per_round}; load average "
          f"{os.getloadavg()[0]:.2f}):")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:34s} {median:6.3f} ms  ({median / floor:4.1f}x the floor app; +{median - floor:.3f} ms)")


def _wait_engines() -> str:
    """The background engine import (emulator.engines.warm_state) finished, if this version reports it."""
    import emulator.engines as engines

    state = getattr(engines, "warm_state", None)
    deadline = time.monotonic() + 120
    while state is not None and state() != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
    if state is None:
        time.sleep(15)
        return "not reported (waited 15 s)"
    return state()


if __name__ == "__main__":
    main()
