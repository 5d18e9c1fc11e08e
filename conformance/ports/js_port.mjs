#!/usr/bin/env node
// sort_pool2d in plain JavaScript: an example port for the sortpool conformance kit, written from SPEC.md.
//
//   deno task conformance -- node conformance/ports/js_port.mjs
//   deno task conformance --precision float64 -- node conformance/ports/js_port.mjs --precision float64
//
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout (conformance/README.md;
// as JSON Schema: schemas/conformance_request.schema.json and schemas/conformance_answer.schema.json).
// Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0". Diagnostics go to stderr.
//
// One window at a time, in output order: the window's cells are put in rank order by an insertion sort
// whose comparison is SPEC §4's order, and float32 arithmetic is emulated by rounding every operation
// with Math.fround. Any window kh x kw and strides sh, sw in 1..4 (SPEC §2-3), logits shared by all
// channels (length k) or per channel (length C·k), and overlapping windows (a cell's dx is the sum over
// the windows that keep it, in output order: SPEC §5).
//
// Options:
//   --precision float32|float64      arithmetic of x, dy and the outputs (weights: float64 softmax, then rounded;
//                                    at float32 a weight below 2^-126 becomes +0)
//   --weights-order largest-first|smallest-first
//                                    smallest-first takes logits (and returns dLogits) in the original
//                                    TensorFlow code's order, where the last logit of each channel's group
//                                    weights the largest value
//   --plant BUG                      a deliberate bug, for the kit's own tests only (conformance.test.ts):
//                                    ties-high-index | crash-after-first | hang-after-first | non-json-after-first
//                                    | float32-logits (logits rounded to float32 before the softmax, as a port
//                                    whose logits are a float32 parameter does) | overlap-assign (a cell's dx is
//                                    the last window's term instead of the sum over overlapping windows)
//                                    | per-channel-index (channel c's weights read from offset c instead of c·k)
//                                    | 2x2-only (the article's layer only: poolSize and strides are ignored, as a
//                                    port written before them would, and only k shared logits are accepted)
//                                    | unsigned-zeros (a zero y is always +0) | bom-after-first (a byte-order
//                                    mark before every answer after the first) | bom-first (one before the
//                                    first answer only, as a UTF-8-with-BOM stream starts) | pad-after ("same" puts all its
//                                    padding after the input) | column-major (window cells numbered column by
//                                    column, so ties rank by column first) | valid-ceil ("valid" output size
//                                    ceil((size - window) / stride) + 1, an off-by-one)

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

class ArgumentError extends Error {
  constructor(argument, expected, received) {
    super(`sort_pool2d: ${argument}: expected ${expected}, received ${received}`);
  }
}

const PLANTS = [
  "ties-high-index",
  "crash-after-first",
  "hang-after-first",
  "non-json-after-first",
  "float32-logits",
  "overlap-assign",
  "per-channel-index",
  "2x2-only",
  "unsigned-zeros",
  "bom-after-first",
  "bom-first",
  "pad-after",
  "column-major",
  "valid-ceil",
];
const { values: opts } = parseArgs({
  options: {
    precision: { type: "string", default: "float32" },
    "weights-order": { type: "string", default: "largest-first" },
    plant: { type: "string" },
  },
  strict: true,
});
if (!["float32", "float64"].includes(opts.precision)) {
  console.error(`js_port: --precision: expected float32 or float64, received ${opts.precision}`);
  process.exit(2);
}
if (!["largest-first", "smallest-first"].includes(opts["weights-order"])) {
  console.error(
    `js_port: --weights-order: expected largest-first or smallest-first, received ${opts["weights-order"]}`,
  );
  process.exit(2);
}
if (opts.plant !== undefined && !PLANTS.includes(opts.plant)) {
  console.error(`js_port: --plant: expected one of ${PLANTS.join(", ")}, received ${opts.plant}`);
  process.exit(2);
}

/** Rounds to the port's precision: every arithmetic result goes through it. */
const round = opts.precision === "float32" ? Math.fround : (v) => v;
const smallestFirst = opts["weights-order"] === "smallest-first";

// ---------------------------------------------------------------- numbers on the wire

function decodeNumber(v, what) {
  if (typeof v === "number") return v;
  switch (v) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "-0":
      return -0;
  }
  throw new ArgumentError(what, 'a number or "NaN", "Infinity", "-Infinity", "-0"', JSON.stringify(v));
}

