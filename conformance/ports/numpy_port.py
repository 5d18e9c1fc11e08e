#!/usr/bin/env python3
"""sort_pool2d in NumPy: an example port for the sortpool conformance kit, written from SPEC.md.

Run it under the kit (Debian's python3-numpy; any NumPy >= 1.20 works):

    deno task conformance -- /usr/bin/python3 conformance/ports/numpy_port.py
    deno task conformance --precision float64 -- /usr/bin/python3 conformance/ports/numpy_port.py --precision float64

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout (conformance/README.md;
as JSON Schema: schemas/conformance_request.schema.json and schemas/conformance_answer.schema.json).
Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0". Diagnostics go to stderr.

Any window kh x kw and strides sh, sw in 1..4 (SPEC §2-3), logits shared by all channels (length k) or per
channel (length C·k), overlapping windows included. The arithmetic is vectorised over all windows: the cells
of every window are gathered into an array [B, Ho, Wo, C, kh·kw] (cells row-major over the window); each cell
gets a rank by counting the cells that rank before it under SPEC §4's strict total order, then values are
gathered in rank order. Under overlap a cell's dx is the sum of its kept terms over the windows containing
it, added in output order starting from the first term (SPEC §5).

Options:
    --precision float32|float64   arithmetic of x, dy and the outputs (weights are always computed in
                                  float64 from the logits, then rounded: SPEC §5; at float32 a weight
                                  below 2^-126 becomes +0)
    --weights-order largest-first|smallest-first
                                  smallest-first takes logits (and returns dLogits) in the original
                                  TensorFlow code's order, where the last logit of each channel's group
                                  weights the largest value
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


def decode_array(v, what, lengths):
    """A list of numbers whose length is one of `lengths`."""
    if not isinstance(v, list):
        raise ArgumentError(what, f"an array of {' or '.join(map(str, lengths))} numbers", json.dumps(v)[:40])
    if len(v) not in lengths:
        raise ArgumentError(what, f"length {' or '.join(map(str, lengths))}", f"length {len(v)}")
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


def parse_pair(v, name, default):
    """poolSize or strides: absent (the default) or [rows, columns], integers in 1..4 (SPEC §2)."""
    if v is None:
        return default
    if not isinstance(v, list) or len(v) != 2:
        raise ArgumentError(name, "a pair of integers in 1..4", json.dumps(v)[:40])
    pair = []
    for i, d in enumerate(v):
        n = as_integer(d)
        if n is None or not 1 <= n <= 4:
            raise ArgumentError(f"{name}[{i}]", "an integer in 1..4", json.dumps(d))
        pair.append(n)
    return tuple(pair)


def reverse_groups(values, k):
    """Reverses each group of k (one channel's logits): the original code's weight order and back."""
    return [v for g in range(0, len(values), k) for v in reversed(values[g:g + k])]


class Case:
    """A validated request (SPEC §6): x as a float64 ndarray [B, H, W, C] and the layer's options."""

    def __init__(self, req):
        shape = req.get("shape")
        if not isinstance(shape, list) or len(shape) != 4:
            raise ArgumentError("shape", "rank 4 [batch, height, width, channels]", json.dumps(shape)[:40])
        dims = []
        for i, d in enumerate(shape):
            n = as_integer(d)
            if n is None or n < 0:
                axis = ["batch", "height", "width", "channels"][i]
                raise ArgumentError(f"shape[{i}] ({axis})", "a non-negative integer", json.dumps(d))
            dims.append(n)
        self.dims = dims
        b, h, w, c = dims
        # SPEC §2: the window defaults to 2x2, the strides to the window.
        self.pool = parse_pair(req.get("poolSize"), "poolSize", (2, 2))
        self.strides = parse_pair(req.get("strides"), "strides", self.pool)
        cells = self.pool[0] * self.pool[1]
        k = as_integer(req.get("k"))
        if k is None or not 1 <= k <= cells:
            raise ArgumentError("k", f"an integer in 1..{cells} (kh·kw)", json.dumps(req.get("k")))
        self.k = k
        self.padding = req.get("padding")
        if self.padding not in ("same", "valid"):
            raise ArgumentError("padding", 'one of "same", "valid"', json.dumps(self.padding))
        # k logits shared by every channel, or C·k per channel (channel c's at [c·k, c·k + k)).
        self.logits = decode_array(req.get("logits"), "logits", sorted({k, c * k}))
        self.x = np.array(decode_array(req.get("x"), "x", [b * h * w * c]), dtype=np.float64).reshape(dims)
        # SPEC §3: "valid" needs the window to fit a non-empty input; an empty one (a zero dimension, SPEC §1) only
        # needs an output size floor((H - kh) / sh) + 1 of at least 0.
        self.empty = b * h * w * c == 0
        least = (self.pool[0] - self.strides[0], self.pool[1] - self.strides[1]) if self.empty else self.pool
        if self.padding == "valid" and (h < least[0] or w < least[1]):
            raise ArgumentError("shape", f'height >= {least[0]} and width >= {least[1]} with padding "valid"',
                                json.dumps(dims))


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


def weight_table(case, dtype):
    """The weights at the port's precision as a [C, k] table (SPEC §5): per group of k (each channel's own when
    the logits are per channel, else one group repeated), the float64 softmax rounded to dtype; at float32 any
    weight below float32's smallest normal number (2^-126, a subnormal) becomes +0, as GPUs may flush it."""
    k, channels = case.k, case.dims[3]
    groups = [softmax_weights(case.logits[g:g + k]) for g in range(0, len(case.logits), k)]
    w = np.array(groups, dtype=np.float64).astype(dtype)
    if dtype == np.float32:
        w[w < np.finfo(np.float32).tiny] = 0  # NaN compares false and stays NaN
    return np.broadcast_to(w, (channels, k)) if len(groups) == 1 else w


def axis_geometry(size, window, stride, padding):
    """One spatial axis (SPEC §3): (output size, padded positions before the input). "valid":
    floor((size - window) / stride) + 1, no padding; "same": ceil(size / stride), with
    max((out - 1)·stride + window - size, 0) padded positions, floor(half) before and the rest after."""
    if padding == "valid":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2


def windows(case, dtype):
    """Every window's cells as arrays [B, Ho, Wo, C, kh·kw] (cell = row offset·kw + column offset): values
    (padded cells hold 0), whether each cell is real, and each cell's flat index in x (-1 when padded)."""
    b, h, w, c = case.dims
    (kh, kw), (sh, sw) = case.pool, case.strides
    ho, top = axis_geometry(h, kh, sh, case.padding)
    wo, left = axis_geometry(w, kw, sw, case.padding)
    rows = np.arange(ho)[:, None] * sh - top + np.arange(kh)[None, :]  # [Ho, kh]: input row of each window row
    cols = np.arange(wo)[:, None] * sw - left + np.arange(kw)[None, :]  # [Wo, kw]
    real = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :]
    r = np.clip(rows, 0, h - 1)[:, None, :, None]
    q = np.clip(cols, 0, w - 1)[None, :, None, :]
    # x[:, r, q, :] broadcasts the indices to [Ho, Wo, kh, kw]: the result is [B, Ho, Wo, kh, kw, C].
    values = np.where(real[None, ..., None], case.x[:, r, q, :], 0).astype(dtype)
    index = ((np.arange(b)[:, None, None, None, None, None] * h + r[None, ..., None]) * w + q[None, ..., None]) * c \
        + np.arange(c)[None, None, None, None, None, :]
    index = np.where(real[None, ..., None], index, -1)

    def cells_last(a):
        return np.moveaxis(a, 5, 3).reshape(b, ho, wo, c, kh * kw)

    real_cells = np.broadcast_to(real[None, ..., None], (b, ho, wo, kh, kw, c))
    return cells_last(values), cells_last(real_cells), cells_last(index), (b, ho, wo, c)


