"""Runs one fastText training in a fresh process (see blazingtext.py).

stdin: JSON {"func": "train_supervised"|"train_unsupervised", "kwargs": {...},
"out": model path, "test": [paths]}; stdout: JSON {"ok": true, "test": [[n, p, r], ...]}
or {"ok": false, "error": "..."}.
"""
import json
import sys


def main() -> None:
    job = json.loads(sys.stdin.read())
    import fasttext

    try:
        model = getattr(fasttext, job["func"])(**job["kwargs"])
        model.save_model(job["out"])
        tests = [list(model.test(path)) for path in job.get("test", [])]
        print(json.dumps({"ok": True, "test": tests}))
    except (ValueError, RuntimeError) as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))


if __name__ == "__main__":
    main()
