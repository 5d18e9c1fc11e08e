#!/usr/bin/env python3
"""A separate PyTorch (CPU) implementation of the reduced cluttered-MNIST protocol, replaying one
run of `deno task reproduce` from the same initial weights on the same batches, and comparing its
per-epoch validation figures with the run's JSON report.

Written from the protocol (the original train.py / model.py as described in ORIGINAL.md, and the
README's reproduction section), not from the TypeScript:

  input 40x40x1 (NHWC rows of 1600 pixels in 0..1)
  conv 3x3x16 "same" (+bias) -> batch norm -> relu -> pool 2x2/2
  conv 3x3x16 "same" (+bias) -> batch norm -> relu -> pool 2x2/2
  flatten (NHWC order) -> dense 1024 (+bias) -> batch norm -> relu -> dense 10 (no bias) = logits
  pool: k = 1 max pooling; k >= 2 sort pooling: the 4 values of each window ranked in descending
  order, the top k kept, y = sum_r softmax(logits)[r] * value_r (logits[0] weights the largest),
  one set of k logits per layer shared by all channels.
  batch norm: Keras/TF1 semantics, epsilon 1e-3; training mode normalises with the batch's mean
  and biased variance; moving = m * moving + (1 - m) * batch (m = 0.5 here; PyTorch's own
  "momentum" is 1 - m); the moving variance is fed the biased batch variance as Keras and TF1's
  non-fused layer do (--bn-var unbiased gives PyTorch's choice). Inference uses the moving stats.
  loss: softmax cross-entropy, mean over the batch; Adam lr 0.001, betas 0.9 / 0.999, eps 1e-8.
  Every epoch: train on the epoch's batches (the last partial batch included), then evaluate the
  whole test set in inference mode: mean cross-entropy and accuracy.

What is replayed from our run (exported by reproduce/replay_export.ts under --replay):
the initial weights (tfjs layouts, converted here), and every step's image indices. The images
are read here from the npz with NumPy and checked equal to the exported arrays; the batch order
is recomputed here from mulberry32(seed) + Fisher-Yates (the README's description) and checked
equal to the exported one.

--emulate-too also trains every pair with conv1's filter gradient summed over only the terms that the
CPU WebGPU adapter sums (LAVAPIPE_CONV1_TERMS below, see conv1-grad-diagnosis.json): the one fault
found in our run; with it this implementation reproduces our per-epoch figures.

Usage (Debian's python3-torch; one thread: the machine is shared):
  OMP_NUM_THREADS=1 nice -n 15 /usr/bin/python3 reproduce/independent/train_torch.py \
      --replay /tmp/replay --pairs finished --emulate-too --float64-pairs 1:0,2:0 \
      --ours reproduce/results/reduced-2000-images-5-epochs-seeds-0-2-truncated-conv1-grad.json \
      --out reproduce/independent/comparison-truncated-conv1-grad.json
  OMP_NUM_THREADS=1 nice -n 15 /usr/bin/python3 reproduce/independent/train_torch.py --pairs finished \
      --torch-from reproduce/independent/comparison-truncated-conv1-grad.json \
      --out reproduce/independent/comparison.json
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

IMAGE = 40
CLASSES = 10
BN_EPS = 1e-3


# ---------------------------------------------------------------- data and batch order

def load_npz(path, train_limit, test_limit):
    """X_train + X_valid (first train_limit) for training, X_test (first test_limit) for evaluation."""
    z = np.load(path)
    xtr = np.concatenate([z["X_train"], z["X_valid"]]).astype(np.float32)
    ytr = np.concatenate([z["y_train"], z["y_valid"]]).reshape(-1).astype(np.int64)
    xte = z["X_test"].astype(np.float32)
    yte = z["y_test"].reshape(-1).astype(np.int64)
    return xtr[:train_limit], ytr[:train_limit], xte[:test_limit], yte[:test_limit]


def mulberry32(seed):
    """The project's PRNG as documented (32-bit unsigned arithmetic)."""
    mask = 0xFFFFFFFF
    state = [seed & mask]

    def imul(a, b):
        return (a * b) & mask

    def rnd():
        state[0] = (state[0] + 0x6D2B79F5) & mask
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & mask
        return ((t ^ (t >> 14)) & mask) / 4294967296.0

    return rnd


