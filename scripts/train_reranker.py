"""Train kb's opt-in cross-encoder (kb/rerank.py) on CPU, from data no evaluation uses.

    python scripts/make_training_data.py --out /tmp/kbtrain      # the report questions (~3 min)
    python scripts/train_reranker.py train --reports /tmp/kbtrain/train.jsonl \
        --out kb/weights/reranker.safetensors                      # 2,000 steps, ~35 min on two cores
        # (--steps 4000, nearly all of CMRC train, 72 min: a tie on the training side, not shipped;
        #  docs/quality.md, fifteenth session; --trained 2,3,4,5, one layer more, 42 min: a tie as
        #  well, not shipped, sixteenth session)
    python scripts/train_reranker.py weigh --data /tmp/kbtrain --work /tmp/rk   # kb/rerank.py's WEIGHT (~7 min)

Each training item is a question with four passages (kb/rerank.py's windows), one of which answers it:
- CMRC 2018 train (Chinese Wikipedia; never CMRC dev or trial, never DRCD): the window that holds the
  answer against three windows BM25 ranks highest for the question that do not hold it, one of them
  from the answer's own paragraph when it has another: the same article's words without the answer,
  as DRCD's sibling paragraphs are;
- questions generated from the reports (make_training_data.py's gov-figure and gov-lead pairs, from
  its training reports only): the paragraph against the mined hard negative and two others (30%);
- make_training_data.py's zh-en pairs of its training years, the English sentences of 4-24 words: the
  Chinese sentence against the mined negative and two others (10%), so that English questions are read.
The loss is the cross-entropy of the right passage among its four. Only the model's layers 3-5 and the
head are trained (the lower layers stay the provisioned model's, so back-propagation stops there);
what ships is those layers and the head in fp16. A tenth of the CMRC paragraphs is held out, and the
held-out questions' accuracy (the right window first of the four) is printed before and after.
Seeded; ~1 s a step of 16 pairs on two cores.

`weigh` chooses how much kb's own score counts beside the reading, on training-side questions only:
CMRC 2018 trial with each paragraph split into two halves at the sentence nearest its middle (two
sibling paragraphs of one title, only one holding the answer; its index is built in --work), and the
ranker's held-out questions (train_ranker.py's: reports, reader questions, English, CMRC trial,
archive; --work holds train_ranker.py prepare's indexes). It prints, for each weight, how many of
them the reading moves to a right first result, less those it moves away.
"""
from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.rerank import LAYERS, MAX_TOKENS, TRAINED, base_model, forward, windows  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
GROUP = 4


