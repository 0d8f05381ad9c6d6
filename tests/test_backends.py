"""The ONNX path (the default on a CPU) and the torch path are one model: same answers; a missing or
damaged ONNX file is made again by itself and never answers a query."""
import json
import shutil
import sys

import numpy as np
import pytest

from kb import onnx_export
from kb.embedding import Embedder, OnnxEncoder, load_embedder, onnx_encoder
from kb.provision import provision
from kb.search import search

QUESTIONS = ["今年地区生产总值增长目标是多少", "去年新增了多少家高新技术企业", "城镇新增就业目标",
             "沈阳鸡架得了什么奖", "桃仙机场旅客吞吐量", "老旧小区改造", "空气质量优良天数",
             "What is the GDP growth target this year?", "how many new jobs in cities",
             "粮食产量", "营商环境", "地铁线路建设"]


@pytest.fixture(scope="module")
def torch_embedder():
    return load_embedder(backend="torch", device="cpu")


def test_the_default_on_a_cpu_is_onnx_and_it_does_not_need_torch(embedder):
    assert embedder.backend == "onnx"
    import subprocess

    code = ("import sys; from kb.embedding import load_embedder; e = load_embedder(); e.encode_queries(['沈阳']); "
            "print(e.backend, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx", "False", "False"]


def test_onnx_and_torch_give_the_same_first_result(loaded_index, embedder, torch_embedder):
    for q in QUESTIONS:
        fast, slow = search(loaded_index, embedder, q, 5), search(loaded_index, torch_embedder, q, 5)
        assert (fast[0].doc_id, fast[0].paragraph) == (slow[0].doc_id, slow[0].paragraph), q
    vec_fast = embedder.encode_passages(QUESTIONS)
    vec_slow = torch_embedder.encode_passages(QUESTIONS)
    assert (vec_fast * vec_slow).sum(axis=1).min() >= 0.99
    assert [embedder.token_count(q) for q in QUESTIONS] == [torch_embedder.token_count(q) for q in QUESTIONS]


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory):
    """The converted model in a folder of its own, so its ONNX file can be taken away or damaged."""
    folder = tmp_path_factory.mktemp("model") / "e5"
    shutil.copytree(provision(), folder, ignore=shutil.ignore_patterns(onnx_export.FOLDER, ".tmp-*"))
    return folder


@pytest.mark.slow
def test_a_missing_onnx_file_is_made_again_by_itself(model_copy, torch_embedder):
    assert not onnx_export.is_exported(model_copy)
    encoder = onnx_encoder(model_copy)
    assert onnx_export.is_exported(model_copy)
    vec = Embedder("copy", encoder).encode_queries(["今年地区生产总值增长目标"])
    assert float((vec * torch_embedder.encode_queries(["今年地区生产总值增长目标"])).sum()) >= 0.99
    (onnx_export.folder(model_copy) / onnx_export.MODEL).unlink()
    onnx_encoder(model_copy)
    assert (onnx_export.folder(model_copy) / onnx_export.MODEL).is_file()


@pytest.mark.slow
def test_a_damaged_onnx_file_never_answers(model_copy, torch_embedder, caplog):
    path = onnx_export.folder(model_copy) / onnx_export.MODEL
    onnx_encoder(model_copy)  # made (again) if an earlier test left none
    good = path.read_bytes()
    # a file that still loads but whose vectors are not the model's: the canary check catches it
    meta = json.loads((onnx_export.folder(model_copy) / onnx_export.META).read_text())
    meta["canary"] = list(np.roll(np.asarray(meta["canary"]), 1))
    (onnx_export.folder(model_copy) / onnx_export.META).write_text(json.dumps(meta))
    with caplog.at_level("WARNING", logger="kb"):
        encoder = onnx_encoder(model_copy)
    assert "gives other vectors" in caplog.text
    q = "今年地区生产总值增长目标"

    def agrees(encoder):
        return float((Embedder("x", encoder).encode_queries([q]) * torch_embedder.encode_queries([q])).sum()) >= 0.99

    assert agrees(encoder)
    # a truncated file does not load: made again too
    path.write_bytes(good[: len(good) // 3])
    caplog.clear()
    with caplog.at_level("WARNING", logger="kb"):
        encoder = onnx_encoder(model_copy)
    assert "cannot be loaded" in caplog.text
    assert agrees(encoder)


def test_unknown_backend_or_device_is_a_clear_error(monkeypatch):
    from kb.errors import ModelError

    monkeypatch.setenv("KB_BACKEND", "tensorrt")
    with pytest.raises(ModelError, match="unknown backend"):
        load_embedder()
    monkeypatch.delenv("KB_BACKEND")
    with pytest.raises(ModelError, match="unknown device"):
        load_embedder(device="tpu")


def test_the_onnx_encoder_reads_prompts_from_the_model_folder(embedder):
    assert isinstance(embedder.encoder, OnnxEncoder)
    assert embedder.prompts["query"] == "query: " and embedder.prompts["passage"] == "passage: "
    assert np.allclose(embedder.encode_passages(["沈阳"]), embedder.encoder.encode(["passage: 沈阳"], 1), atol=1e-6)
