/**
 * The one entry point to TensorFlow.js for the project: loads tfjs and its WebGPU backend,
 * keeps tfjs's Node.js banner out of the harness's output, and serialises backend switches.
 *
 * tfjs has ONE active backend per process (`tf.setBackend` is global) and every op runs on it.
 * Two async calls that each switch to their own backend and then await something (a readback, an
 * initialisation) would otherwise run each other's ops on the wrong backend, or crash (e.g.
 * `Promise.all` of a webgpu and a cpu call). So every tfjs-backed call of the project
 * runs its whole body inside {@link withBackend}: one FIFO queue, the backend switched at the
 * start of each turn, nothing else touching tfjs until the body has settled (readback included).
 * The turn's backend is carried by an AsyncLocalStorage context, so code inside a turn that asks
 * for the same backend again ({@link useBackend}, a nested {@link withBackend}) runs inline
 * instead of deadlocking, and asking for another backend there throws.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { WebGpuError, withGpuErrorScopes } from "../webgpu/device.ts";
import { useEngine } from "../webgpu/engine.ts";
import { ensureWebGpuBackend } from "./webgpu_backend.ts";

export { tf, WebGpuError, withGpuErrorScopes };

/** tfjs backends the project runs on. */
export type TfjsBackendName = "cpu" | "webgpu";

const ready = new Map<TfjsBackendName, Promise<void>>();

async function initialise(name: TfjsBackendName): Promise<void> {
  if (name === "webgpu") {
    // The engine (Deno's wgpu or Dawn) must be navigator.gpu before tfjs requests its adapter.
    await useEngine();
    // In Node, navigator.gpu (Dawn) arrives after tfjs-backend-webgpu looked for it.
    ensureWebGpuBackend();
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new Error("tfjs webgpu backend: navigator.gpu is missing: this runtime has no WebGPU");
    }
    if (!(await navigator.gpu.requestAdapter())) {
      throw new Error("tfjs webgpu backend: navigator.gpu.requestAdapter() returned null: no WebGPU adapter");
    }
  }
  if (name === "webgpu") {
    // By default tfjs-webgpu runs ops on small CPU-resident inputs on the CPU (WEBGPU_CPU_FORWARD).
    // The harness wants to measure and check the GPU kernels themselves, whatever the size.
    tf.env().set("WEBGPU_CPU_FORWARD", false);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs: backend "${name}" failed to initialise`);
  // The cpu backend prints a "running TensorFlow.js in Node.js" banner on its first write when
  // tfjs believes it runs under Node (Deno looks like Node to it). The banner is advice for
  // Node users, not a diagnostic, so the harness marks the first use as done.
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  if (name === "webgpu") watchUncapturedErrors((tf.backend() as unknown as { device: GPUDevice }).device);
}

/** Initialises `name` once (a failure is not cached) and makes it the active backend. */
async function activate(name: TfjsBackendName): Promise<void> {
  let p = ready.get(name);
  if (!p) {
    p = initialise(name);
    ready.set(name, p);
    p.catch(() => ready.delete(name));
  }
  await p;
  if (tf.getBackend() !== name) {
    if (!(await tf.setBackend(name))) throw new Error(`tfjs: could not switch to backend "${name}"`);
  }
}

/**
 * GPU errors tfjs's webgpu device raised outside any error scope. tfjs-backend-webgpu creates its
 * pipelines without error scopes, so a kernel of its own that an engine's compiler rejects (a
 * shader valid on one engine and invalid on another) only raises an uncaptured error, and the
 * dispatch that uses it leaves its output unwritten: the call returns zeros or stale memory.
 */
const uncaptured: GPUError[] = [];
const watchedDevices = new WeakSet<GPUDevice>();

/** Records the uncaptured GPU errors of `device` (tfjs's webgpu device) for the checks below. */
export function watchUncapturedErrors(device: GPUDevice): void {
  if (watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.addEventListener("uncapturederror", (event) => {
    uncaptured.push((event as GPUUncapturedErrorEvent).error);
  });
}

/**
 * Throws the uncaptured GPU errors recorded so far as a {@link WebGpuError} (out-of-memory first,
 * then validation), so that a webgpu call whose tfjs kernels failed never returns its garbage.
 */
function throwUncapturedErrors(when: string): void {
  if (uncaptured.length === 0) return;
  const errors = uncaptured.splice(0);
  const oom = errors.some((e) => e.constructor.name === "GPUOutOfMemoryError" || /out of memory/i.test(e.message));
  const messages = [...new Set(errors.map((e) => e.message.trim()))];
  throw new WebGpuError(
    `tfjs's webgpu backend (${errors.length} uncaptured error${errors.length === 1 ? "" : "s"} ${when}: ` +
      "a kernel of tfjs or of this project was rejected by the engine, and results are not valid)",
    oom ? "out-of-memory" : "validation",
    messages.join("\n---\n"),
  );
}

