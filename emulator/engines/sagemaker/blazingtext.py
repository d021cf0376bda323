"""BlazingText built-in algorithm (image ``blazingtext``) on top of fastText.

Modes: ``supervised`` (text classification, fastText ``train_supervised``) and the
word2vec modes ``skipgram`` / ``cbow`` / ``batch_skipgram`` (fastText
``train_unsupervised``; ``batch_skipgram`` is trained as ``skipgram``; ``train:mean_rho`` is Spearman's rho
of cosine similarities against the human scores of an ``evaluation`` channel of
``word1 word2 score`` lines - AWS uses its built-in WordSimilarity-353, which the
emulator does not ship). This fastText build
diverges (NaN) on some corpora without subword n-grams; word2vec training then falls
back to ``subwords=True`` (char n-grams 3-6) with a warning in the log.

Decisions:
* Buckets: fastText allocates ``buckets * vector_dim`` floats for word n-grams
  (2,000,000 x 100 = 800 MB). The emulator uses
  ``min(buckets, 200_000, max(1_000, 2 * distinct word n-grams of the train corpus))``
  (supervised with word_ngrams > 1; subword n-grams in word2vec modes use the same cap
  counted on character n-grams), so artefacts for small corpora are a few MB. No
  quantisation (AWS writes a normal ``model.bin``).
* Lines are truncated to 1,000 tokens (labels kept) - longer lines make fastText
  produce NaN.
* Training is single-threaded with seed 0 (deterministic). fastText sometimes diverges
  ("Encountered NaN") with high learning rates on tiny corpora; the emulator then
  retries (the failure is intermittent in this fastText build: twice with the same
  learning rate, then halving it up to 3 times; logged as warnings).
* Hyperparameters follow AWS's two schemas (text classification / Word2Vec): one of
  the other mode is refused like an unknown one. ``early_stopping`` without a
  ``validation`` channel is refused. No effect, said in the log: ``batch_skipgram`` is
  trained as ``skipgram`` (``batch_size`` only shares work across CPUs on AWS), and
  ``evaluation`` needs the WordSimilarity-353 set, which is not bundled.
* early_stopping (supervised, needs the ``validation`` channel): fastText cannot resume
  training, and its learning rate decays linearly over the whole run, so the emulator
  trains fresh models for ``min_epochs, min_epochs+1, ..., epochs`` epochs, evaluates
  each on the validation channel, keeps the best and stops after ``patience`` epochs
  without improvement.
* Artefacts: supervised -> ``model.bin`` (fastText binary); word2vec ->
  ``vectors.bin`` (fastText binary) and ``vectors.txt`` (word2vec text format).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from .channels import read_lines, require_channel
from .common import AlgorithmError, Hyper, Log, ModelError, TrainingResult, base_content_type, dumps

# AWS's two hyperparameter schemas: text classification and Word2Vec
SUPERVISED = {"mode", "buckets", "early_stopping", "epochs", "learning_rate", "min_count", "min_epochs",
              "patience", "vector_dim", "word_ngrams"}
WORD2VEC = {"mode", "batch_size", "buckets", "epochs", "evaluation", "learning_rate", "min_char", "max_char",
            "min_count", "negative_samples", "sampling_threshold", "subwords", "vector_dim", "window_size"}
KNOWN = SUPERVISED | WORD2VEC
MAX_TOKENS = 1000
# directory containing the top-level ``emulator`` package (for ``python -m`` of the worker)
_FT_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ft_worker.py")
"""Run as a script, not ``-m``: it needs only fastText, not this package (0.1 s less per fit)."""
_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MAX_BUCKETS = 200_000
LABEL = "__label__"


def _fasttext():
    try:
        import fasttext
    except ImportError as exc:  # pragma: no cover
        raise AlgorithmError(f"fastText is not available in this emulator: {exc}") from None
    try:  # silence the deprecation warning printed by load_model
        fasttext.FastText.eprint = lambda *a, **k: None
    except Exception:  # pragma: no cover
        pass
    return fasttext


def _clean_line(line: str) -> str:
    tokens = line.split()
    if len(tokens) <= MAX_TOKENS:
        return " ".join(tokens)
    labels = [t for t in tokens if t.startswith(LABEL)]
    words = [t for t in tokens if not t.startswith(LABEL)]
    return " ".join(labels + words[: max(1, MAX_TOKENS - len(labels))])


def _count_ngrams(lines: list[str], n: int) -> int:
    seen = set()
    for line in lines:
        words = [w for w in line.split() if not w.startswith(LABEL)]
        for size in range(2, n + 1):
            for i in range(len(words) - size + 1):
                seen.add(hash(tuple(words[i:i + size])))
    return len(seen)


def _count_char_ngrams(lines: list[str], minn: int, maxn: int) -> int:
    seen = set()
    for line in lines:
        for w in set(line.split()):
            w = f"<{w}>"
            for size in range(minn, maxn + 1):
                for i in range(len(w) - size + 1):
                    seen.add(w[i:i + size])
        if len(seen) > MAX_BUCKETS:
            break
    return len(seen)


def train(hyperparameters: dict, channels: dict) -> TrainingResult:
    hp = Hyper(hyperparameters, KNOWN)
    log = Log()
    mode = hp.choice("mode", ["supervised", "skipgram", "cbow", "batch_skipgram"], required=True)
    Hyper(hyperparameters, SUPERVISED if mode == "supervised" else WORD2VEC)  # AWS's per-mode schema
    epochs = hp.int("epochs", 5, minimum=1)
    lr = hp.float("learning_rate", 0.05, minimum=0, exclusive_minimum=True)
    min_count = hp.int("min_count", 5, minimum=0)
    dim = hp.int("vector_dim", 100, minimum=1)
    buckets = hp.int("buckets", 2_000_000, minimum=1)
    window = hp.int("window_size", 5, minimum=1)
    neg = hp.int("negative_samples", 5, minimum=1)
    t = hp.float("sampling_threshold", 0.0001, minimum=0)
    if mode == "supervised":
        word_ngrams = hp.int("word_ngrams", 2, minimum=1)
        early = hp.bool("early_stopping", False)
        patience = hp.int("patience", 4, minimum=1)
        min_epochs = hp.int("min_epochs", 5, minimum=1)
        allowed = ["train", "validation"]
        if early and "validation" not in channels:
            raise AlgorithmError("Unable to initialize the algorithm. Failed to validate input hyperparameters."
                                 " (caused by ValidationError) Caused by: early_stopping requires a"
                                 " 'validation' channel.")
        for name in ("patience", "min_epochs"):
            if hp.has(name) and not early:
                log.warning(f"Hyperparameter '{name}' has no effect without early_stopping=true.")
    else:
        subwords = hp.bool("subwords", False)
        minn = hp.int("min_char", 3, minimum=1)
        maxn = hp.int("max_char", 6, minimum=1)
        for name in ("min_char", "max_char"):
            if hp.has(name) and not subwords:
                log.warning(f"Hyperparameter '{name}' has no effect without subwords=true.")
        batch_size = hp.int("batch_size", 11, minimum=1)
        if mode == "batch_skipgram":
            log.warning(f"batch_skipgram is trained as skipgram in one process; batch_size={batch_size} (how"
                        " AWS shares negative samples across CPUs) does not apply.")
        elif hp.has("batch_size"):
            log.warning("Hyperparameter 'batch_size' has no effect unless mode is batch_skipgram.")
        evaluate = hp.bool("evaluation", True)
        if evaluate and "evaluation" not in channels:
            log.warning("evaluation=true without an evaluation channel: the WordSimilarity-353 test set is not"
                        " bundled with the emulator; train:mean_rho is not computed.")
        allowed = ["train", "evaluation"]
    train_ch = require_channel(channels, "train", allowed)
    lines = [_clean_line(l) for l in read_lines(train_ch)]
    lines = [l for l in lines if l]
    if not lines:
        raise AlgorithmError("No training data found in channel 'train'")
    ft = _fasttext()
    log.raw(f"Arguments: {json.dumps(hp.values)}")

    with tempfile.TemporaryDirectory(prefix="blazingtext-") as tmp:
        train_path = os.path.join(tmp, "train.txt")
        with open(train_path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        n_words = sum(len(l.split()) for l in lines)
        log.raw(f"Read {n_words / 1e6:.0f}M words")

        if mode == "supervised":
            if not any(LABEL in l for l in lines):
                raise AlgorithmError(
                    "No labels found in channel 'train': supervised mode expects each line to"
                    " start with one or more __label__<class> tokens.")
            eff_buckets = 0 if word_ngrams <= 1 else min(
                buckets, MAX_BUCKETS, max(1_000, 2 * _count_ngrams(lines, word_ngrams)))
            val_path = None
            n_val = 0
            if "validation" in channels:
                val_lines = [_clean_line(l) for l in read_lines(channels["validation"])]
                val_lines = [l for l in val_lines if LABEL in l]
                n_val = len(val_lines)
                if n_val:
                    val_path = os.path.join(tmp, "validation.txt")
                    with open(val_path, "w", encoding="utf-8") as fh:
                        fh.write("\n".join(val_lines) + "\n")
            if early and val_path is None:
                raise AlgorithmError("Customer Error: early_stopping requires labelled lines in the"
                                     " 'validation' channel.")

            out = os.path.join(tmp, "model.bin")
            tests = [train_path] + ([val_path] if val_path else [])

            def fit(n_epochs):
                """Train into ``out``; return (train accuracy, validation accuracy or None)."""
                res = _with_retries(lambda rate: dict(
                    input=train_path, lr=rate, dim=dim, ws=window, epoch=n_epochs,
                    minCount=max(min_count, 1), wordNgrams=word_ngrams, bucket=eff_buckets,
                    neg=neg, t=t, thread=1, seed=0, verbose=0, loss="softmax"),
                    "train_supervised", out, tests, lr, log)
                return float(res[0][1]), (float(res[1][1]) if val_path else None)

            started = time.time()
            if early and val_path is not None:
                best_acc = -1.0
                best_bytes = b""
                best_train = 0.0
                stale = 0
                for e in range(min(min_epochs, epochs), epochs + 1):
                    train_acc, acc = fit(e)
                    log.raw(f"Epoch {e}: #validation_accuracy_epoch: {acc:.4f}")
                    if acc > best_acc:
                        best_acc, best_train, stale = acc, train_acc, 0
                        with open(out, "rb") as fh:
                            best_bytes = fh.read()
                    else:
                        stale += 1
                        if stale >= patience:
                            log.raw(f"Reached patience. Early stopping after epoch {e}; best validation accuracy {best_acc:.4f}")
                            break
                with open(out, "wb") as fh:
                    fh.write(best_bytes)
                train_acc, val_acc = best_train, best_acc
            else:
                train_acc, val_acc = fit(epochs)
            elapsed = time.time() - started
            log.raw("Training finished.")
            log.raw(f"Total training time in seconds: {elapsed:.2f}")
            metrics = []
            log.raw(f"#train_accuracy: {train_acc:.4f}")
            log.raw(f"Number of train examples: {len(lines)}")
            if val_path is not None:
                log.raw(f"#validation_accuracy: {val_acc:.4f}")
                log.raw(f"Number of validation examples: {n_val}")
                metrics.append(("validation:accuracy", round(val_acc, 4)))
            with open(out, "rb") as fh:
                files = {"model.bin": fh.read()}
            log.raw(f"Uploaded model of {len(files['model.bin'])} bytes (buckets={eff_buckets})")
            return TrainingResult(files, metrics, log.lines)

        # word2vec modes
        if not subwords:
            minn_eff, maxn_eff, eff_buckets = 0, 0, 0
        else:
            minn_eff, maxn_eff = minn, max(minn, maxn)
            eff_buckets = min(buckets, MAX_BUCKETS, max(1_000, 2 * _count_char_ngrams(lines, minn_eff, maxn_eff)))
        started = time.time()
        out = os.path.join(tmp, "vectors.bin")
        def w2v(minn_, maxn_, buckets_):
            _with_retries(lambda rate: dict(
                input=train_path, model="cbow" if mode == "cbow" else "skipgram", lr=rate, dim=dim,
                ws=window, epoch=epochs, minCount=max(min_count, 1), neg=neg, t=t, minn=minn_,
                maxn=maxn_, bucket=buckets_, thread=1, verbose=0),
                "train_unsupervised", out, [], lr, log)

        try:
            w2v(minn_eff, maxn_eff, eff_buckets)
        except AlgorithmError:
            if subwords:
                raise
            # this fastText build diverges without subword n-grams on some corpora
            minn_eff, maxn_eff = 3, 6
            eff_buckets = min(buckets, MAX_BUCKETS, max(1_000, 2 * _count_char_ngrams(lines, 3, 6)))
            log.warning("Training without subwords failed (NaN); retrying with subwords=True")
            w2v(minn_eff, maxn_eff, eff_buckets)
        model = _load(ft, out)
        elapsed = time.time() - started
        log.raw("Training finished.")
        log.raw(f"Total training time in seconds: {elapsed:.2f}")
        words = model.get_words()
        log.raw(f"Number of words in vocabulary: {len(words)}")
        metrics = []
        if evaluate and "evaluation" in channels:
            rho, used, total = word_similarity_rho(model, read_lines(channels["evaluation"]))
            log.raw(f"Evaluated on {used} of {total} word pairs (both words in the vocabulary)")
            if rho is not None:
                log.raw(f"#mean_rho: {rho:.4f}")
                metrics.append(("train:mean_rho", round(rho, 4)))
        with open(out, "rb") as fh:
            binary = fh.read()
        txt = [f"{len(words)} {dim}"]
        for w in words:
            txt.append(w + " " + " ".join(f"{v:.5f}" for v in model.get_word_vector(w)))
        return TrainingResult({"vectors.bin": binary, "vectors.txt": ("\n".join(txt) + "\n").encode()},
                              metrics, log.lines)


def word_similarity_rho(model, lines: list[str]) -> tuple[float | None, int, int]:
    """Spearman's rho between the model's cosine similarities and human scores, as BlazingText's
    WordSimilarity-353 evaluation reports it. ``lines``: ``word1 word2 score`` (tabs or spaces; a
    header line is skipped). Returns (rho or None if fewer than 3 pairs are in the vocabulary,
    pairs used, pairs read)."""
    import numpy as np
    from scipy.stats import spearmanr

    vocabulary = set(model.get_words())
    human, predicted, total = [], [], 0
    for line in lines:
        parts = line.replace(",", " ").split()
        if len(parts) < 3:
            continue
        try:
            score = float(parts[2])
        except ValueError:
            continue  # a header
        total += 1
        a, b = parts[0].lower(), parts[1].lower()
        if a not in vocabulary or b not in vocabulary:
            continue
        va, vb = model.get_word_vector(a), model.get_word_vector(b)
        norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
        human.append(score)
        predicted.append(float(np.dot(va, vb)) / norm if norm else 0.0)
    if len(human) < 3:
        return None, len(human), total
    rho = spearmanr(human, predicted).correlation
    return (float(rho) if np.isfinite(rho) else None), len(human), total


def _zeroed_memory_env() -> dict[str, str]:
    """The environment of a fastText process, with every malloc'ed block zero-filled.

    This fastText build keeps its matrices in ``intgemm::AlignedVector`` (not
    initialised), and ``DenseMatrix::uniform`` fills only ``thread`` tenths of the input
    matrix (one tenth with ``thread=1``): the rest is whatever the allocator returns. A
    large matrix gets fresh (zero) pages from mmap, a smaller one reused heap memory, so
    training diverged with "Encountered NaN" at any learning rate, e.g. always with
    ``word_ngrams=1`` (no n-gram buckets: a small matrix). glibc's ``perturb`` tunable
    set to 255 fills every allocation with ``255 ^ 0xff = 0``: the uninitialised rows start
    at zero, as in a fresh process, deterministically."""
    tunables = [t for t in os.environ.get("GLIBC_TUNABLES", "").split(":") if t and "malloc.perturb" not in t]
    return {**os.environ, "GLIBC_TUNABLES": ":".join(tunables + ["glibc.malloc.perturb=255"]),
            "OPENBLAS_NUM_THREADS": "1"}  # fastText needs no BLAS; NumPy's import then starts no thread


def _with_retries(make_kwargs, func: str, out: str, tests: list[str], lr: float, log: Log):
    """Train in a fresh Python process whose allocations are zero-filled (see
    :func:`_zeroed_memory_env`); should fastText still report NaN, retry twice with the
    same learning rate, then with it halved. Returns the test results."""
    rates = [lr, lr, lr, lr / 2, lr / 4, lr / 8]
    for attempt, rate in enumerate(rates):
        job = {"func": func, "kwargs": make_kwargs(rate), "out": out, "test": tests}
        proc = subprocess.run([sys.executable, _FT_WORKER],
                              input=json.dumps(job), capture_output=True, text=True,
                              cwd=_PKG_ROOT, timeout=3600, env=_zeroed_memory_env())
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AlgorithmError(f"Training failed: fastText exited with code {proc.returncode}:"
                                 f" {proc.stderr.strip()[-500:]}") from None
        if result["ok"]:
            return result["test"]
        if "NaN" not in result["error"] or attempt == len(rates) - 1:
            raise AlgorithmError(f"Training failed: {result['error']}")
        log.warning(f"Encountered NaN; retrying with learning_rate={rates[attempt + 1]}")


def _check_in_worker(path: str) -> None:
    """Load and use the model once in a throw-away process first: fastText's loader
    trusts its input, and a corrupt model.bin must fail the endpoint, not crash the server."""
    proc = subprocess.run([sys.executable, _FT_WORKER],
                          input=json.dumps({"func": "check", "path": path}), capture_output=True, text=True,
                          cwd=_PKG_ROOT, timeout=600)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"ok": False, "error": f"the model crashed fastText's loader (exit code {proc.returncode})"}
    if not result["ok"]:
        raise AlgorithmError(f"Unable to load BlazingText model: {result['error']}")


def _load(ft, path):
    try:
        return ft.load_model(path)
    except (ValueError, RuntimeError, MemoryError) as exc:
        raise AlgorithmError(f"Unable to load BlazingText model: {exc}") from None


class BlazingTextPredictor:
    def __init__(self, files: dict[str, bytes]):
        name = "model.bin" if "model.bin" in files else "vectors.bin" if "vectors.bin" in files else None
        if name is None:
            raise AlgorithmError("Unable to load BlazingText model: model.bin not found in model.tar.gz")
        ft = _fasttext()
        fd, path = tempfile.mkstemp(suffix=".bin", prefix="blazingtext-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(files[name])
            _check_in_worker(path)
            try:
                self.model = ft.load_model(path)
            except (ValueError, RuntimeError, MemoryError) as exc:
                raise AlgorithmError(f"Unable to load BlazingText model: {exc}") from None
        finally:
            os.unlink(path)
        self.supervised = name == "model.bin"

    def _classify(self, text, k: int) -> dict:
        if not isinstance(text, str):
            raise ModelError("Each instance must be a string (a space-tokenised sentence).")
        labels, probs = self.model.predict(" ".join(text.split()), k=k)
        return {"label": list(labels), "prob": [round(min(float(p), 1.0), 8) for p in probs]}

    def _vector(self, word) -> dict:
        if not isinstance(word, str):
            raise ModelError("Each instance must be a word (string).")
        return {"vector": [float(v) for v in self.model.get_word_vector(word)], "word": word}

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               custom_attributes: str | None = None) -> tuple[bytes, str]:
        ctype, _ = base_content_type(content_type)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ModelError("Unable to decode the payload as UTF-8.") from None
        if ctype in ("application/jsonlines", "application/x-jsonlines", "application/jsonl"):
            out = []
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise ModelError(f"Unable to parse JSON line {number}: {exc}") from None
                if not isinstance(record, dict) or "source" not in record:
                    raise ModelError('Each JSON line must be {"source": "...", "k": <int>}.')
                if self.supervised:
                    out.append(self._classify(record["source"], self._k(record.get("k", 1))))
                else:
                    out.append(self._vector(record["source"]))
            return b"".join(dumps(o) + b"\n" for o in out), "application/jsonlines"
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise ModelError(f"Unable to parse the JSON payload: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("instances"), list):
            raise ModelError('Payload must be {"instances": ["sentence", ...], "configuration": {"k": 1}}.')
        config = doc.get("configuration") or {}
        if not isinstance(config, dict):
            raise ModelError("'configuration' must be an object.")
        if self.supervised:
            k = self._k(config.get("k", 1))
            result = [self._classify(s, k) for s in doc["instances"]]
        else:
            result = [self._vector(w) for w in doc["instances"]]
        return dumps(result), "application/json"

    @staticmethod
    def _k(value) -> int:
        try:
            k = int(value)
        except (TypeError, ValueError):
            raise ModelError("'k' must be a positive integer.") from None
        if k < 1:
            raise ModelError("'k' must be a positive integer.")
        return k


def load_predictor(files: dict[str, bytes]) -> BlazingTextPredictor:
    return BlazingTextPredictor(files)