def cmrc_items(folder: Path, seed: int, titled: bool = True) -> tuple[list, list]:
    """(question, [right window, three wrong]) for CMRC train; the held-out tenth by paragraph. With
    `titled`, each window is read under its article's title, as kb reads a passage under no section
    (chunking.heading_of, Reranker.paragraph_scores); the report items already carry their section."""
    import bm25s

    from kb.lexical import tokenize

    corpus = {d["id"]: d for d in map(json.loads, (folder / "corpus.jsonl").open(encoding="utf-8"))}
    wins, owner, read = [], [], []  # the windows (negatives are mined on these), as the model reads them
    for pid, d in corpus.items():
        for w in windows(d["text"]):
            wins.append(w)
            read.append(f"{d['title']}\n{w}" if titled and d.get("title") else w)
            owner.append(pid)
    retriever = bm25s.BM25()
    retriever.index([tokenize(w) for w in wins], show_progress=False)
    rng = random.Random(seed)
    held = set(rng.sample(sorted(corpus), len(corpus) // 10))
    train, heldout = [], []
    for q in map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8")):
        gold, answer = q["gold_ids"][0], q["answer"]
        right = [i for i, o in enumerate(owner) if o == gold and answer in wins[i]]
        if not right or not answer:
            continue
        ids, _ = retriever.retrieve([tokenize(q["q"])], k=min(30, len(wins)), show_progress=False)
        wrong = [int(i) for i in ids[0] if answer not in wins[int(i)]]
        sibling = [i for i in wrong if owner[i] == gold][:1]
        others = [i for i in wrong if owner[i] != gold]
        negs = (sibling + others)[:GROUP - 1]
        if len(negs) < GROUP - 1:
            continue
        item = (q["q"], [read[right[0]]] + [read[i] for i in negs])
        (heldout if gold in held else train).append(item)
    return train, heldout


def report_items(path: Path, seed: int, sources=("gov-figure", "gov-lead")) -> list:
    """(question, [paragraph, its mined negative, two others]) from make_training_data.py's output;
    for its zh-en pairs, (English sentence, [the Chinese one, its mined negative, two others])."""
    rows = [r for r in map(json.loads, path.open(encoding="utf-8")) if r["src"] in sources]
    if "zh-en" in sources:  # a reader's English is short: not the long official sentences
        rows = [r for r in rows if r["src"] != "zh-en" or 4 <= len(r["q"].split()) <= 24]
    rng = random.Random(seed)
    pool = [r["pos"] for r in rows]
    return [(r["q"], [r["pos"], r["neg"]] + rng.sample(pool, 2)) for r in rows]


def accuracy(model, head, tok, items: list, batch_items: int = 8) -> float:
    import torch

    model.eval()
    right = 0
    with torch.inference_mode():
        for i in range(0, len(items), batch_items):
            part = items[i:i + batch_items]
            s = score_items(model, head, tok, part).view(len(part), GROUP)
            right += int((s.argmax(1) == 0).sum())
    model.train()
    return right / max(1, len(items))


def score_items(model, head, tok, items: list):
    qs = [q for q, ps in items for _ in ps]
    ps = [p for _, ps in items for p in ps]
    enc = tok(qs, ps, truncation="only_second", max_length=MAX_TOKENS, padding=True, return_tensors="pt")
    return forward(model, head, enc)


@click.group()
def cli():
    pass


@cli.command()
@click.option("--cmrc", type=click.Path(path_type=Path), default=SHARED / "corpora/cmrc2018/train", show_default=True)
@click.option("--reports", type=click.Path(path_type=Path), help="make_training_data.py's train.jsonl.")
@click.option("--report-share", default=0.3, show_default=True, help="Share of the items from the reports.")
@click.option("--english-share", default=0.1, show_default=True,
              help="Share of the items from the zh-en pairs (English sentence, its Chinese).")
@click.option("--steps", default=2000, show_default=True)
@click.option("--items-per-step", default=4, show_default=True)
@click.option("--lr", default=5e-5, show_default=True)
@click.option("--seed", default=13, show_default=True)
@click.option("--heldout-n", default=400, show_default=True, help="Held-out questions measured.")
@click.option("--titles/--no-titles", default=True, show_default=True,
              help="CMRC windows read under their article's title, as kb reads them.")
@click.option("--trained", default=",".join(map(str, TRAINED)), show_default=True,
              help="The layers training changes (of the first LAYERS); the file ships these and the head.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
def train(cmrc, reports, report_share, english_share, steps, items_per_step, lr, seed, heldout_n, titles, trained,
          out):
    import torch
    from safetensors.torch import save_file

    from kb.provision import default_model_name, provision

    try:
        layers = sorted({int(i) for i in trained.split(",")})
    except ValueError:
        layers = []
    if not layers or layers[0] < 0 or layers[-1] >= LAYERS:
        raise click.BadParameter(f"layers 0-{LAYERS - 1}, comma-separated", param_hint="--trained")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    t0 = time.time()
    train, heldout = cmrc_items(cmrc, seed, titles)
    rng = random.Random(seed)
    rng.shuffle(train)
    rng.shuffle(heldout)
    heldout = heldout[:heldout_n]
    need = steps * items_per_step
    gov = report_items(reports, seed) if reports else []
    rng.shuffle(gov)
    n_gov = min(len(gov), int(need * report_share)) if gov else 0
    english = report_items(reports, seed, ("zh-en",)) if reports and english_share else []
    rng.shuffle(english)
    n_en = min(len(english), int(need * english_share))
    items = train[:need - n_gov - n_en] + gov[:n_gov] + english[:n_en]
    rng.shuffle(items)
    print(f"items: {len(items)} ({n_gov} from the reports, {n_en} English), CMRC held out {len(heldout)}; "
          f"prepared in {time.time() - t0:.0f} s", flush=True)

    model, head, tok = base_model(provision())
    for name, p in model.named_parameters():
        p.requires_grad = any(f"layer.{i}." in name for i in layers)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": params, "lr": lr}, {"params": head.parameters(), "lr": lr * 20}],
                            weight_decay=0.01)
    total = -(-len(items) // items_per_step)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / total))
    print(f"held-out accuracy before: {accuracy(model, head, tok, heldout):.3f}", flush=True)
    model.train()
    t1, losses = time.time(), []
    for step in range(total):
        part = items[step * items_per_step:(step + 1) * items_per_step]
        s = score_items(model, head, tok, part).view(len(part), GROUP)
        loss = torch.nn.functional.cross_entropy(s, torch.zeros(len(part), dtype=torch.long))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params + list(head.parameters()), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{total} loss {np.mean(losses[-100:]):.3f} {time.time() - t1:.0f} s", flush=True)
    print(f"held-out accuracy after: {accuracy(model, head, tok, heldout):.3f} "
          f"(training {time.time() - t1:.0f} s)", flush=True)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()
             if any(f"layer.{i}." in k for i in layers)}
    state.update({f"head.{k}": v.detach().half().contiguous() for k, v in head.state_dict().items()})
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata={"model": default_model_name(), "layers": str(LAYERS),
                                         "trained": ",".join(map(str, layers)), "seed": str(seed),
                                         "steps": str(total)})
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def sibling_halves(folder: Path, out: Path) -> tuple[Path, list[dict]]:
    """CMRC trial's paragraphs as two halves of one title, and the questions whose answer is in one."""
    import re

    out.mkdir(parents=True, exist_ok=True)
    halves = {}
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for d in map(json.loads, (folder / "corpus.jsonl").open(encoding="utf-8")):
            cuts = [m.end() for m in re.finditer(r"[。！？]", d["text"])]
            mid = min(cuts, key=lambda c: abs(c - len(d["text"]) / 2)) if cuts else 0
            if not 0 < mid < len(d["text"]):
                continue
            halves[d["id"]] = (d["text"][:mid], d["text"][mid:])
            for part, text in zip("ab", halves[d["id"]]):
                fh.write(json.dumps({"id": d["id"] + part, "title": d["title"], "text": text}, ensure_ascii=False) + "\n")
    questions = []
    for q in map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8")):
        a, b = halves.get(q["gold_ids"][0], ("", ""))
        if q["answer"] and (q["answer"] in a) != (q["answer"] in b):
            questions.append({"src": "sibling", "q": q["q"], "docs": (),
                              "gold": {q["gold_ids"][0] + ("a" if q["answer"] in a else "b")}})
    return out / "corpus.jsonl", questions


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True, help="make_training_data.py's output.")
@click.option("--work", type=click.Path(exists=True, path_type=Path), required=True,
              help="train_ranker.py prepare's folder (its indexes); the sibling index is built here too.")
