#!/usr/bin/env python3
"""sort_pool2d in NumPy: an example port for the sortpool conformance kit, written from SPEC.md.

Run it under the kit (Debian's python3-numpy; any NumPy >= 1.20 works):

    deno task conformance -- /usr/bin/python3 conformance/ports/numpy_port.py
    deno task conformance --precision float64 -- /usr/bin/python3 conformance/ports/numpy_port.py --precision float64

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout (conformance/README.md).
Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0". Diagnostics go to stderr.

The arithmetic is vectorised over all windows: each window's 4 cells get a rank by counting the cells that
rank before them under SPEC §4's strict total order, then values are gathered in rank order.

Options:
    --precision float32|float64   arithmetic of x, dy and the outputs (weights are always computed in
                                  float64 from the logits, then rounded: SPEC §5; at float32 a weight
                                  below 2^-126 becomes +0)
    --weights-order largest-first|smallest-first
                                  smallest-first takes logits (and returns dLogits) in the original
                                  TensorFlow code's order, where the last logit weights the largest value
"""

import argparse
import json
import math
import sys

import numpy as np


class ArgumentError(ValueError):
    """An input SPEC §6 rejects; answered as {"id", "error"}."""

    def __init__(self, argument, expected, received):
        super().__init__(f"sort_pool2d: {argument}: expected {expected}, received {received}")


SPECIALS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def decode_number(v, what):
    if isinstance(v, bool):
        raise ArgumentError(what, "a number", json.dumps(v))
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v in SPECIALS:
        return SPECIALS[v]
    raise ArgumentError(what, 'a number or "NaN", "Infinity", "-Infinity", "-0"', json.dumps(v)[:40])


def decode_array(v, what, length):
    if not isinstance(v, list):
        raise ArgumentError(what, f"an array of {length} numbers", json.dumps(v)[:40])
    if len(v) != length:
        raise ArgumentError(what, f"length {length}", f"length {len(v)}")
    return [decode_number(e, f"{what}[{i}]") for i, e in enumerate(v)]


