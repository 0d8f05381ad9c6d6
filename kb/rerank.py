"""An opt-in second reading of the first results: a small cross-encoder reads the question beside
each passage of each paragraph and moves the one that answers it up.

The learned ranker scores each paragraph by features of the whole of it (scores of two retrievers,
coverage, figures, the part of the report). Where two paragraphs of one article share the
question's words ("是誰讓現代網球誕生了": the article's lead and the paragraph that says who), only
reading the question against each passage tells them apart. A cross-encoder does, at a cost: it
reads every passage of every paragraph it reranks, 0.15-0.3 s for the first three on two CPU cores,
so it is off by default (`kb search --rerank`, `rerank=1` in the API, 精读前三条 on the page).

It is the first six layers of the bundled model (the embedder's weights, as provisioned) with its
upper three layers and a scoring head trained by scripts/train_reranker.py on CMRC 2018 train,
questions generated from the reports and the official zh-en sentence pairs (never on an evaluation
set); only what training changed ships, in kb/weights/reranker.safetensors. Like the embedder it runs
on ONNX Runtime (exported once per reranker file, its word table in int8), so `--rerank` imports no
torch: `kb search --rerank` answers in 1.7 s from process start instead of 9 s, with the same order.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chunking import heading_of
from .errors import ModelError
from .lexical import simplified

log = logging.getLogger("kb")
RERANKER_FILE = Path(__file__).with_name("weights") / "reranker.safetensors"
LAYERS = 6  # the bundled model's first six of twelve: the reading needs fewer than the embedding
TRAINED = (3, 4, 5)  # the layers training changes (the lower ones stay the provisioned model's)
WINDOW_CHARS = 160  # a passage: whole sentences up to this length (about 110 tokens of Chinese)
MAX_TOKENS = 192
# On ONNX Runtime the word table is int8 (a file of 139 MB, not 428; scores move by 0.03 on average, by
# 0.4 at most in 872 training pairs); int8 matrix products too would read 1.5 times as fast but move
# scores by 0.15 on average, 2.6 at most (the reading's spread: 4), and lost three of the training
# side's sibling questions (docs/quality.md, eleventh session)
INT8_MATRICES = False
DEPTH = 3  # results read again: a wrong first result mostly has the right one just below it
# How much kb's own score counts beside the reading: order by reading + WEIGHT * log(kb's score). The
# reading alone is less often right than kb's ranker; weighed with it, it settles near-ties. Chosen by
# scripts/train_reranker.py's check on training-side questions only (CMRC trial split into sibling halves
# and the ranker's held-out report, reader, English and archive questions): +21 of 1,473 at 64, with the
# passages read under their headings as they were trained (48 and 56: +22, but one reader question lost)
WEIGHT = 64.0

HAN = re.compile(r"[\u4e00-\u9fff]")
SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """The passages a paragraph is read in: consecutive sentences up to `size` characters, each
    passage after the first opening on the previous one's last sentence (an answer that runs over a
    sentence boundary is whole in one of them). A sentence longer than `size` is cut."""
    pieces: list[str] = []
    for s in SENTENCE_END.split(text):
        s = s.strip()
        while len(s) > size:
            pieces.append(s[:size])
            s = s[size:]
        if s:
            pieces.append(s)
    if not pieces:
        return [text[:size]] if text.strip() else []
    out: list[str] = []
    current: list[str] = []
    new = 0  # pieces in `current` that no passage before holds
    for p in pieces:
        if current and sum(map(len, current)) + len(p) > size:
            out.append("".join(current))
            current = [current[-1]] if len(current[-1]) + len(p) <= size else []
            new = 0
        current.append(p)
        new += 1
    if new:
        out.append("".join(current))
    return out


class TorchPairs:
    """The cross-encoder on torch: what training changes, and the path under `KB_BACKEND=torch`."""

    def __init__(self, model, head, tokenizer):
        self.model, self.head, self.tokenizer = model, head, tokenizer

    def score(self, questions: list[str], passages: list[str], batch: int = 32) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(passages), batch):
                enc = self.tokenizer(questions[i:i + batch], passages[i:i + batch], truncation="only_second",
                                     max_length=MAX_TOKENS, padding=True, return_tensors="pt")
                out.append(forward(self.model, self.head, enc).numpy())
        return np.concatenate(out) if out else np.zeros(0, np.float32)


class OnnxPairs:
    """Its int8 export on ONNX Runtime (kb/onnx_export.py's export_reranker): no torch in the
    process, 1.7 times as fast, the same order (300 of 300 training questions read alike)."""

    def __init__(self, session_file: Path, tokens):
        from .embedding import onnx_session

        self.session, self.tokens = onnx_session(session_file), tokens

    def score(self, questions: list[str], passages: list[str], batch: int = 16) -> np.ndarray:
        rows = [self.tokens.pair(q, p, MAX_TOKENS) for q, p in zip(questions, passages)]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # batches of like length pad little
        out = np.zeros(len(rows), np.float32)
        for i in range(0, len(order), batch):
            part = order[i:i + batch]
            out[part] = self.session.run(None, self.tokens.batch([rows[j] for j in part]))[0]
        return out


@dataclass
class Reranker:
    """The cross-encoder, loaded once per process (`load_reranker`) on either path."""

    pairs: TorchPairs | OnnxPairs
    simplify: bool = True  # trained on Simplified text only: a paragraph in Traditional is read as Simplified

    def score(self, questions: list[str], passages: list[str]) -> np.ndarray:
        """One score per (question, passage) pair: how well the passage answers (higher is better)."""
        return self.pairs.score(questions, passages)

    def paragraph_scores(self, question: str, texts: list[str], headings: list[str] | None = None) -> np.ndarray:
        """Each paragraph's score: that of its best passage, each passage read under its paragraph's
        heading (chunking.heading_of) as the dense retriever reads its chunks."""
        spans, questions, passages = [], [], []
        for t, h in zip(texts, headings or [""] * len(texts)):
            q = question
            if self.simplify and in_traditional(t):
                q, t, h = simplified(question), simplified(t), simplified(h)
            w = [f"{h}\n{p}" if h else p for p in windows(t)]
            spans.append((len(passages), len(passages) + len(w)))
            passages += w
            questions += [q] * len(w)
        scores = self.score(questions, passages)
        return np.array([scores[a:b].max() if b > a else -np.inf for a, b in spans], np.float32)


def in_traditional(text: str) -> bool:
    """Whether a paragraph is written in Traditional characters: at least 5% of its Han characters
    change when read as Simplified (DRCD's paragraphs: 18-32%; Simplified reports and CMRC: under 1%,
    from the few characters OpenCC changes either way, such as 沈 in 沈阳)."""
    han = HAN.findall(text)
    return bool(han) and sum(a != b for a, b in zip(text, simplified(text))) >= 0.05 * len(han)


def forward(model, head, enc):
    """The head over the mean of the last layer's token states (the bundled model's own pooling)."""
    hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return head(pooled).squeeze(-1)


def base_model(model_dir: Path):
    """The provisioned model cut to its first `LAYERS` layers, and its tokenizer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .embedding import _quiet_transformers

    _quiet_transformers()
    model = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    model.encoder.layer = model.encoder.layer[:LAYERS]
    model.config.num_hidden_layers = LAYERS
    head = torch.nn.Linear(model.config.hidden_size, 1)
    return model, head, AutoTokenizer.from_pretrained(str(model_dir))