/**
 * Throws, as a {@link WebGpuError}, any GPU error that tfjs's webgpu device raised so far: the
 * project's kernels' error scopes (awaited) and uncaptured errors (a kernel of tfjs or of this
 * project that the engine rejected). {@link withBackend} does this at the end of every webgpu
 * turn; code that calls the op after `tf.setBackend("webgpu")` itself awaits this after reading
 * results, since such errors arrive asynchronously and the outputs they spoil hold zeros.
 *
 * @example
 * ```ts
 * import { throwGpuErrors } from "@sortpool/sortpool";
 * await throwGpuErrors(); // resolves when no GPU error was raised
 * ```
 */
export async function throwGpuErrors(): Promise<void> {
  const device = webgpuBackend()?.device;
  if (device) { for (const check of turnEndChecks) await check(device); }
  throwUncapturedErrors("since the last check");
}

/** Checks run at the end of every webgpu turn ({@link checkEachWebgpuTurn}). */
const turnEndChecks: ((device: GPUDevice) => Promise<void>)[] = [];

/**
 * Registers `check` to run on tfjs's webgpu device when each {@link withBackend} turn on webgpu
 * ends, before its result is returned: the project's own kernels on tfjs's device record their GPU
 * errors in error scopes that answer asynchronously, and a turn must not return data those
 * dispatches spoiled (the check throws the error instead).
 */
export function checkEachWebgpuTurn(check: (device: GPUDevice) => Promise<void>): void {
  turnEndChecks.push(check);
}

/** The turn an async context is in: the backend it holds. */
interface Turn {
  readonly backend: TfjsBackendName;
}

const turns = new AsyncLocalStorage<Turn>();
let queueTail: Promise<unknown> = Promise.resolve();

/**
 * Runs `body` with `name` as tfjs's active backend and no other tfjs work in between: calls are
 * queued in FIFO order and each keeps the queue until its body has settled (so a body may await
 * readbacks). Inside a turn of the same backend, `body` runs at once (re-entrant); inside a turn
 * of another backend this throws, since that would switch the backend under the running turn.
 *
 * @param name "cpu" or "webgpu"; initialised on first use (throws with the reason when it cannot run).
 * @returns what `body` returns.
 */
export function withBackend<T>(name: TfjsBackendName, body: () => T | Promise<T>): Promise<T> {
  const turn = turns.getStore();
  if (turn) {
    if (turn.backend !== name) {
      return Promise.reject(
        new Error(
          `tfjs: a call holding backend "${turn.backend}" asked for "${name}": one call runs on one backend ` +
            "(start the other call outside this one)",
        ),
      );
    }
    return Promise.resolve().then(body);
  }
  const run = () =>
    turns.run({ backend: name }, async () => {
      await activate(name);
      if (name !== "webgpu") return await body();
      throwUncapturedErrors("before this call, after an earlier webgpu call had returned");
      let value: T;
      try {
        value = await body();
      } catch (e) {
        uncaptured.length = 0; // the body's own error explains the call; stale GPU errors would mislead the next one
        throw e;
      }
      const device = webgpuBackend()?.device;
      if (device) { for (const check of turnEndChecks) await check(device); }
      throwUncapturedErrors("during this call");
      return value;
    });
  const result = queueTail.then(run, run);
  queueTail = result.catch(() => undefined);
  return result;
}

/**
 * Makes `name` the active tfjs backend, initialising it on first use, and returns tf. Throws with
 * the reason when the backend cannot run here (e.g. no WebGPU adapter).
 *
 * Inside a {@link withBackend} turn of the same backend this only checks; outside one it switches
 * in a turn of its own, so it never switches under another call's turn, but the backend may change
 * again as soon as it returns: code that can run concurrently with other tfjs calls uses
 * {@link withBackend} instead (every registry entry does).
 */
export function useBackend(name: TfjsBackendName): Promise<typeof tf> {
  return withBackend(name, () => tf);
}

/** The parts of tfjs-backend-webgpu's backend object that `finishWork` needs. */
interface WebGPUBackendQueue {
  readonly device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** tfjs's webgpu backend object when it has been initialised, else undefined. Does not switch backends. */
function webgpuBackend(): WebGPUBackendQueue | undefined {
  if (!tf.engine().registry["webgpu"]) return undefined;
  return tf.findBackend("webgpu") as unknown as WebGPUBackendQueue | undefined;
}

/**
 * Resolves once every operation issued so far on tfjs's webgpu backend has finished executing
 * (whichever backend is active). tfjs-webgpu batches dispatches into a command encoder that it
 * submits lazily; this submits the pending batch and waits for the GPU queue. The cpu backend
 * computes synchronously, so there is nothing to wait for there.
 */
export async function finishWork(): Promise<void> {
  const backend = webgpuBackend();
  if (!backend) return;
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.device.queue.onSubmittedWorkDone();
}