function decodeArray(v, what, length) {
  if (!Array.isArray(v)) throw new ArgumentError(what, `an array of ${length} numbers`, JSON.stringify(v));
  if (v.length !== length) throw new ArgumentError(what, `length ${length}`, `length ${v.length}`);
  return v.map((e, i) => round(decodeNumber(e, `${what}[${i}]`)));
}

function encodeNumber(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** Reverses each group of k (one channel's logits): the original code's weight order and back. */
function reverseGroups(values, k) {
  const out = [];
  for (let g = 0; g < values.length; g += k) out.push(...values.slice(g, g + k).reverse());
  return out;
}

// ---------------------------------------------------------------- SPEC §6: arguments

/** A [rows, columns] pair of integers in 1..4 (poolSize or strides); `fallback` when absent. */
function parsePair(v, name, fallback) {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length !== 2) {
    throw new ArgumentError(name, "a pair of integers in 1..4", JSON.stringify(v));
  }
  v.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 1 || d > 4) {
      throw new ArgumentError(`${name}[${i}]`, "an integer in 1..4", JSON.stringify(d));
    }
  });
  return v;
}

function parseCase(req) {
  const { shape, k, padding } = req;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ArgumentError("shape", "rank 4 [batch, height, width, channels]", JSON.stringify(shape));
  }
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      const axis = ["batch", "height", "width", "channels"][i];
      throw new ArgumentError(`shape[${i}] (${axis})`, "a non-negative integer", JSON.stringify(d));
    }
  });
  // SPEC §2: the window defaults to 2x2, the strides to the window.
  const articleOnly = opts.plant === "2x2-only";
  const poolSize = articleOnly ? [2, 2] : parsePair(req.poolSize, "poolSize", [2, 2]);
  const strides = articleOnly ? [2, 2] : parsePair(req.strides, "strides", poolSize);
  const cells = poolSize[0] * poolSize[1];
  if (!Number.isInteger(k) || k < 1 || k > cells) {
    throw new ArgumentError("k", `an integer in 1..${cells} (kh·kw)`, JSON.stringify(k));
  }
  if (padding !== "same" && padding !== "valid") {
    throw new ArgumentError("padding", 'one of "same", "valid"', JSON.stringify(padding));
  }
  const [b, h, w, c] = shape;
  // Logits: k shared by every channel, or C·k per channel (channel c's at [c·k, c·k + k)). They stay
  // float64: the weights are computed from them in float64 (SPEC §5).
  const perChannelOk = !articleOnly && req.logits?.length === c * k;
  if (!Array.isArray(req.logits) || (req.logits.length !== k && !perChannelOk)) {
    throw new ArgumentError("logits", `an array of length k = ${k} or C·k = ${c * k}`, JSON.stringify(req.logits));
  }
  const logits = req.logits.map((v, i) => {
    const l = decodeNumber(v, `logits[${i}]`);
    return opts.plant === "float32-logits" ? Math.fround(l) : l;
  });
  const x = decodeArray(req.x, "x", b * h * w * c);
  // SPEC §3: "valid" needs the window to fit a non-empty input; an empty one (a zero dimension, SPEC §1) only needs
  // an output size floor((H − kh) / sh) + 1 of at least 0.
  const empty = b * h * w * c === 0;
  const [leastH, leastW] = empty ? [poolSize[0] - strides[0], poolSize[1] - strides[1]] : poolSize;
  if (padding === "valid" && (h < leastH || w < leastW)) {
    throw new ArgumentError(
      "shape",
      `height >= ${leastH} and width >= ${leastW} with padding "valid"`,
      JSON.stringify(shape),
    );
  }
  return { x, shape, logits: smallestFirst ? reverseGroups(logits, k) : logits, k, padding, poolSize, strides };
}

// ---------------------------------------------------------------- SPEC §2–§5: the layer

