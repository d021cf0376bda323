"""A small labelled text corpus in BlazingText's format, generated reproducibly.

Seed 002 classifies Amazon product reviews by product category (Amazon Customer
Reviews, tens of gigabytes). This module writes a stand-in with the same shape:
one review per line, ``__label__<category>`` first, space-separated lower-case
tokens. Each review mixes generic review words with words typical of its category
(some shared by two categories) and a share of off-topic words, so a classifier
must learn from word statistics; a fastText model scores about 0.9 on it, a
constant predictor 1/len(CATEGORIES).
"""

from __future__ import annotations

import random

CATEGORIES = {
    "books": "novel author chapter story plot characters read reading pages writing series book paperback hardcover "
             "kindle edition ending narrator fiction biography",
    "toys": "kids toy play child son daughter lego doll puzzle game fun birthday gift christmas blocks plastic "
            "batteries colorful grandson age",
    "kitchen": "knife pan cooking kitchen blender pot dishwasher cook recipe coffee mixer cutting bowl spatula "
               "stainless nonstick oven lid chef",
    "watches": "watch band strap wrist dial time clock face bezel waterproof battery analog digital leather "
               "casio seiko crystal buckle second",
    "lawn_and_garden": "garden lawn mower grass hose plants yard seeds soil weeds trimmer sprinkler outdoor patio "
                       "shovel flowers rake backyard gloves",
    "apparel": "shirt size fit wear dress jeans cotton fabric sleeves color shoes jacket comfortable waist "
               "medium large small pants socks",
}
GENERIC = ("great good bad love like product quality price bought would recommend well nice works one time "
           "really use months first also could get even much better returned arrived ordered amazon stars "
           "disappointed happy excellent cheap worth money buy item purchase perfect").split()
SHARED = {"toys": "apparel", "kitchen": "lawn_and_garden", "watches": "apparel"}


def review(rng: random.Random, category: str) -> str:
    """One tokenised review of ``category`` with its label."""
    own = CATEGORIES[category].split()
    other = CATEGORIES[SHARED.get(category, category)].split()
    words = []
    for _ in range(rng.randint(6, 18)):
        draw = rng.random()
        if draw < 0.22:
            words.append(rng.choice(own))
        elif draw < 0.30:
            words.append(rng.choice(other))
        elif draw < 0.38:
            words.append(rng.choice(CATEGORIES[rng.choice(list(CATEGORIES))].split()))
        else:
            words.append(rng.choice(GENERIC))
    return f"__label__{category} " + " ".join(words)


def corpus(n: int, seed: int = 0) -> list[str]:
    """``n`` reviews, categories balanced and shuffled (the seed's advice: shuffle before training)."""
    rng = random.Random(seed)
    names = sorted(CATEGORIES)
    lines = [review(rng, names[i % len(names)]) for i in range(n)]
    rng.shuffle(lines)
    return lines


def splits(n_train: int = 3000, n_validation: int = 600, n_test: int = 600, seed: int = 0) -> dict[str, list[str]]:
    """Disjoint train / validation / test lines (the seed's 60/20/20 split by default)."""
    lines = corpus(n_train + n_validation + n_test, seed)
    return {"train": lines[:n_train], "validation": lines[n_train:n_train + n_validation],
            "test": lines[n_train + n_validation:]}
