import json
import random
import re

import pytest

from emulator.engines import sagemaker as sm
from emulator.engines.sagemaker import AlgorithmError, Channel, ModelError

TOPICS = {
    "sports": "football goal match team player score coach league stadium referee win season".split(),
    "cooking": "recipe oven flour sugar bake butter salt pepper kitchen dinner sauce garlic".split(),
    "space": "rocket orbit planet nasa astronaut moon launch galaxy star telescope mars satellite".split(),
}
COMMON = "the a is of and to in it was this that very".split()


def corpus(n, seed):
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        label = list(TOPICS)[i % 3]
        words = rng.choices(TOPICS[label], k=6) + rng.choices(COMMON, k=4)
        rng.shuffle(words)
        lines.append(f"__label__{label} " + " ".join(words))
    return "\n".join(lines).encode()


HP = {"mode": "supervised", "epochs": "25", "learning_rate": "0.5", "min_count": "1",
      "vector_dim": "20", "word_ngrams": "2"}


@pytest.fixture(scope="module")
def trained():
    ch = {"train": Channel("train", None, [("train/a.txt", corpus(300, 1))]),
          "validation": Channel("validation", "text/plain", [("val/a.txt", corpus(90, 2))])}
    return sm.train("blazingtext", HP, ch)


def test_blazingtext_supervised(trained):
    acc = dict(trained.metrics)["validation:accuracy"]
    assert acc > 0.9
    regex = next(d["Regex"] for d in sm.metric_definitions("blazingtext") if d["Name"] == "validation:accuracy")
    found = [float(m.group(1)) for l in trained.log_lines if (m := re.search(regex, l))]
    assert found == [acc]
    assert set(trained.model_files) == {"model.bin"}
    assert len(trained.model_files["model.bin"]) < 5_000_000

    predictor = sm.load_predictor("blazingtext", sm.make_model_tar_gz(trained.model_files))
    req = {"instances": ["rocket launch to the moon", "bake the flour and sugar"], "configuration": {"k": 2}}
    body, ctype = predictor.invoke(json.dumps(req).encode(), "application/json", "application/json")
    assert ctype == "application/json"
    out = json.loads(body)
    assert len(out) == 2
    assert all(len(o["label"]) == 2 and len(o["prob"]) == 2 for o in out)
    assert out[0]["label"][0] == "__label__space" and out[1]["label"][0] == "__label__cooking"
    assert out[0]["prob"][0] >= out[0]["prob"][1]
    body, _ = predictor.invoke(json.dumps({"instances": ["goal for the team"]}).encode(), None, None)
    assert json.loads(body)[0]["label"] == ["__label__sports"]
    body, ctype = predictor.invoke(b'{"source": "mars orbit", "k": 3}\n', "application/jsonlines", None)
    assert ctype == "application/jsonlines"
    assert len(json.loads(body.decode().splitlines()[0])["label"]) == 3
    with pytest.raises(ModelError):
        predictor.invoke(b"not json", "application/json", None)


def test_blazingtext_early_stopping_and_long_lines():
    long_line = b"__label__space " + b" ".join([b"rocket"] * 5000)
    ch = {"train": Channel("train", None, [("a", corpus(150, 3) + b"\n" + long_line)]),
          "validation": Channel("validation", None, [("b", corpus(30, 4))])}
    res = sm.train("blazingtext", dict(HP, epochs="12", early_stopping="true", patience="2", min_epochs="5"), ch)
    assert dict(res.metrics)["validation:accuracy"] > 0.9


def test_blazingtext_errors():
    ch = {"train": Channel("train", None, [("a", corpus(30, 1))])}
    with pytest.raises(AlgorithmError, match="No value for 'mode'"):
        sm.train("blazingtext", {"epochs": "1"}, ch)
    with pytest.raises(AlgorithmError, match="word2vec"):
        sm.train("blazingtext", {"mode": "word2vec"}, ch)
    with pytest.raises(AlgorithmError, match="'train' is a required"):
        sm.train("blazingtext", {"mode": "supervised"}, {"validation": ch["train"]})
    with pytest.raises(AlgorithmError, match="No labels"):
        sm.train("blazingtext", {"mode": "supervised"}, {"train": Channel("train", None, [("a", b"hello world\n")])})


def test_blazingtext_word2vec():
    ch = {"train": Channel("train", None, [("a", re.sub(rb"__label__\w+ ", b"", corpus(200, 5)))])}
    res = sm.train("blazingtext", {"mode": "skipgram", "epochs": "2", "min_count": "1", "vector_dim": "10"}, ch)
    assert set(res.model_files) == {"vectors.bin", "vectors.txt"}
    predictor = sm.load_predictor("blazingtext", sm.make_model_tar_gz(res.model_files))
    out = json.loads(predictor.invoke(b'{"instances": ["rocket", "oven"]}', "application/json", None)[0])
    assert [o["word"] for o in out] == ["rocket", "oven"] and len(out[0]["vector"]) == 10


@pytest.mark.parametrize("payload", [b"not a model", b"\xba\x16O/\x0c\x00\x00\x00" + b"\xff" * 200])
def test_corrupt_model_bin_fails_to_load_without_crashing(payload):
    from emulator.engines.sagemaker import AlgorithmError, load_predictor, make_model_tar_gz

    with pytest.raises(AlgorithmError, match="Unable to load BlazingText model"):
        load_predictor("blazingtext", make_model_tar_gz({"model.bin": payload}))
