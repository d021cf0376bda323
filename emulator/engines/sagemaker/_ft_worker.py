"""Runs one fastText training in a fresh process (see blazingtext.py).

stdin: JSON {"func": "train_supervised"|"train_unsupervised", "kwargs": {...},
"out": model path, "test": [paths]}; stdout: JSON {"ok": true, "test": [[n, p, r], ...]}
or {"ok": false, "error": "..."}.

Also {"func": "check", "path": model path}: load a model and use it once, so that a
corrupt model.bin (fastText's loader trusts its input) crashes this process, never
the emulator's.
"""
import json
import sys


def main() -> None:
    job = json.loads(sys.stdin.read())
    import fasttext

    try:
        if job["func"] == "check":
            model = fasttext.load_model(job["path"])
            model.predict("emulator model check", k=1) if model.get_labels() and "__label__" in model.get_labels()[0] \
                else model.get_word_vector("emulator")
            print(json.dumps({"ok": True, "test": []}))
            return
        model = getattr(fasttext, job["func"])(**job["kwargs"])
        model.save_model(job["out"])
        tests = [list(model.test(path)) for path in job.get("test", [])]
        print(json.dumps({"ok": True, "test": tests}))
    except (ValueError, RuntimeError, MemoryError) as exc:
        print(json.dumps({"ok": False, "error": str(exc)}))


if __name__ == "__main__":
    main()