def rank_order(v, real, k):
    """Cell numbers in rank order, shape [..., cells]: SPEC §4 (NaN first, then larger, ties by lower cell).
    For k = 1 padded cells do not take part (max pooling ignores them): they rank after every real cell."""
    n = v.shape[-1]
    a, b = v[..., None, :], v[..., :, None]  # a: cell j (last axis), b: cell i
    j, i = np.arange(n)[None, :], np.arange(n)[:, None]
    a_nan, b_nan = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        # does cell j rank before cell i?
        before = np.where(a_nan != b_nan, a_nan, np.where(a_nan | (a == b), j < i, a > b))
    if k == 1:
        ra, rb = real[..., None, :], real[..., :, None]
        before = np.where(ra != rb, ra, before)
    ranks = before.sum(axis=-1)  # how many cells rank before each cell: a permutation of 0..n-1
    return np.argsort(ranks, axis=-1, kind="stable")


def empty_output_shape(case):
    """The output shape of an empty input (SPEC §1): no window to gather, so none is built."""
    b, h, w, c = case.dims
    return (b, axis_geometry(h, case.pool[0], case.strides[0], case.padding)[0],
            axis_geometry(w, case.pool[1], case.strides[1], case.padding)[0], c)


def forward(case, dtype):
    if case.empty:
        return np.zeros(0, dtype=dtype), empty_output_shape(case)
    v, real, _, out_shape = windows(case, dtype)
    ranked = np.take_along_axis(v, rank_order(v, real, case.k), axis=-1)
    w = weight_table(case, dtype)  # [C, k]: broadcasts along the channel axis of ranked[..., r]
    with np.errstate(all="ignore"):
        # Summed in rank order starting from the first product (not from +0): a zero keeps IEEE's sign,
        # and k = 1 (w = [1]) gives the window's maximum itself, bitwise.
        y = w[:, 0] * ranked[..., 0]
        for r in range(1, case.k):
            y = y + w[:, r] * ranked[..., r]
    return y, out_shape