def _torch_pairs(path: Path, model_dir: Path) -> TorchPairs:
    """The provisioned model's first layers with the shipped file's layers and head."""
    from safetensors.torch import load_file

    model, head, tokenizer = base_model(model_dir)
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
    missing = model.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")}, strict=False)
    if missing.unexpected_keys:
        raise ModelError(f"the reranker does not fit this model ({missing.unexpected_keys[0]})")
    return TorchPairs(model.eval(), head.eval(), tokenizer)


def onnx_pairs(path: Path, model_dir: Path, tokens) -> OnnxPairs:
    """The ONNX export of the reranker file `path` over the model in `model_dir`, made on first use
    (about half a minute, once per reranker file) and checked before it reads anything: its canary
    pair must score as it did right after the export, else it is made again. `tokens`: the
    embedder's `Pieces`."""
    import hashlib

    from . import onnx_export

    weights = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    target = onnx_export.reranker_folder(model_dir) / onnx_export.RERANKER_MODEL
    for attempt in (1, 2):
        meta = onnx_export.reranker_meta(model_dir, weights, INT8_MATRICES)
        if meta is None:
            log.warning("exporting the reranker to ONNX (once; about half a minute)")
            import torch

            torch_pairs = _torch_pairs(path, model_dir)

            class Module(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.model, self.head = torch_pairs.model, torch_pairs.head

                def forward(self, input_ids, attention_mask):
                    return forward(self.model, self.head, {"input_ids": input_ids, "attention_mask": attention_mask})

            try:
                onnx_export.export_reranker(model_dir, Module(), weights,
                                            lambda f, q, p: OnnxPairs(f, tokens).score(q, p), INT8_MATRICES)
            except (OSError, RuntimeError, ValueError) as exc:
                raise ModelError(f"cannot export the reranker to ONNX: {exc}".splitlines()[0]) from exc
            meta = onnx_export.reranker_meta(model_dir, weights, INT8_MATRICES)
        try:
            pairs = OnnxPairs(target, tokens)
            same = abs(float(pairs.score([onnx_export.CANARY_PAIR[0]], [onnx_export.CANARY_PAIR[1]])[0])
                       - float(meta["canary"])) < 1e-3
        except Exception:  # noqa: BLE001 - any failure to load is a damaged file
            same = False
        if same:
            return pairs
        if attempt == 1:
            log.warning("the reranker's ONNX file in %s is damaged; exporting it again", target.parent)
            import shutil

            shutil.rmtree(target.parent, ignore_errors=True)
    raise ModelError(f"the reranker's ONNX file in {target.parent} gives other scores than when it was made")


@lru_cache(maxsize=2)
def load_reranker(path: Path = RERANKER_FILE, backend: str | None = None) -> Reranker:
    """The shipped cross-encoder over the provisioned model (provisioned now if it is not yet): on ONNX
    Runtime like the embedder, unless `KB_BACKEND=torch` (or the export fails: torch, with a warning)."""
    from .embedding import choose_backend, load_embedder
    from .provision import default_model_name, provision

    if not Path(path).is_file():
        raise ModelError(f"no reranker in this installation ({path.name} is missing)")
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as fh:
        made_for = (fh.metadata() or {}).get("model", "")
    if made_for != default_model_name():
        raise ModelError(f"the reranker was trained over {made_for or 'other weights'}, not {default_model_name()}:"
                         " run scripts/train_reranker.py again")
    backend = choose_backend(backend)
    model_dir = provision()
    if backend in ("onnx", "auto"):
        try:
            # the embedder of this process (loaded once): its export holds the tokenizer's parts
            tokens = getattr(load_embedder(backend=backend).encoder, "tokens", None)
            if tokens is None:
                raise ModelError("the embedder runs on torch here")
            return Reranker(onnx_pairs(Path(path), model_dir, tokens))
        except ModelError as exc:
            if backend == "onnx":
                raise
            log.warning("%s; using torch instead", exc)
    return Reranker(_torch_pairs(Path(path), model_dir))


def rerank(results: list, question: str, depth: int = DEPTH, reranker: Reranker | None = None) -> list:
    """The first `depth` results in the order of reading + WEIGHT * log(kb's score) (ties keep kb's),
    then the rest as they were; ranks renumbered, scores kept as kb gave them."""
    head = list(results[:depth])
    if len(head) < 2:
        return list(results)
    reranker = reranker or load_reranker()
    read = reranker.paragraph_scores(question, [r.text for r in head],
                                     [heading_of(r.title, r.section) for r in head])
    combined = [float(read[i]) + WEIGHT * float(np.log(max(r.score, 1e-9))) for i, r in enumerate(head)]
    order = sorted(range(len(head)), key=lambda i: (-combined[i], i))
    return [replace(r, rank=n + 1) for n, r in enumerate([head[i] for i in order] + list(results[depth:]))]
