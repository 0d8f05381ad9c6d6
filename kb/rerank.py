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
set); only what training changed ships, in kb/weights/reranker.safetensors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError
from .lexical import simplified

RERANKER_FILE = Path(__file__).with_name("weights") / "reranker.safetensors"
LAYERS = 6  # the bundled model's first six of twelve: the reading needs fewer than the embedding
TRAINED = (3, 4, 5)  # the layers training changes (the lower ones stay the provisioned model's)
WINDOW_CHARS = 160  # a passage: whole sentences up to this length (about 110 tokens of Chinese)
MAX_TOKENS = 192
DEPTH = 3  # results read again: a wrong first result mostly has the right one just below it
# How much kb's own score counts beside the reading: order by reading + WEIGHT * log(kb's score). The
# reading alone is less often right than kb's ranker; weighed with it, it settles near-ties. Chosen by
# scripts/train_reranker.py's check on training-side questions only (CMRC trial split into sibling halves
# and the ranker's held-out report, reader, English and archive questions): +23 of 1,473 at 64.
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


@dataclass
class Reranker:
    """The cross-encoder, loaded once per process (`load_reranker`)."""

    model: object
    head: object
    tokenizer: object
    simplify: bool = True  # trained on Simplified text only: a paragraph in Traditional is read as Simplified

    def score(self, questions: list[str], passages: list[str], batch: int = 32) -> np.ndarray:
        """One score per (question, passage) pair: how well the passage answers (higher is better)."""
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(passages), batch):
                enc = self.tokenizer(questions[i:i + batch], passages[i:i + batch], truncation="only_second",
                                     max_length=MAX_TOKENS, padding=True, return_tensors="pt")
                out.append(forward(self.model, self.head, enc).numpy())
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def paragraph_scores(self, question: str, texts: list[str]) -> np.ndarray:
        """Each paragraph's score: that of its best passage."""
        spans, questions, passages = [], [], []
        for t in texts:
            q = question
            if self.simplify and in_traditional(t):
                q, t = simplified(question), simplified(t)
            w = windows(t)
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


@lru_cache(maxsize=1)
def load_reranker(path: Path = RERANKER_FILE) -> Reranker:
    """The shipped cross-encoder over the provisioned model (provisioned now if it is not yet)."""
    from safetensors.torch import load_file

    from .provision import default_model_name, provision

    if not Path(path).is_file():
        raise ModelError(f"no reranker in this installation ({path.name} is missing)")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        made_for = (fh.metadata() or {}).get("model", "")
    if made_for != default_model_name():
        raise ModelError(f"the reranker was trained over {made_for or 'other weights'}, not {default_model_name()}:"
                         " run scripts/train_reranker.py again")
    model, head, tokenizer = base_model(provision())
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
    missing = model.load_state_dict({k: v for k, v in state.items() if not k.startswith("head.")}, strict=False)
    if missing.unexpected_keys:
        raise ModelError(f"the reranker does not fit this model ({missing.unexpected_keys[0]})")
    return Reranker(model.eval(), head.eval(), tokenizer)


def rerank(results: list, question: str, depth: int = DEPTH, reranker: Reranker | None = None) -> list:
    """The first `depth` results in the order of reading + WEIGHT * log(kb's score) (ties keep kb's),
    then the rest as they were; ranks renumbered, scores kept as kb gave them."""
    head = list(results[:depth])
    if len(head) < 2:
        return list(results)
    reranker = reranker or load_reranker()
    read = reranker.paragraph_scores(question, [r.text for r in head])
    combined = [float(read[i]) + WEIGHT * float(np.log(max(r.score, 1e-9))) for i, r in enumerate(head)]
    order = sorted(range(len(head)), key=lambda i: (-combined[i], i))
    return [replace(r, rank=n + 1) for n, r in enumerate([head[i] for i in order] + list(results[depth:]))]