def epoch_orders(n, epochs, seed):
    """Fisher-Yates from the end, j = floor(u * (i + 1)), one generator for the whole run."""
    rnd = mulberry32(seed)
    out = np.empty((epochs, n), dtype=np.int64)
    for e in range(epochs):
        idx = list(range(n))
        for i in range(n - 1, 0, -1):
            j = math.floor(rnd() * (i + 1))
            idx[i], idx[j] = idx[j], idx[i]
        out[e] = idx
    return out


# ---------------------------------------------------------------- model

def batch_norm(x, p, name, training, momentum, unbiased_var, dims):
    gamma, beta = p[f"{name}.gamma"], p[f"{name}.beta"]
    mm, mv = p[f"{name}.moving_mean"], p[f"{name}.moving_variance"]
    shape = [1] * x.dim()
    shape[1] = -1
    if training:
        mean = x.mean(dim=dims)
        var = ((x - mean.reshape(shape)) ** 2).mean(dim=dims)
        with torch.no_grad():
            n = x.numel() // x.shape[1]
            fed = var * (n / (n - 1)) if unbiased_var else var
            mm.mul_(momentum).add_((1 - momentum) * mean)
            mv.mul_(momentum).add_((1 - momentum) * fed)
    else:
        mean, var = mm, mv
    return (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + BN_EPS) * gamma.reshape(shape) + beta.reshape(
        shape)


def pool(x, k, logits):
    """x: NCHW, H and W even (40 and 20 here, so "same" adds no padding)."""
    b, c, h, w = x.shape
    assert h % 2 == 0 and w % 2 == 0
    if k == 1:
        return F.max_pool2d(x, 2, 2)
    win = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(b, c, h // 2, w // 2, 4)
    top = torch.topk(win, k, dim=-1, largest=True, sorted=True).values  # descending: rank 0 = largest
    return (top * torch.softmax(logits, dim=0)).sum(dim=-1)


def forward(p, x, k, training, momentum, unbiased_var, taps=None):
    """x: [n, 1600] -> logits [n, 10]. `taps`, when given, receives conv1's output (its gradient retained)."""
    h = x.reshape(-1, 1, IMAGE, IMAGE)
    for i in (1, 2):
        h = F.conv2d(h, p[f"conv{i}.kernel"], p[f"conv{i}.bias"], stride=1, padding=1)
        if i == 1 and taps is not None:
            h.retain_grad()
            taps["conv1"] = h
        h = F.relu(batch_norm(h, p, f"bn{i}", training, momentum, unbiased_var, dims=(0, 2, 3)))
        h = pool(h, k, p.get(f"pool{i}.logits"))
    h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)  # flatten in NHWC order, as the exported dense kernel expects
    h = h @ p["fc1.kernel"] + p["fc1.bias"]
    h = F.relu(batch_norm(h, p, "bn3", training, momentum, unbiased_var, dims=(0,)))
    return h @ p["logits.kernel"]


# Terms of the conv1 filter gradient that tfjs-backend-webgpu's Conv2DDerFilterProgram sums on the
# CPU WebGPU adapter (Mesa lavapipe) for a [B, 40, 40, 1] input and 3x3 "same" filters, per window
# offset (row, column) 0..8, for every B >= 40 and every filter: measured with all-ones x and dy by
# `deno run -A reproduce/probe_conv_filter_grad.ts --counts` (a correct kernel sums B*39*39,
# B*39*40 or B*40*40 terms). The shader's three nested loops (image, row, column) stop after about
# 65,535 iterations in all, consistent with Mesa gallivm's loop limiter (LP_MAX_TGSI_LOOP_ITERATIONS
# = 65535, shared between every loop of a shader); the terms kept are the first ones in
# (image, row, column) order, i.e. about the first 38 to 40 images of the batch.
LAVAPIPE_CONV1_TERMS = [60672, 62228, 60673, 60749, 62307, 60750, 60674, 62230, 60675]


