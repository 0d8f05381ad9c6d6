"""Learn which matrices of the model stay in float32 when kb exports it to int8 ONNX.

Quantizing every matrix product moves some vectors by a cosine of 0.02 or more; most of that comes
from a few matrices (the second matrix of a feed-forward block reads GELU's outliers). This script
measures it on text the model never answers questions about in any evaluation: paragraphs and
question-like sentence openings of the government reports in ../shared/corpora/gov-reports (the
training library), never the bundled report, seed_dev, CMRC or DRCD.

1. Export the model in float32 (kb/onnx_export.py) and embed the calibration texts: the reference.
2. Quantize one group at a time (each layer's second feed-forward matrix, and all layers' first
   feed-forward, query/key/value and attention-output matrices as three groups) and measure how far
   that alone moves the vectors (1 - mean cosine).
3. Keep in float32 the groups that move them most for the work they do (cost per weight: a group that
   is a third of the model's multiplications pays back its speed-up), one by one, until the whole
   model, quantized except those, keeps the mean cosine ≥ 0.995 and the 1st percentile ≥ 0.99.

Writes kb/weights/int8-plan.json (`keep_float`: parts of ONNX node names), read by kb/onnx_export.py.

    python scripts/quantization_plan.py [--texts 400] [--cache /tmp/qplan-costs.json]   # ~25 min on 2 cores
"""
from __future__ import annotations

import json
import random
import re
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import onnx_export  # noqa: E402
from kb.embedding import OnnxEncoder  # noqa: E402
from kb.provision import provision  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "gov-reports"


def calibration_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    paragraphs = [p.strip() for f in sorted(CORPUS.glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n") if len(p.strip()) >= 40]
    picked = rng.sample(paragraphs, n)
    half = n // 2
    passages = ["passage: " + p[:600] for p in picked[:half]]
    queries = ["query: " + re.split(r"[，。；]", p)[0][:30] for p in picked[half:]]
    return passages + queries


def groups(matmuls: list[str]) -> dict[str, list[str]]:
    """Name part → nodes. Each layer's second feed-forward matrix is its own group."""
    out = {}
    for layer in range(12):
        part = f"layer.{layer}/output/dense/MatMul"
        out[part] = [n for n in matmuls if part in n]
    for part in ("intermediate/dense/MatMul", "attention/output/dense/MatMul", "attention/self/query/MatMul",
                 "attention/self/key/MatMul", "attention/self/value/MatMul"):
        out[part] = [n for n in matmuls if part in n]
    return {k: v for k, v in out.items() if v}


@click.command()
@click.option("--texts", "n", default=400, show_default=True, help="Calibration texts from the training reports.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=onnx_export.PLAN_FILE, show_default=True)
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="Keep the per-group costs here and reuse them on the next run.")
def main(n, out_path, cache):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model_dir = provision()
    texts = calibration_texts(n)
    work = Path(tempfile.mkdtemp(prefix="kb-qplan-"))
    onnx_export.export_float(model_dir, work / "float.onnx")

    def embed(path):
        return OnnxEncoder(model_dir, path).encode(texts, 32)

    reference = embed(work / "float.onnx")
    nodes = [x.name for x in onnx.load(str(work / "float.onnx"), load_external_data=False).graph.node
             if x.op_type == "MatMul"]
    parts = groups(nodes)

    def quantized(keep: list[str]) -> np.ndarray:
        quantize_dynamic(str(work / "float.onnx"), str(work / "q.onnx"), op_types_to_quantize=["MatMul", "Gather"],
                         per_channel=True, weight_type=QuantType.QInt8,
                         nodes_to_exclude=[x for x in nodes if any(k in x for k in keep)])
        cos = (embed(work / "q.onnx") * reference).sum(1)
        return cos

    every = list(parts)
    cost = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    for part in every:  # only this group quantized
        if part not in cost:
            cos = quantized([p for p in every if p != part])
            cost[part] = float(1 - cos.mean())
        print(f"  {part:40s} alone: 1 - mean cosine {cost[part]:.5f}", flush=True)
        if cache:
            cache.write_text(json.dumps(cost, indent=1))
    graph = onnx.load(str(work / "float.onnx"))
    weights = {init.name: int(np.prod(init.dims)) for init in graph.graph.initializer}
    size = {part: sum(weights.get(inp, 0) for x in graph.graph.node if x.name in parts[part] for inp in x.input)
            for part in every}
    keep: list[str] = []
    history = []
    for part in [None] + sorted(every, key=lambda p: -cost[p] / max(size[p], 1)):
        if part:
            keep.append(part)
        cos = quantized(keep)
        history.append({"keep_float": list(keep), "mean_cosine": round(float(cos.mean()), 5),
                        "p1_cosine": round(float(np.percentile(cos, 1)), 5), "min_cosine": round(float(cos.min()), 5)})
        print(f"keep {len(keep):2d} groups: mean {cos.mean():.5f}  p1 {np.percentile(cos, 1):.5f}  min {cos.min():.5f}",
              flush=True)
        if cos.mean() >= 0.995 and np.percentile(cos, 1) >= 0.99:
            break
    out_path.write_text(json.dumps({
        "keep_float": keep,
        "made_by": "scripts/quantization_plan.py",
        "calibration": f"{n} texts from {CORPUS.name} (half passages, half question-like openings)",
        "cost_alone": {k: round(v, 5) for k, v in cost.items()},
        "weights": size,
        "steps": history,
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out_path}: keep {keep} in float32")


if __name__ == "__main__":
    main()