def sum_in_output_order(cells, outs, terms, size, dtype):
    """dx from its terms: each cell's kept terms (flat index, output index, w[r]·dy) summed in output order,
    starting from the first term (so a single -0 term stays -0); cells with no term stay exactly +0."""
    dx = np.zeros(size, dtype=dtype)
    if len(cells) == 0:
        return dx
    order = np.lexsort((outs, cells))  # by cell, then by output index
    cells, terms = cells[order], terms[order]
    starts = np.r_[True, cells[1:] != cells[:-1]]
    position = np.arange(len(cells)) - np.maximum.accumulate(np.where(starts, np.arange(len(cells)), 0))
    first = position == 0
    dx[cells[first]] = terms[first]
    with np.errstate(all="ignore"):
        for p in range(1, position.max() + 1):  # at most kh·kw rounds; a cell appears once per round
            sel = position == p
            dx[cells[sel]] = dx[cells[sel]] + terms[sel]
    return dx


def gradient(case, dy_list, dtype):
    if case.empty:
        # No window: dx is empty and dLogits exactly +0, whatever the logits (SPEC §1).
        b, ho, wo, c = empty_output_shape(case)
        decode_array(dy_list, "dy", [b * ho * wo * c])
        return np.zeros(case.dims, dtype=dtype), np.zeros(len(case.logits), dtype=dtype)
    v, real, index, (b, ho, wo, c) = windows(case, dtype)
    dy = np.array(decode_array(dy_list, "dy", [b * ho * wo * c]), dtype=np.float64).astype(dtype)
    dy = dy.reshape(b, ho, wo, c)
    order = rank_order(v, real, case.k)
    ranked = np.take_along_axis(v, order, axis=-1)
    ranked_real = np.take_along_axis(real, order, axis=-1)
    ranked_index = np.take_along_axis(index, order, axis=-1)
    w = weight_table(case, dtype)
    outs = np.arange(b * ho * wo * c).reshape(b, ho, wo, c)
    per_channel = len(case.logits) != case.k
    s = np.zeros((c if per_channel else 1, case.k), dtype=dtype)
    cells, out_of, terms = [], [], []
    with np.errstate(all="ignore"):
        for r in range(case.k):
            keep = ranked_real[..., r]
            # Only real kept cells get a term; cells ranked >= k, padded cells and cells in no window get
            # nothing (exactly 0, never 0 * dy).
            cells.append(ranked_index[..., r][keep])
            out_of.append(outs[keep])
            terms.append((w[:, r] * dy)[keep].astype(dtype))
            # Rank sums over real kept cells only; a padded cell contributes nothing (not 0 * dy).
            contribution = np.where(keep, ranked[..., r] * dy, 0).astype(dtype)
            by_channel = contribution.sum(axis=(0, 1, 2), dtype=dtype)
            s[:, r] = by_channel if per_channel else by_channel.sum(dtype=dtype)
        dx = sum_in_output_order(np.concatenate(cells), np.concatenate(out_of), np.concatenate(terms),
                                 case.x.size, dtype)
        if case.k == 1:
            d_logits = np.zeros(len(case.logits), dtype=dtype)  # no free weight: exactly +0 (SPEC §5)
        else:
            groups = w if per_channel else w[:1]
            t = groups[:, 0] * s[:, 0]
            for r in range(1, case.k):
                t = t + groups[:, r] * s[:, r]
            d_logits = (groups * (s - t[:, None])).ravel()
    return dx.reshape(case.dims), d_logits


def answer(req, dtype, smallest_first):
    rid = req.get("id")
    op = req.get("op")
    if op not in ("forward", "gradient"):
        raise ArgumentError("op", 'one of "forward", "gradient"', json.dumps(op))
    case = Case(req)
    if smallest_first:
        case.logits = reverse_groups(case.logits, case.k)
    case.x = case.x.astype(dtype)
    if op == "forward":
        y, shape = forward(case, dtype)
        return {"id": rid, "shape": list(shape), "y": [encode_number(v) for v in y.ravel().tolist()]}
    dx, d_logits = gradient(case, req.get("dy"), dtype)
    d_logits = d_logits.tolist()
    if smallest_first:
        d_logits = reverse_groups(d_logits, case.k)
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