def truncated_conv1_grad(x, dy, terms=LAVAPIPE_CONV1_TERMS):
    """conv1's filter gradient [16, 1, 3, 3] summed over only the first terms[offset] valid
    (image, row, column) positions, as the adapter computes it. x: [B, 1600]; dy: [B, 16, 40, 40]."""
    b = x.shape[0]
    xp = F.pad(x.reshape(b, IMAGE, IMAGE), (1, 1, 1, 1))
    grad = torch.zeros(dy.shape[1], 1, 3, 3, dtype=dy.dtype)
    idx = torch.arange(IMAGE)
    for r in range(3):
        for c in range(3):
            rows_ok = ((idx + r - 1 >= 0) & (idx + r - 1 < IMAGE))
            cols_ok = ((idx + c - 1 >= 0) & (idx + c - 1 < IMAGE))
            valid = (rows_ok[:, None] & cols_ok[None, :]).expand(b, IMAGE, IMAGE).reshape(-1)
            order = torch.cumsum(valid.to(torch.int64), 0)
            keep = (valid & (order <= terms[3 * r + c])).reshape(b, IMAGE, IMAGE).to(dy.dtype)
            xs = xp[:, r:r + IMAGE, c:c + IMAGE] * keep
            grad[:, 0, r, c] = torch.einsum("byx,bfyx->f", xs, dy)
    return grad


