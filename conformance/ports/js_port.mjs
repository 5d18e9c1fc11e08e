#!/usr/bin/env node
// sort_pool2d in plain JavaScript: an example port for the sortpool conformance kit, written from SPEC.md.
//
//   deno task conformance -- node conformance/ports/js_port.mjs
//   deno task conformance --precision float64 -- node conformance/ports/js_port.mjs --precision float64
//
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout (conformance/README.md).
// Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0". Diagnostics go to stderr.
//
// One window at a time: its cells are put in rank order by the 5-comparator sorting network of SPEC §4,
// and float32 arithmetic is emulated by rounding every operation with Math.fround.
//
// Options:
//   --precision float32|float64      arithmetic of x, dy and the outputs (weights: float64 softmax, then rounded;
//                                    at float32 a weight below 2^-126 becomes +0)
//   --weights-order largest-first|smallest-first
//                                    smallest-first takes logits (and returns dLogits) in the original
//                                    TensorFlow code's order, where the last logit weights the largest value
//   --plant BUG                      a deliberate bug, for the kit's own tests only (conformance.test.ts):
//                                    ties-high-index | crash-after-first | hang-after-first | non-json-after-first
//                                    | float32-logits (logits rounded to float32 before the softmax, as a port
//                                    whose logits are a float32 parameter does)

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

// ---------------------------------------------------------------- SPEC §6: arguments

function parseCase(req) {
  const { shape, k, padding } = req;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ArgumentError("shape", "rank 4 [batch, height, width, channels]", JSON.stringify(shape));
  }
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 1) {
      const axis = ["batch", "height", "width", "channels"][i];
      throw new ArgumentError(`shape[${i}] (${axis})`, "a positive integer", JSON.stringify(d));
    }
  });
  if (!Number.isInteger(k) || k < 1 || k > 4) throw new ArgumentError("k", "an integer in 1..4", JSON.stringify(k));
  if (padding !== "same" && padding !== "valid") {
    throw new ArgumentError("padding", 'one of "same", "valid"', JSON.stringify(padding));
  }
  // Logits stay float64: the weights are computed from them in float64 (SPEC §5).
  if (!Array.isArray(req.logits) || req.logits.length !== k) {
    throw new ArgumentError("logits", `an array of length k = ${k}`, JSON.stringify(req.logits));
  }
  const logits = req.logits.map((v, i) => {
    const l = decodeNumber(v, `logits[${i}]`);
    return opts.plant === "float32-logits" ? Math.fround(l) : l;
  });
  const [b, h, w, c] = shape;
  const x = decodeArray(req.x, "x", b * h * w * c);
  if (padding === "valid" && (h < 2 || w < 2)) {
    throw new ArgumentError("shape", 'height >= 2 and width >= 2 with padding "valid"', JSON.stringify(shape));
  }
  return { x, shape, logits: smallestFirst ? logits.reverse() : logits, k, padding };
}

// ---------------------------------------------------------------- SPEC §2–§5: the layer

/** float32's smallest normal number: float32 weights below it are flushed to +0 (SPEC §5). */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Softmax as its limit, in float64 (SPEC §5): the maximal logits get e = 1, the others exp(l - max).
 * At float32 the weights are then rounded, and any weight below 2^-126 (a subnormal) becomes +0.
 */
function weights(logits) {
  if (logits.some(Number.isNaN)) return logits.map(() => NaN);
  const m = Math.max(...logits);
  const e = logits.map((l) => (l === m ? 1 : Math.exp(l - m)));
  let sum = 0;
  for (const v of e) sum += v;
  return e.map((v) => {
    const w = round(v / sum);
    return opts.precision === "float32" && w < FLOAT32_MIN_NORMAL ? 0 : w;
  });
}

const pooled = (n, padding) => (padding === "same" ? Math.ceil(n / 2) : Math.floor(n / 2));

/** Does value a at window cell ca rank before value b at cell cb? (SPEC §4) */
function ranksBefore(a, ca, b, cb) {
  if (Number.isNaN(a) !== Number.isNaN(b)) return Number.isNaN(a);
  if (Number.isNaN(a) || a === b) return opts.plant === "ties-high-index" ? ca > cb : ca < cb;
  return a > b;
}

const NETWORK = [[0, 1], [2, 3], [0, 2], [1, 3], [1, 2]];

/**
 * Visits every window in output order with its participants in rank order: {value, index} where
 * index is the flat position in x, or -1 for a padded cell (value 0; only when k > 1).
 */
function forEachWindow({ x, shape, k, padding }, visit) {
  const [nb, h, w, nc] = shape;
  const ho = pooled(h, padding);
  const wo = pooled(w, padding);
  let o = 0;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const slots = [];
          for (let cell = 0; cell < 4; cell++) {
            const row = 2 * oh + (cell >> 1);
            const col = 2 * ow + (cell & 1);
            const inside = row < h && col < w;
            const index = inside ? ((b * h + row) * w + col) * nc + ch : -1;
            // k = 1 is max pooling: padded cells do not take part (they sort after every real cell).
            slots.push({ cell, index, value: inside ? x[index] : 0, present: inside || k > 1 });
          }
          for (const [i, j] of NETWORK) {
            const p = slots[i];
            const q = slots[j];
            const qFirst = q.present !== p.present ? q.present : ranksBefore(q.value, q.cell, p.value, p.cell);
            if (qFirst) [slots[i], slots[j]] = [q, p];
          }
          visit(o++, slots);
        }
      }
    }
  }
  return [nb, ho, wo, nc];
}

function forward(c) {
  const w = weights(c.logits);
  const y = [];
  const shape = forEachWindow(c, (o, ranked) => {
    // Starts from the first product, not from +0: a zero keeps IEEE's sign, and k = 1 (w = [1]) gives the
    // window's maximum itself, bitwise.
    let acc = round(w[0] * ranked[0].value);
    for (let r = 1; r < c.k; r++) acc = round(acc + round(w[r] * ranked[r].value));
    y[o] = acc;
  });
  return { shape, y };
}

function gradient(c, dyRaw) {
  const [nb, h, w, nc] = c.shape;
  const dy = decodeArray(dyRaw, "dy", nb * pooled(h, c.padding) * pooled(w, c.padding) * nc);
  const wt = weights(c.logits);
  const dx = new Array(c.x.length).fill(0); // cells ranked >= k, padded or in no window: exactly 0
  const s = new Array(c.k).fill(0);
  forEachWindow(c, (o, ranked) => {
    for (let r = 0; r < c.k; r++) {
      const { index, value } = ranked[r];
      if (index < 0) continue; // a padded cell receives nothing and adds nothing to s (never 0·dy)
      dx[index] = round(wt[r] * dy[o]);
      s[r] = round(s[r] + round(value * dy[o]));
    }
  });
  if (c.k === 1) return { dx, dLogits: [0] }; // no free weight (SPEC §5)
  let t = round(wt[0] * s[0]);
  for (let r = 1; r < c.k; r++) t = round(t + round(wt[r] * s[r]));
  const dLogits = wt.map((wj, j) => round(wj * round(s[j] - t)));
  return { dx, dLogits: smallestFirst ? dLogits.reverse() : dLogits };
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
  process.stdout.write(JSON.stringify(out) + "\n");
  answered++;
});