/** float32's smallest normal number: float32 weights below it are flushed to +0 (SPEC §5). */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Softmax as its limit, in float64 (SPEC §5), over each group of k logits (one group when they are
 * shared, one per channel otherwise): the maximal logits get e = 1, the others exp(l - max). At
 * float32 the weights are then rounded, and any weight below 2^-126 (a subnormal) becomes +0.
 */
function weights(logits, k) {
  const out = [];
  for (let g = 0; g < logits.length; g += k) {
    const group = logits.slice(g, g + k);
    if (group.some(Number.isNaN)) {
      out.push(...group.map(() => NaN)); // a NaN logit poisons its own group only
      continue;
    }
    const m = Math.max(...group);
    const e = group.map((l) => (l === m ? 1 : Math.exp(l - m)));
    let sum = 0;
    for (const v of e) sum += v;
    for (const v of e) {
      const w = round(v / sum);
      out.push(opts.precision === "float32" && w < FLOAT32_MIN_NORMAL ? 0 : w);
    }
  }
  return out;
}

/**
 * One spatial axis (SPEC §3): the output size, and how many padded positions come before the input.
 * "valid": floor((size - window) / stride) + 1, no padding. "same": ceil(size / stride), with
 * max((out - 1)·stride + window - size, 0) padded positions, floor(half) before and the rest after.
 */
function axis(size, window, stride, padding) {
  if (padding === "valid") {
    const round = opts.plant === "valid-ceil" ? Math.ceil : Math.floor;
    return { out: round((size - window) / stride) + 1, before: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, before: opts.plant === "pad-after" ? 0 : Math.floor(total / 2) };
}

/** Does value a at window cell ca rank before value b at cell cb? (SPEC §4) */
function ranksBefore(a, ca, b, cb) {
  if (Number.isNaN(a) !== Number.isNaN(b)) return Number.isNaN(a);
  if (Number.isNaN(a) || a === b) return opts.plant === "ties-high-index" ? ca > cb : ca < cb;
  return a > b;
}

/**
 * Visits every window in output order (batch, row, column, channel) with its participants in rank
 * order: {value, index} where index is the flat position in x, or -1 for a padded cell (value 0,
 * taking part only when k > 1: max pooling ignores padding). Returns the output shape.
 */
function forEachWindow({ x, shape, k, padding, poolSize, strides }, visit) {
  const [nb, h, w, nc] = shape;
  const [kh, kw] = poolSize;
  const rows = axis(h, kh, strides[0], padding);
  const cols = axis(w, kw, strides[1], padding);
  let o = 0;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < rows.out; oh++) {
      for (let ow = 0; ow < cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const ranked = [];
          // Cells row-major over the window: cell = dr·kw + dc.
          for (let dr = 0; dr < kh; dr++) {
            for (let dc = 0; dc < kw; dc++) {
              const row = oh * strides[0] - rows.before + dr;
              const col = ow * strides[1] - cols.before + dc;
              const inside = row >= 0 && row < h && col >= 0 && col < w;
              if (!inside && k === 1) continue;
              const index = inside ? ((b * h + row) * w + col) * nc + ch : -1;
              const cell = opts.plant === "column-major" ? dc * kh + dr : dr * kw + dc;
              const slot = { cell, index, value: inside ? x[index] : 0 };
              // Insertion sort: move the new cell up past every cell it ranks before.
              let at = ranked.length;
              while (at > 0 && ranksBefore(slot.value, slot.cell, ranked[at - 1].value, ranked[at - 1].cell)) at--;
              ranked.splice(at, 0, slot);
            }
          }
          visit(o++, ch, ranked);
        }
      }
    }
  }
  return [nb, rows.out, cols.out, nc];
}

/** Offset of channel ch's weights: 0 when the logits are shared, ch·k per channel. */
function offsetOf(c, ch) {
  if (c.logits.length === c.k) return 0;
  return opts.plant === "per-channel-index" ? ch : ch * c.k;
}