def load_initial(kdir, dtype):
    """Initial weights from the export, tfjs layouts converted to PyTorch's."""
    manifest = json.load(open(os.path.join(kdir, "manifest.json")))
    params, buffers = {}, {}
    for w in manifest["weights"]:
        layer, role = w["name"].split("/")
        role = role.rsplit("_", 1)[0] if role.rsplit("_", 1)[-1].isdigit() else role
        a = np.load(os.path.join(kdir, w["file"]))
        assert list(a.shape) == w["shape"], (w, a.shape)
        if layer.startswith("conv") and role == "kernel":
            a = a.transpose(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
        t = torch.tensor(np.ascontiguousarray(a), dtype=dtype)
        key = f"{layer}.{role}"
        if w["trainable"]:
            params[key] = t.requires_grad_(True)
        else:
            buffers[key] = t
    return manifest, params, buffers


def check_initial(manifest, params, buffers):
    """Independent checks of the initialisers: Glorot-uniform kernels, zero biases, BN 1/0/0/1, pool logits N(0, 0.1)."""
    notes = []
    fans = {"conv1.kernel": (9 * 1, 9 * 16), "conv2.kernel": (9 * 16, 9 * 16), "fc1.kernel": (1600, 1024),
            "logits.kernel": (1024, 10)}
    for key, (fi, fo) in fans.items():
        t = params[key].detach().double()
        limit = math.sqrt(6 / (fi + fo))
        ok = float(t.abs().max()) <= limit + 1e-6
        ratio = float(t.std() / (limit / math.sqrt(3)))
        notes.append(f"{key}: |w| <= glorot limit {limit:.4f}: {ok}; std / uniform std = {ratio:.3f}")
        assert ok
    for key in ("conv1.bias", "conv2.bias", "fc1.bias", "bn1.beta", "bn2.beta", "bn3.beta"):
        assert float(params[key].abs().max()) == 0, key
    for key in ("bn1.gamma", "bn2.gamma", "bn3.gamma"):
        assert float((params[key] - 1).abs().max()) == 0, key
    for i in (1, 2, 3):
        assert float(buffers[f"bn{i}.moving_mean"].abs().max()) == 0
        assert float((buffers[f"bn{i}.moving_variance"] - 1).abs().max()) == 0
    logits = [params[f"pool{i}.logits"].detach().tolist() for i in (1, 2) if f"pool{i}.logits" in params]
    if logits:
        notes.append(f"pool logits (N(0, 0.1) expected): {logits}")
    assert "logits.bias" not in params
    return notes


# ---------------------------------------------------------------- training

@torch.no_grad()
def evaluate(p, k, xte, yte, momentum, dtype):
    ce_sum, correct = 0.0, 0
    for s in range(0, len(xte), 500):
        x = torch.tensor(xte[s:s + 500], dtype=dtype)
        y = torch.tensor(yte[s:s + 500])
        logits = forward(p, x, k, False, momentum, False)
        ce_sum += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    return ce_sum / len(xte), correct / len(xte)


def train_pair(replay, seed, k, data, dtype, unbiased_var, emulate_loop_limit=False):
    xtr, ytr, xte, yte = data
    kdir = os.path.join(replay, f"seed{seed}", f"k{k}")
    manifest, params, buffers = load_initial(kdir, dtype)
    proto = manifest["protocol"]
    momentum = proto["bnMomentum"]
    notes = check_initial(manifest, params, buffers)
    batches = np.load(os.path.join(replay, f"seed{seed}", "batches.npy"))
    steps_per_epoch = math.ceil(proto["trainImages"] / proto["batchSize"])
    assert batches.shape[0] == proto["epochs"] * steps_per_epoch
    p = {**params, **buffers}
    opt = torch.optim.Adam(list(params.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    out = {"valCrossEntropy": [], "valAccuracy": [], "trainLoss": [], "stepLoss": []}
    t0 = time.time()
    for e in range(proto["epochs"]):
        loss_sum = 0.0
        for s in range(steps_per_epoch):
            rows = batches[e * steps_per_epoch + s]
            rows = rows[rows >= 0]
            x = torch.tensor(xtr[rows], dtype=dtype)
            y = torch.tensor(ytr[rows])
            opt.zero_grad(set_to_none=True)
            taps = {} if emulate_loop_limit else None
            loss = F.cross_entropy(forward(p, x, k, True, momentum, unbiased_var, taps), y)
            loss.backward()
            if emulate_loop_limit:
                params["conv1.kernel"].grad = truncated_conv1_grad(x, taps["conv1"].grad)
            opt.step()
            loss_sum += float(loss)
            out["stepLoss"].append(float(loss))
        ce, acc = evaluate(p, k, xte, yte, momentum, dtype)
        out["trainLoss"].append(loss_sum / steps_per_epoch)
        out["valCrossEntropy"].append(ce)
        out["valAccuracy"].append(acc)
        tag = str(dtype).replace("torch.", "") + (", conv1 grad truncated as lavapipe" if emulate_loop_limit else "")
        print(f"  seed {seed} k={k} {tag} epoch {e + 1}: train loss "
              f"{out['trainLoss'][-1]:.4f}  val CE {ce:.4f}  val acc {100 * acc:.1f} %", flush=True)
    out["finalWeights"] = [torch.softmax(params[f"pool{i}.logits"].detach(), 0).tolist()
                           for i in (1, 2) if f"pool{i}.logits" in params]
    out["wallSeconds"] = time.time() - t0
    out["initChecks"] = notes
    return out


# ---------------------------------------------------------------- comparison

def ours_run(report, k, seed):
    for r in report["runs"]:
        if r["k"] == k and r["seed"] == seed:
            return r
    return None


def diffs(a, b):
    return [abs(x - y) for x, y in zip(a, b)]


def compare(a, b):
    """Per-epoch |a - b| of the validation figures and training loss, and of the best val CE."""
    return {
        "valCrossEntropy": diffs(a["valCrossEntropy"], b["valCrossEntropy"]),
        "valAccuracy": diffs(a["valAccuracy"], b["valAccuracy"]),
        "trainLoss": diffs(a["trainLoss"], b["trainLoss"]),
        "bestValCrossEntropy": abs(min(a["valCrossEntropy"]) - min(b["valCrossEntropy"])),
    }


def summary_of(runs):
    """runs: [{k, seed, bestValCrossEntropy}]. Per k: mean and sd (n - 1) of best val CE over seeds;
    per k > 1: the paired difference to k = 1 per seed (negative: k beats max pooling)."""
    ks = sorted({r["k"] for r in runs})
    by_k = {}
    for k in ks:
        vals = {r["seed"]: r["bestValCrossEntropy"] for r in runs if r["k"] == k}
        v = np.array([vals[s] for s in sorted(vals)])
        by_k[k] = {"seeds": sorted(vals), "values": v.tolist(), "n": len(v),
                   "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None}
    k1 = {r["seed"]: r["bestValCrossEntropy"] for r in runs if r["k"] == 1}
    paired = {}
    for k in ks:
        if k == 1:
            continue
        per = {r["seed"]: r["bestValCrossEntropy"] - k1[r["seed"]] for r in runs if r["k"] == k and r["seed"] in k1}
        d = np.array([per[s] for s in sorted(per)])
        paired[k] = {"perSeed": {str(s): per[s] for s in sorted(per)}, "n": len(d),
                     "mean": float(d.mean()) if len(d) else None,
                     "sd": float(d.std(ddof=1)) if len(d) > 1 else None,
                     "wins": int((d < 0).sum())}
    return {"byK": by_k, "pairedToK1": paired}


def summary_from_ours(report):
    return summary_of(report["runs"])


def summary_from_torch(results, variant):
    return summary_of([{"k": r["k"], "seed": r["seed"], "bestValCrossEntropy": min(r[variant]["valCrossEntropy"])}
                       for r in results if variant in r])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replay", default="/tmp/replay")
    ap.add_argument("--ours", default="reproduce/results/reduced-2000-images-5-epochs-seeds-0-2.json")
    ap.add_argument("--data", default="data/mnist_sequence1_sample_5distortions5x5.npz")
    ap.add_argument("--pairs", default="finished",
                    help='"finished" (every (k, seed) in --ours with a replay export) or K:SEED,K:SEED')
    ap.add_argument("--float64-too", action="store_true",
                    help="also train each pair in float64 (the size of float32 rounding's effect)")
    ap.add_argument("--float64-pairs", default="", help="K:SEED,... trained in float64 too")
    ap.add_argument("--emulate-too", action="store_true",
                    help="also train each pair with conv1's filter gradient truncated as the lavapipe adapter "
                         "computes it (LAVAPIPE_CONV1_TERMS)")
    ap.add_argument("--bn-var", choices=["biased", "unbiased"], default="biased")
    ap.add_argument("--out", default="reproduce/independent/comparison.json")
    ap.add_argument("--skip-done", action="store_true", help="keep pairs already in --out with the same ours values")
    ap.add_argument("--torch-from", default="",
                    help="take each pair's PyTorch trainings from this earlier comparison file instead of training "
                         "again (they depend only on the replay export, not on our run's figures); pairs missing "
                         "there are trained")
    args = ap.parse_args()

    report = json.load(open(args.ours))
    proto = report["config"]
    data = load_npz(args.data, proto["trainImages"], proto["testImages"])
    for name, arr in zip(("train_x", "train_y", "test_x", "test_y"), data):
        exported = np.load(os.path.join(args.replay, "data", f"{name}.npy"))
        assert np.array_equal(exported.astype(arr.dtype), arr), f"exported {name} differs from the npz's"
    print(f"data: npz read here == exported arrays (train {len(data[0])}, test {len(data[2])})")

    if args.pairs == "finished":
        pairs = [(r["k"], r["seed"]) for r in report["runs"]
                 if os.path.isdir(os.path.join(args.replay, f"seed{r['seed']}", f"k{r['k']}"))]
    else:
        pairs = [tuple(int(v) for v in item.split(":")) for item in args.pairs.split(",")]

    float64_pairs = {tuple(int(v) for v in item.split(":")) for item in args.float64_pairs.split(",") if item}
    previous = {}
    if args.skip_done and os.path.exists(args.out):
        for c in json.load(open(args.out)).get("pairs", []):
            previous[(c["k"], c["seed"])] = c

    reused = {}
    if args.torch_from:
        earlier = json.load(open(args.torch_from))
        keys = ("epochs", "trainImages", "testImages", "batchSize", "bnMomentum")
        for key in keys:
            assert earlier["oursConfig"].get(key) == proto.get(key), \
                f"--torch-from: {key} {earlier['oursConfig'].get(key)} in {args.torch_from}, {proto.get(key)} here"
        for c in earlier.get("pairs", []):
            reused[(c["k"], c["seed"])] = c

    checked_orders = set()
    results = []
    for k, seed in pairs:
        ours = ours_run(report, k, seed)
        if ours is None:
            print(f"seed {seed} k={k}: not finished in {args.ours}; skipped")
            continue
        prev = previous.get((k, seed))
        if prev and prev["ours"]["valCrossEntropy"] == ours["valCrossEntropy"] and (
                not args.emulate_too or "torchLavapipeConv1" in prev) and (
                not (args.float64_too or (k, seed) in float64_pairs) or "torch64" in prev):
            print(f"seed {seed} k={k}: kept from {args.out}")
            results.append(prev)
            continue
        if seed not in checked_orders:
            exported = np.load(os.path.join(args.replay, f"seed{seed}", "order.npy"))
            mine = epoch_orders(proto["trainImages"], proto["epochs"], seed)
            assert np.array_equal(exported, mine), f"seed {seed}: batch order differs from mulberry32 + Fisher-Yates"
            print(f"seed {seed}: exported batch order == mulberry32({seed}) + Fisher-Yates recomputed here")
            checked_orders.add(seed)
        unbiased = args.bn_var == "unbiased"
        old = reused.get((k, seed))
        if old:
            print(f"seed {seed} k={k}: PyTorch trainings taken from {args.torch_from}", flush=True)
            t32 = old["torch"]
        else:
            print(f"seed {seed} k={k}: training (float32, BN moving variance {args.bn_var})", flush=True)
            t32 = train_pair(args.replay, seed, k, data, torch.float32, unbiased)
        entry = {
            "k": k, "seed": seed,
            "ours": {key: ours[key] for key in ("valCrossEntropy", "valAccuracy", "trainLoss", "finalWeights",
                                                "bestValCrossEntropy", "bestEpoch", "wallSeconds")},
            "torch": t32,
            "absDiff": compare(ours, t32),
        }
        if old and "torchLavapipeConv1" in old:
            entry["torchLavapipeConv1"] = old["torchLavapipeConv1"]
            entry["absDiffLavapipeConv1"] = compare(ours, old["torchLavapipeConv1"])
        elif args.emulate_too:
            tl = train_pair(args.replay, seed, k, data, torch.float32, unbiased, emulate_loop_limit=True)
            entry["torchLavapipeConv1"] = tl
            entry["absDiffLavapipeConv1"] = compare(ours, tl)
        if old and "torch64" in old:
            entry["torch64"] = old["torch64"]
            entry["absDiffTorch32VsTorch64"] = old["absDiffTorch32VsTorch64"]
        elif args.float64_too or (k, seed) in float64_pairs:
            t64 = train_pair(args.replay, seed, k, data, torch.float64, unbiased)
            entry["torch64"] = t64
            entry["absDiffTorch32VsTorch64"] = compare(t32, t64)
        results.append(entry)
        write(args, report, results, previous)
    write(args, report, results, previous)
    print_table(results)
    print_summary(summary_from_ours(report), "ours (JSON)")
    print_summary(summary_from_torch(results, "torch"), "torch")
    if any("torchLavapipeConv1" in r for r in results):
        print_summary(summary_from_torch(results, "torchLavapipeConv1"), "torch, conv1 gradient truncated")


def write(args, report, results, previous):
    done = {(r["k"], r["seed"]) for r in results}
    kept = [c for key, c in previous.items() if key not in done]
    allp = sorted(results + kept, key=lambda r: (r["seed"], r["k"]))
    doc = {
        "what": "per (k, seed): our run's per-epoch validation figures (tfjs, webgpu) next to a separate PyTorch "
                "CPU implementation replaying the same initial weights and batches (reproduce/independent)",
        "ours": args.ours,
        "torchFrom": args.torch_from or None,
        "oursConfig": {key: report["config"].get(key) for key in ("epochs", "trainImages", "testImages", "batchSize",
                                                                   "bnMomentum", "backend",
                                                                   "convFilterGradient")},
        "oursEnvironment": report.get("environment"),
        "variants": {
            "ours": "the run's JSON (tfjs 4.22 webgpu backend on Mesa lavapipe; conv2d filter gradient: "
                    f"{report['config'].get('convFilterGradient', 'stock')}, see oursConfig)",
            "torch": "this implementation, float32, the protocol as written",
            "torchLavapipeConv1": "the same with conv1's filter gradient summed over only the terms the lavapipe "
                                  "adapter sums (LAVAPIPE_CONV1_TERMS; conv1-grad-diagnosis.json)",
            "torch64": "this implementation in float64 (float32 rounding's effect: absDiffTorch32VsTorch64)",
        },
        "torch": {"version": torch.__version__, "threads": torch.get_num_threads(), "bnMovingVariance": args.bn_var,
                  "device": "cpu"},
        "pairs": allp,
        "summaryFromOurJson": summary_from_ours(report),
        "summaryFromTorch": summary_from_torch(allp, "torch"),
        "summaryFromTorchLavapipeConv1": summary_from_torch(allp, "torchLavapipeConv1"),
    }
    tmp = args.out + ".partial"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)


def print_table(results):
    print()
    print("val CE per epoch: ours (tfjs webgpu/lavapipe), torch (this implementation, float32), torch with conv1's "
          "filter gradient truncated as lavapipe does, torch float64")
    print("| seed | k | epoch | ours CE | torch CE | diff | torch+trunc CE | diff | torch64 CE | ours acc | torch acc "
          "| torch+trunc acc |")
    print("| ---- | - | ----- | ------- | -------- | ---- | -------------- | ---- | ---------- | -------- | --------- "
          "| --------------- |")
    for r in sorted(results, key=lambda r: (r["seed"], r["k"])):
        o, t = r["ours"], r["torch"]
        tl, t64 = r.get("torchLavapipeConv1"), r.get("torch64")
        for e in range(len(o["valCrossEntropy"])):
            oc = o["valCrossEntropy"][e]
            tlc = f"{tl['valCrossEntropy'][e]:.4f} | {tl['valCrossEntropy'][e] - oc:+.4f}" if tl else " | "
            t64c = f"{t64['valCrossEntropy'][e]:.4f}" if t64 else ""
            tla = f"{100 * tl['valAccuracy'][e]:.1f} %" if tl else ""
            print(f"| {r['seed']} | {r['k']} | {e + 1} | {oc:.4f} | {t['valCrossEntropy'][e]:.4f} | "
                  f"{t['valCrossEntropy'][e] - oc:+.4f} | {tlc} | {t64c} | {100 * o['valAccuracy'][e]:.1f} % | "
                  f"{100 * t['valAccuracy'][e]:.1f} % | {tla} |")


def print_summary(s, title):
    print()
    print(f"{title}: best val CE per k over finished seeds (mean, sd with n - 1):")
    for k, v in s["byK"].items():
        sd = f"{v['sd']:.4f}" if v["sd"] is not None else "n/a"
        print(f"  k={k}: mean {v['mean']:.4f} sd {sd} (n={v['n']}; seeds {v['seeds']}: "
              f"{', '.join(f'{x:.4f}' for x in v['values'])})")
    print(f"{title}: paired difference best val CE(k) - best val CE(k=1), per seed:")
    for k, v in s["pairedToK1"].items():
        per = ", ".join(f"seed {sd}: {d:+.4f}" for sd, d in v["perSeed"].items())
        mean = f"{v['mean']:+.4f}" if v["mean"] is not None else "n/a"
        sd = f"{v['sd']:.4f}" if v["sd"] is not None else "n/a"
        print(f"  k={k}: {per}; mean {mean} sd {sd}; k beats k=1 in {v['wins']} of {v['n']}")


if __name__ == "__main__":
    sys.exit(main())