def encode_number(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0 and math.copysign(1.0, v) < 0:
        return "-0"
    return v


def as_integer(v):
    """v as an int when it is an integral JSON number (not a bool), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def parse_case(req):
    """Validates a request (SPEC §6); returns (x, shape, logits, k, padding) with x a float64 ndarray."""
    shape = req.get("shape")
    if not isinstance(shape, list) or len(shape) != 4:
        raise ArgumentError("shape", "rank 4 [batch, height, width, channels]", json.dumps(shape)[:40])
    dims = []
    for i, d in enumerate(shape):
        n = as_integer(d)
        if n is None or n < 1:
            axis = ["batch", "height", "width", "channels"][i]
            raise ArgumentError(f"shape[{i}] ({axis})", "a positive integer", json.dumps(d))
        dims.append(n)
    k = as_integer(req.get("k"))
    if k is None or not 1 <= k <= 4:
        raise ArgumentError("k", "an integer in 1..4", json.dumps(req.get("k")))
    padding = req.get("padding")
    if padding not in ("same", "valid"):
        raise ArgumentError("padding", 'one of "same", "valid"', json.dumps(padding))
    logits = decode_array(req.get("logits"), "logits", k)
    b, h, w, c = dims
    x = np.array(decode_array(req.get("x"), "x", b * h * w * c), dtype=np.float64).reshape(dims)
    if padding == "valid" and (h < 2 or w < 2):
        raise ArgumentError("shape", 'height >= 2 and width >= 2 with padding "valid"', json.dumps(dims))
    return x, dims, logits, k, padding


def softmax_weights(logits):
    """SPEC §5: softmax as its limit, in float64: e_j = 1 where logits[j] is the maximum, else exp(l_j - max)."""
    if any(math.isnan(v) for v in logits):
        return [math.nan] * len(logits)
    m = max(logits)
    e = [1.0 if v == m else math.exp(v - m) for v in logits]
    total = 0.0
    for v in e:
        total += v
    return [v / total for v in e]


def port_weights(logits, dtype):
    """The weights at the port's precision (SPEC §5): the float64 softmax rounded to dtype; at float32 any weight
    below float32's smallest normal number (2^-126, a subnormal) becomes +0, as GPUs may flush it."""
    w = np.array(softmax_weights(logits), dtype=np.float64).astype(dtype)
    if dtype == np.float32:
        w[w < np.finfo(np.float32).tiny] = 0  # NaN compares false and stays NaN
    return w


def output_size(n, padding):
    return (n + 1) // 2 if padding == "same" else n // 2


def windows(x, dims, k, padding, dtype):
    """Cells of every window as arrays [B, Ho, Wo, C, 4] (cell = 2*row offset + column offset):
    values (padded cells hold 0) and whether each cell is real."""
    b, h, w, c = dims
    ho, wo = output_size(h, padding), output_size(w, padding)
    grid = np.zeros((b, 2 * ho, 2 * wo, c), dtype=dtype)
    real = np.zeros((b, 2 * ho, 2 * wo, c), dtype=bool)
    rows, cols = min(h, 2 * ho), min(w, 2 * wo)
    grid[:, :rows, :cols, :] = x[:, :rows, :cols, :]
    real[:, :rows, :cols, :] = True

    def split(a):
        return a.reshape(b, ho, 2, wo, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(b, ho, wo, c, 4)

    return split(grid), split(real), (b, ho, wo, c)


def rank_order(v, real, k):
    """Cell numbers in rank order, shape [..., 4]: SPEC §4 (NaN first, then larger, ties by lower cell).
    For k = 1 padded cells do not take part (max pooling ignores them): they rank after every real cell."""
    nan = np.isnan(v)
    ranks = np.zeros(v.shape, dtype=np.int64)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            # does cell j rank before cell i?
            a, b = v[..., j], v[..., i]
            a_nan, b_nan = nan[..., j], nan[..., i]
            with np.errstate(invalid="ignore"):
                by_value = np.where(a_nan != b_nan, a_nan, np.where(a_nan | (a == b), j < i, a > b))
            if k == 1:
                by_value = np.where(real[..., j] != real[..., i], real[..., j], by_value)
            ranks[..., i] += by_value
    return np.argsort(ranks, axis=-1, kind="stable")


def forward(x, dims, logits, k, padding, dtype):
    v, real, out_shape = windows(x, dims, k, padding, dtype)
    order = rank_order(v, real, k)
    ranked = np.take_along_axis(v, order, axis=-1)
    w = port_weights(logits, dtype)
    with np.errstate(all="ignore"):
        # Summed in rank order starting from the first product (not from +0): a zero keeps IEEE's sign,
        # and k = 1 (w = [1]) gives the window's maximum itself, bitwise.
        y = w[0] * ranked[..., 0]
        for r in range(1, k):
            y = y + w[r] * ranked[..., r]
    return y, out_shape


def gradient(x, dims, logits, k, padding, dy_list, dtype):
    v, real, (b, ho, wo, c) = windows(x, dims, k, padding, dtype)
    dy = np.array(decode_array(dy_list, "dy", b * ho * wo * c), dtype=np.float64).astype(dtype).reshape(b, ho, wo, c)
    order = rank_order(v, real, k)
    ranked = np.take_along_axis(v, order, axis=-1)
    ranked_real = np.take_along_axis(real, order, axis=-1)
    w = port_weights(logits, dtype)
    dcells = np.zeros(v.shape, dtype=dtype)
    s = np.zeros(k, dtype=dtype)
    with np.errstate(all="ignore"):
        for r in range(k):
            keep = ranked_real[..., r]
            # Cells ranked >= k, padded cells and cells in no window get exactly 0: assigned, never 0 * dy.
            np.put_along_axis(dcells, order[..., r:r + 1], np.where(keep, w[r] * dy, 0).astype(dtype)[..., None], -1)
            # Rank sums over real kept cells only; a padded cell contributes nothing (not 0 * dy).
            s[r] = np.sum(np.where(keep, ranked[..., r] * dy, 0), dtype=dtype)
        if k == 1:
            d_logits = np.zeros(1, dtype=dtype)  # no free weight: exactly +0 (SPEC §5)
        else:
            t = w[0] * s[0]
            for r in range(1, k):
                t = t + w[r] * s[r]
            d_logits = w * (s - t)
    full = dcells.reshape(b, ho, wo, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(b, 2 * ho, 2 * wo, c)
    dx = np.zeros(dims, dtype=dtype)
    rows, cols = min(dims[1], 2 * ho), min(dims[2], 2 * wo)
    dx[:, :rows, :cols, :] = full[:, :rows, :cols, :]
    return dx, d_logits


def answer(req, dtype, smallest_first):
    rid = req.get("id")
    op = req.get("op")
    if op not in ("forward", "gradient"):
        raise ArgumentError("op", 'one of "forward", "gradient"', json.dumps(op))
    x, dims, logits, k, padding = parse_case(req)
    if smallest_first:
        logits = logits[::-1]
    x = x.astype(dtype)
    if op == "forward":
        y, shape = forward(x, dims, logits, k, padding, dtype)
        return {"id": rid, "shape": list(shape), "y": [encode_number(v) for v in y.ravel().tolist()]}
    dx, d_logits = gradient(x, dims, logits, k, padding, req.get("dy"), dtype)
    d_logits = d_logits.tolist()
    if smallest_first:
        d_logits = d_logits[::-1]
    return {"id": rid, "dx": [encode_number(v) for v in dx.ravel().tolist()],
            "dLogits": [encode_number(v) for v in d_logits]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", choices=["float32", "float64"], default="float32")
    parser.add_argument("--weights-order", choices=["largest-first", "smallest-first"], default="largest-first")
    args = parser.parse_args()
    dtype = np.float32 if args.precision == "float32" else np.float64
    smallest_first = args.weights_order == "smallest-first"
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id") if isinstance(req, dict) else None
            if not isinstance(req, dict):
                raise ArgumentError("request", "a JSON object", type(req).__name__)
            out = answer(req, dtype, smallest_first)
        except ArgumentError as e:
            out = {"id": rid, "error": str(e)}
        except json.JSONDecodeError as e:
            out = {"id": rid, "error": f"request is not JSON: {e}"}
        sys.stdout.write(json.dumps(out, allow_nan=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