@click.option("--per-source", default=150, show_default=True)
@click.option("--siblings", default=0, help="Only the first N sibling questions (0: all 936).")
@click.option("--seed", default=13, show_default=True)
@click.option("--reranker", type=click.Path(exists=True, path_type=Path), multiple=True,
              help="A trained file [default: the shipped one]; given twice or more, the mean of their readings "
              "(an ensemble, at that many times the cost).")
@click.option("--backend", type=click.Choice(["onnx", "torch"]), default="onnx", show_default=True,
              help="Read on ONNX Runtime (kb's default) or on torch.")
@click.option("--depth", default=0, help="Read this many first results (0: kb/rerank.py's DEPTH); each depth "
              "from 2 up to it is weighed on the same readings.")
def weigh(data, work, per_source, siblings, seed, reranker, backend, depth):
    """How many training-side questions the reading puts right at each weight of kb's score (and depth)."""
    from kb import rerank as R
    from kb import store
    from kb.build import build
    from kb.chunking import heading_of
    from kb.embedding import load_embedder
    from kb.scope import make_filters
    from kb.search import search

    sys.path.insert(0, str(Path(__file__).parent))
    import train_ranker as T

    corpus, questions = sibling_halves(SHARED / "corpora/cmrc2018/trial", work / "siblings")
    build(corpus, work / "idx-siblings")
    indexes = {**T._indexes(work), "siblings": store.load(work / "idx-siblings")}
    embedder = load_embedder(indexes["gov"].model_name)
    side = T._questions(data, indexes["gov"], indexes["cmrc"], random.Random(seed), per_source, indexes["archive"])
    questions = ([dict(q, index="siblings") for q in questions[:siblings or None]]
                 + [q for q in side if q["split"] == "heldout"])
    readers = [R.load_reranker(f, backend) for f in (reranker or (R.RERANKER_FILE,))]
    rows = []
    with click.progressbar(questions, label="reading") as bar:
        for q in bar:
            res = search(indexes[q["index"]], embedder, q["q"], depth or R.DEPTH,
                         filters=make_filters(doc=list(q["docs"])) if q["docs"] else make_filters())
            right = [(r.doc_id, r.paragraph) in q["gold"] or r.doc_id in q["gold"] for r in res]
            read = (np.mean([reader.paragraph_scores(q["q"], [r.text for r in res],
                                                     [heading_of(r.title, r.section) for r in res])
                             for reader in readers], axis=0) if len(res) > 1 else np.zeros(len(res)))
            rows.append((q["src"], right, [np.log(max(r.score, 1e-9)) for r in res], read))
    for d in range(2 if depth else R.DEPTH, (depth or R.DEPTH) + 1):
        for weight in (8, 16, 32, 48, 56, 64, 96, 128):
            gained = {}
            for src, right, logs, read in rows:
                if len(right) > 1:
                    pick = int(np.argmax([read[j] + weight * logs[j] for j in range(min(d, len(right)))]))
                    gained[src] = gained.get(src, 0) + int(right[pick]) - int(right[0])
            print(f"depth {d} weight {weight:>3}: {sum(gained.values()):+d} of {len(rows)}  " +
                  "  ".join(f"{s} {g:+d}" for s, g in sorted(gained.items())))


if __name__ == "__main__":
    cli()
