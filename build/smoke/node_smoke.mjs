// Smoke test of the built npm package in a plain Node project (build/npm_package.test.ts copies
// this file into a scratch project that has only npm-installed packages, and runs it with node).
// Per backend: the op's forward and gradient against the float64 reference, then the layer in a
// model: fit, predict, save and load through a memory handler and a Node file handler.
// Backends: "cpu", then "webgpu" on Dawn (npm `webgpu`). Without a Dawn adapter the webgpu part
// fails with the reason, unless SORTPOOL_SMOKE_SKIP_DAWN=1, in which case it says it skipped.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as sortpool from "@sortpool/sortpool";

const { referenceForward, referenceGradient, sortPool2d, sortPooling2d, SortPooling2D, useEngine, engineInfo } =
  sortpool;

let failures = 0;
function check(name, ok, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
  if (!ok) failures++;
}

/** Deterministic values in [-1, 1). */
function values(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function opChecks(backend) {
  const cases = [
    { shape: [2, 6, 6, 3], k: 3, padding: "same" },
    { shape: [1, 7, 5, 4], k: 2, padding: "valid", poolSize: [3, 3], strides: [2, 2] },
  ];
  for (const [i, c] of cases.entries()) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = values(n, 11 + i);
    const logits = Array.from(values(c.k, 23 + i));
    const opts = { k: c.k, padding: c.padding, ...(c.poolSize ? { poolSize: c.poolSize, strides: c.strides } : {}) };
    const label = `${backend} op ${c.shape.join("x")} k=${c.k} ${c.padding}${
      c.poolSize ? ` window ${c.poolSize}` : ""
    }`;
    const xt = tf.tensor4d(x, c.shape);
    const lt = tf.tensor1d(logits);
    const y = sortPool2d(xt, lt, opts);
    const ref = referenceForward({ x, shape: c.shape, logits, k: c.k, ...opts });
    const yv = await y.data();
    check(
      `${label} forward`,
      y.shape.join() === ref.shape.join() && maxAbsDiff(yv, ref.y) < 1e-5,
      `shape ${y.shape.join("x")}, max |y - reference| = ${maxAbsDiff(yv, ref.y).toExponential(2)}`,
    );
    const dy = values(yv.length, 37 + i);
    const grads = tf.grads((a, b) => sortPool2d(a, b, opts).mul(tf.tensor4d(dy, y.shape)).sum());
    const [dx, dl] = grads([xt, lt]);
    const refG = referenceGradient({ x, shape: c.shape, logits, k: c.k, ...opts }, dy);
    const ex = maxAbsDiff(await dx.data(), refG.dx);
    const el = maxAbsDiff(await dl.data(), refG.dLogits);
    check(
      `${label} gradient`,
      ex < 1e-4 && el < 1e-3,
      `max |dx - reference| = ${ex.toExponential(2)}, max |dLogits - reference| = ${el.toExponential(2)}`,
    );
    tf.dispose([xt, lt, y, dx, dl]);
  }
}