function forward(c) {
  const w = weights(c.logits, c.k);
  const y = [];
  const shape = forEachWindow(c, (o, ch, ranked) => {
    const base = offsetOf(c, ch);
    // Starts from the first product, not from +0: a zero keeps IEEE's sign, and k = 1 (w = [1]) gives the
    // window's maximum itself, bitwise.
    let acc = round(w[base] * ranked[0].value);
    for (let r = 1; r < c.k; r++) acc = round(acc + round(w[base + r] * ranked[r].value));
    y[o] = opts.plant === "unsigned-zeros" && acc === 0 ? 0 : acc;
  });
  return { shape, y };
}

function gradient(c, dyRaw) {
  const [nb, h, w, nc] = c.shape;
  const rows = axis(h, c.poolSize[0], c.strides[0], c.padding);
  const cols = axis(w, c.poolSize[1], c.strides[1], c.padding);
  const dy = decodeArray(dyRaw, "dy", nb * rows.out * cols.out * nc);
  const wt = weights(c.logits, c.k);
  // Cells kept by no window (ranked >= k everywhere, or in no window at all) stay exactly +0.
  const dx = new Array(c.x.length).fill(0);
  const touched = new Uint8Array(c.x.length);
  const s = new Array(c.logits.length).fill(0); // rank sums, per channel group when per-channel
  forEachWindow(c, (o, ch, ranked) => {
    const base = offsetOf(c, ch);
    for (let r = 0; r < c.k; r++) {
      const { index, value } = ranked[r];
      if (index < 0) continue; // a padded cell receives nothing and adds nothing to s (never 0·dy)
      const term = round(wt[base + r] * dy[o]);
      // Overlapping windows: the first term is the cell's dx as is (keeping a -0), later ones are added,
      // in output order.
      dx[index] = touched[index] && opts.plant !== "overlap-assign" ? round(dx[index] + term) : term;
      touched[index] = 1;
      s[base + r] = round(s[base + r] + round(value * dy[o]));
    }
  });
  // k = 1: no free weight (SPEC §5); an empty input: no window, nothing computed (SPEC §1). Exactly +0 either way.
  if (c.k === 1 || c.x.length === 0) return { dx, dLogits: new Array(c.logits.length).fill(0) };
  const dLogits = [];
  for (let g = 0; g < c.logits.length; g += c.k) {
    let t = round(wt[g] * s[g]);
    for (let r = 1; r < c.k; r++) t = round(t + round(wt[g + r] * s[g + r]));
    for (let j = g; j < g + c.k; j++) dLogits.push(round(wt[j] * round(s[j] - t)));
  }
  return { dx, dLogits: smallestFirst ? reverseGroups(dLogits, c.k) : dLogits };
}

function answer(req) {
  if (req.op !== "forward" && req.op !== "gradient") {
    throw new ArgumentError("op", 'one of "forward", "gradient"', JSON.stringify(req.op));
  }
  const c = parseCase(req);
  if (req.op === "forward") {
    const { shape, y } = forward(c);
    return { id: req.id, shape, y: y.map(encodeNumber) };
  }
  const { dx, dLogits } = gradient(c, req.dy);
  return { id: req.id, dx: dx.map(encodeNumber), dLogits: dLogits.map(encodeNumber) };
}

// ---------------------------------------------------------------- the loop

let answered = 0;
let hung = false;
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (hung || line.trim() === "") return;
  if (answered === 1 && opts.plant === "hang-after-first") {
    hung = true;
    console.error("js_port: planted hang: reading on, answering nothing");
    setInterval(() => {}, 60_000);
    return;
  }
  if (answered === 1 && opts.plant === "crash-after-first") {
    throw new Error("js_port: planted crash after the first answer");
  }
  if (answered === 1 && opts.plant === "non-json-after-first") process.stdout.write("debug: got a request\n");
  let req;
  let out;
  try {
    req = JSON.parse(line);
    out = answer(req);
  } catch (e) {
    if (!(e instanceof ArgumentError || e instanceof SyntaxError)) throw e;
    out = { id: req?.id ?? null, error: e.message };
  }
  process.stdout.write(
    ((answered >= 1 && opts.plant === "bom-after-first") || (answered === 0 && opts.plant === "bom-first")
      ? "\uFEFF"
      : "") + JSON.stringify(out) + "\n",
  );
  answered++;
});
