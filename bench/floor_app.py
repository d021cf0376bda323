"""The latency floor for bench/bench.py: a trivial Flask app served exactly like the emulator.

    python bench/floor_app.py --port 4600

Same werkzeug server (``make_server(..., threaded=True)`` then ``serve_forever``, as
``python -m emulator`` does) answering every request with a small fixed JSON body, so
boto3 clients can call it exactly like the emulator: an empty ``ListModels`` page by
default, a fixed ``Predict`` answer to ``AmazonML_20141212.Predict`` and a fixed k-NN
answer to ``POST /endpoints/<name>/invocations``. Client-side work (parameter
validation, signing, HTTP, response parsing) is then the same on both sides of a ratio
and the ratio isolates the server's own work.
"""

from __future__ import annotations

import argparse

from flask import Flask, Response, request
from werkzeug.serving import make_server

BODY = b'{"Models": []}'
PREDICT = (b'{"Prediction": {"predictedLabel": "1", "predictedScores": {"1": 0.9}, '
           b'"details": {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}}}')
INVOCATION = b'{"predictions": [{"predicted_label": 2.0}]}'


def create_app() -> Flask:
    app = Flask("floor")

    @app.route("/", methods=["GET", "POST"])
    def answer() -> Response:
        body = PREDICT if request.headers.get("X-Amz-Target", "").endswith(".Predict") else BODY
        return Response(body, content_type="application/x-amz-json-1.1")

    @app.post("/endpoints/<name>/invocations")
    def invocations(name: str) -> Response:
        return Response(INVOCATION, content_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = make_server(args.host, args.port, create_app(), threaded=True)
    print(f"floor listening on http://{args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