/** A tfjs IO handler that saves to and loads from a directory with Node's fs (tfjs has none without tfjs-node). */
function nodeFileHandler(dir) {
  return {
    async save(artifacts) {
      await mkdir(dir, { recursive: true });
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      await writeFile(join(dir, "weights.bin"), new Uint8Array(weights));
      const { weightData: _w, weightSpecs, ...rest } = artifacts;
      await writeFile(
        join(dir, "model.json"),
        JSON.stringify({ ...rest, weightsManifest: [{ paths: ["./weights.bin"], weights: weightSpecs }] }),
      );
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load() {
      const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
      const bin = await readFile(join(dir, "weights.bin"));
      const { weightsManifest, ...rest } = json;
      return {
        ...rest,
        weightSpecs: weightsManifest.flatMap((g) => g.weights),
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      };
    },
  };
}

async function modelChecks(backend) {
  tf.util.seedrandom?.("sortpool");
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
      sortPooling2d({ k: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2 }),
    ],
  });
  check(`${backend} layer class`, model.layers[1] instanceof SortPooling2D, model.layers[1].getClassName());
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: "meanSquaredError" });
  const xs = tf.tensor4d(values(16 * 64, 5), [16, 8, 8, 1]);
  const ys = tf.tensor2d(values(16 * 2, 6), [16, 2]);
  const history = await model.fit(xs, ys, { epochs: 3, batchSize: 8, verbose: 0 });
  const losses = history.history.loss.map(Number);
  check(
    `${backend} fit`,
    losses.every(Number.isFinite),
    `loss per epoch ${losses.map((l) => l.toFixed(4)).join(", ")}`,
  );
  const logits = model.layers[1].getWeights()[0];
  check(`${backend} layer weight`, logits?.shape.join() === "3", `logits ${JSON.stringify(await logits.array())}`);
  const predicted = model.predict(xs);
  const want = await predicted.data();

  let memory;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    memory = artifacts;
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
  const fromMemory = await tf.loadLayersModel(tf.io.fromMemory(memory));
  const gotMemory = await fromMemory.predict(xs).data();
  check(
    `${backend} save/load (memory handler)`,
    maxAbsDiff(want, gotMemory) === 0,
    `max |difference| = ${maxAbsDiff(want, gotMemory)}`,
  );

  const dir = await mkdtemp(join(tmpdir(), "sortpool-smoke-"));
  try {
    await model.save(nodeFileHandler(dir));
    const fromFile = await tf.loadLayersModel(nodeFileHandler(dir));
    const gotFile = await fromFile.predict(xs).data();
    check(
      `${backend} save/load (Node file handler)`,
      maxAbsDiff(want, gotFile) === 0 &&
        fromFile.layers[1] instanceof SortPooling2D,
      `max |difference| = ${maxAbsDiff(want, gotFile)}`,
    );
    // The library's own directory helpers (node:fs/promises under Node).
    await model.save(sortpool.saveToDirectory(join(dir, "lib")));
    const again = await sortpool.loadFromDirectory(join(dir, "lib"));
    const gotLib = await again.predict(xs).data();
    check(
      `${backend} saveToDirectory / loadFromDirectory`,
      maxAbsDiff(want, gotLib) === 0 && again.layers[1] instanceof SortPooling2D,
      `max |difference| = ${maxAbsDiff(want, gotLib)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  optimizer.dispose();
  tf.dispose([xs, ys]);
}

async function onBackend(backend) {
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tf.setBackend("${backend}") failed`);
  await tf.ready();
  console.log(`--- backend ${tf.getBackend()}`);
  await opChecks(backend);
  await modelChecks(backend);
}

console.log(
  `node ${process.version}, tfjs ${tf.version.tfjs}, package ${process.env.SORTPOOL_PACKAGE ?? "@sortpool/sortpool"}`,
);
await onBackend("cpu");

if (process.env.SORTPOOL_SMOKE_SKIP_DAWN === "1") {
  console.log("SKIPPED webgpu on Dawn: SORTPOOL_SMOKE_SKIP_DAWN=1 was set");
} else {
  try {
    const info = await useEngine("dawn");
    const adapter = await navigator.gpu.requestAdapter();
    console.log(`engine ${info.implementation}; adapter ${adapter ? sortpool.describeAdapter(adapter) : "none"}`);
    await onBackend("webgpu");
  } catch (e) {
    check("webgpu on Dawn", false, `${e?.stack ?? e} (set SORTPOOL_SMOKE_SKIP_DAWN=1 to skip it on purpose)`);
  }
}
console.log(`engine in use: ${engineInfo().implementation}`);
console.log(failures === 0 ? "smoke test passed" : `smoke test FAILED: ${failures} check(s)`);
process.exit(failures === 0 ? 0 : 1);
