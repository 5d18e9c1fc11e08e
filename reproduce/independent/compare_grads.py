#!/usr/bin/env python3
"""Compares the first training step's loss and gradients written by reproduce/replay_grads.ts (our
model, one tfjs backend per directory) with this directory's PyTorch implementation in float64
and float32: per trainable weight, the relative error ||g - g64|| / ||g64|| and the largest
absolute difference, and the batch norm moving statistics after that step.

  OMP_NUM_THREADS=1 nice -n 15 python3 reproduce/independent/compare_grads.py \
      --seed 0 --k 1 /tmp/replay/grads-cpu-s0-k1 /tmp/replay/grads-webgpu-s0-k1
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the working tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as tt  # noqa: E402


def torch_grads(replay, seed, k, data, dtype, rows):
    kdir = os.path.join(replay, f"seed{seed}", f"k{k}")
    manifest, params, buffers = tt.load_initial(kdir, dtype)
    p = {**params, **buffers}
    x = torch.tensor(data[0][rows], dtype=dtype)
    y = torch.tensor(data[1][rows])
    loss = F.cross_entropy(tt.forward(p, x, k, True, manifest["protocol"]["bnMomentum"], False), y)
    loss.backward()
    grads = {}
    for key, t in params.items():
        g = t.grad.detach().double().numpy()
        if key.startswith("conv") and key.endswith(".kernel"):
            g = g.transpose(2, 3, 1, 0)  # back to tfjs's [kh, kw, in, out]
        grads[key] = g
    moving = {key: t.double().numpy() for key, t in buffers.items()}
    return float(loss), grads, moving


def key_of(name):
    layer, role = name.split("/")
    parts = role.rsplit("_", 1)
    return f"{layer}.{parts[0] if parts[-1].isdigit() else role}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="directories written by reproduce/replay_grads.ts")
    ap.add_argument("--replay", default="/tmp/replay")
    ap.add_argument("--data", default="data/mnist_sequence1_sample_5distortions5x5.npz")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--json", help="write the table as JSON here")
    args = ap.parse_args()
    data = tt.load_npz(args.data, 2000, 1000)
    rows = np.load(os.path.join(args.replay, f"seed{args.seed}", "batches.npy"))[0]
    rows = rows[rows >= 0]
    l64, g64, m64 = torch_grads(args.replay, args.seed, args.k, data, torch.float64, rows)
    l32, g32, m32 = torch_grads(args.replay, args.seed, args.k, data, torch.float32, rows)
    subjects = {"torch-float32": (l32, g32, m32)}
    for d in args.dirs:
        meta = json.load(open(os.path.join(d, "grads.json")))
        assert meta["rows"] == rows.tolist(), f"{d}: another batch"
        grads = {key_of(e["name"]): np.load(os.path.join(d, e["file"])).astype(np.float64) for e in meta["grads"]}
        moving = {key_of(n): np.array(v) for n, v in meta["moving"].items()}
        subjects[f"tfjs-{meta['backend']} ({os.path.basename(d)})"] = (meta["loss"], grads, moving)
    table = {}
    print(f"step-1 loss: torch float64 {l64:.7f}")
    for name, (loss, grads, moving) in subjects.items():
        print(f"\n{name}: loss {loss:.7f} (|diff| to float64 {abs(loss - l64):.2e})")
        print(f"  {'weight':<16} {'rel. error':>11} {'max |diff|':>11} {'max |g64|':>11}")
        rowsout = {}
        for key in g64:
            ref, g = g64[key], grads[key]
            assert ref.shape == g.shape, (name, key, ref.shape, g.shape)
            rel = float(np.linalg.norm(g - ref) / max(np.linalg.norm(ref), 1e-300))
            mad = float(np.abs(g - ref).max())
            rowsout[key] = {"relError": rel, "maxAbsDiff": mad, "maxAbsRef": float(np.abs(ref).max())}
            print(f"  {key:<16} {rel:11.2e} {mad:11.2e} {float(np.abs(ref).max()):11.2e}")
        for key in m64:
            mad = float(np.abs(moving[key] - m64[key]).max())
            rowsout[key] = {"maxAbsDiff": mad}
            print(f"  {key:<24} max |diff| {mad:.2e}")
        table[name] = {"loss": loss, "lossAbsDiff": abs(loss - l64), "weights": rowsout}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "k": args.k, "torchFloat64Loss": l64, "subjects": table}, f, indent=2)


if __name__ == "__main__":
    main()
