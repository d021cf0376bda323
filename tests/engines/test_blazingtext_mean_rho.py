"""BlazingText word2vec: train:mean_rho on an evaluation channel, checked against the artefact's own vectors."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.stats import spearmanr

from clients.examples.review_corpus import CATEGORIES, corpus
from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import Channel


def _pairs(seed: int) -> list[tuple[str, str, float]]:
    """Same-category word pairs score high, cross-category pairs low."""
    rng = random.Random(seed)
    words = {c: v.split() for c, v in CATEGORIES.items()}
    names = sorted(words)
    pairs = []
    for _ in range(40):
        c = rng.choice(names)
        a, b = rng.sample(words[c], 2)
        pairs.append((a, b, round(rng.uniform(7, 10), 2)))
        c1, c2 = rng.sample(names, 2)
        pairs.append((rng.choice(words[c1]), rng.choice(words[c2]), round(rng.uniform(0, 3), 2)))
    return pairs


def _train(pairs: list[tuple[str, str, float]]):
    text = "\n".join(line.split(" ", 1)[1] for line in corpus(2000, seed=3)).encode()
    evaluation = ("word1\tword2\tscore\n" + "\n".join(f"{a}\t{b}\t{s}" for a, b, s in pairs)).encode()
    channels = {"train": Channel("train", None, [("t", text)]), "evaluation": Channel("evaluation", None, [("e", evaluation)])}
    return sm.train("blazingtext", {"mode": "skipgram", "epochs": "20", "min_count": "2", "vector_dim": "30",
                                    "window_size": "10"}, channels)


def _vectors(result) -> dict[str, np.ndarray]:
    lines = result.model_files["vectors.txt"].decode().splitlines()[1:]
    return {parts[0]: np.array([float(v) for v in parts[1:]]) for parts in (l.split(" ") for l in lines)}


def test_mean_rho_is_spearman_of_the_models_cosines() -> None:
    pairs = _pairs(0)
    result = _train(pairs)
    metrics = dict(result.metrics)
    vectors = _vectors(result)
    cosine = [float(vectors[a] @ vectors[b] / np.linalg.norm(vectors[a]) / np.linalg.norm(vectors[b])) for a, b, _ in pairs]
    scores = [s for _, _, s in pairs]
    reference = spearmanr(scores, cosine).correlation
    assert metrics["train:mean_rho"] == pytest.approx(reference, abs=0.01)  # vectors.txt keeps 5 decimals
    assert metrics["train:mean_rho"] > 0.3  # words that co-occur are closer
    shuffled = list(scores)
    random.Random(5).shuffle(shuffled)
    assert abs(spearmanr(shuffled, cosine).correlation) < metrics["train:mean_rho"] - 0.2  # control: scores matter
    assert any(line.startswith("#mean_rho: ") for line in result.log_lines)
    assert {"vectors.bin", "vectors.txt"} <= set(result.model_files)
