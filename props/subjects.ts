/**
 * What `check-grads` checks: the registry's entries, plus the tfjs op `sortPool2d` (src/op.ts) on
 * both of its backends as two check subjects, `sortPool2d@cpu` and `sortPool2d@webgpu`.
 *
 * The op is not a registry entry (the registry's `wgsl@tfjs` runs the op's kernels with weights
 * computed on the host, as every entry does: SPEC.md §5 "Weights"), but its contract differs in one
 * way that the properties must see: its logits are a float32 tensor, whose values its kernels turn
 * into weights (the softmax limit rule, on the GPU for webgpu). So the op's subjects take the case's
 * logits, round them to float32 into a tensor, and call the public op; the properties' oracle
 * rounds the logits the same way ({@link logitsPrecisionOf}). Checking both backends with the same
 * properties is what makes "one behaviour on cpu and webgpu" (for non-finite logits too) a checked
 * claim.
 *
 * @module
 */
import { sortPool2d } from "../src/op.ts";
import { selectImplementations } from "../src/registry.ts";
import { outputShape } from "../src/spec.ts";
import { tf, type TfjsBackendName, useBackend } from "../src/tfjs/runtime.ts";
import type { Implementation, SortPoolCase } from "../src/types.ts";
import { validateCase, validateDy } from "../src/validate.ts";

/** A check subject whose logits are rounded to float32 before anything else (the op's tensor). */
export interface Float32LogitsSubject extends Implementation {
  /** The precision the logits are held in before the weights are computed. */
  readonly logitsPrecision: "float32";
}

/** "float32" for a subject that rounds its logits to float32 first, else "float64" (every registry entry). */
export function logitsPrecisionOf(entry: Implementation): "float32" | "float64" {
  return (entry as Partial<Float32LogitsSubject>).logitsPrecision === "float32" ? "float32" : "float64";
}

/**
 * The op `sortPool2d` on tfjs's `backend` as a check subject (forward, and the gradient via tf.grads).
 * `switchBackend` makes `backend` tfjs's active one before each call (default: the project's queue,
 * `useBackend`; the concurrency property's planted bug passes an unserialised switch).
 */
export function opSubject(
  backend: TfjsBackendName,
  switchBackend: (backend: TfjsBackendName) => Promise<unknown> = useBackend,
): Float32LogitsSubject {
  const tensors = (c: SortPoolCase) => ({
    x: tf.tensor4d(Float32Array.from(c.x), [...c.shape]),
    logits: tf.tensor1d(Float32Array.from(c.logits)),
  });
  // poolSize and strides only when the caller's case passes them: a default-window case leaves
  // them out, as callers of the article's layer do.
  const op = (x: tf.Tensor, logits: tf.Tensor, c: SortPoolCase, input: SortPoolCase) => {
    const options = {
      k: c.k,
      padding: c.padding,
      ...(input.poolSize ? { poolSize: input.poolSize } : {}),
      ...(input.strides ? { strides: input.strides } : {}),
    };
    return sortPool2d(x as tf.Tensor4D, logits as tf.Tensor1D, options);
  };
  return {
    name: `sortPool2d@${backend}`,
    description: `the tfjs op sortPool2d (src/op.ts) on tfjs's ${backend} backend: logits as a float32 tensor, the ` +
      "softmax limit applied in its kernels, the gradient through tf.grads and its registered gradient",
    precision: "float32",
    device: backend === "webgpu" ? "webgpu" : "cpu",
    backend: `tfjs-${backend}`,
    ties: { kind: "spec" },
    logitsPrecision: "float32",
    async forward(input) {
      const c = validateCase(input);
      await switchBackend(backend);
      const y = tf.tidy(() => {
        const { x, logits } = tensors(c);
        return op(x, logits, c, input);
      });
      try {
        return { y: Float32Array.from(await y.data()), shape: outputShape(c.shape, c.padding, c) };
      } finally {
        y.dispose();
      }
    },
    async gradient(input, dyInput) {
      const c = validateCase(input);
      const dyValues = Float32Array.from(validateDy(c, dyInput));
      await switchBackend(backend);
      const [dx, dLogits] = tf.tidy(() => {
        const { x, logits } = tensors(c);
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding, c));
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a, b, c, input))([x, logits], dy);
      });
      try {
        return { dx: Float32Array.from(await dx.data()), dLogits: Float32Array.from(await dLogits.data()) };
      } finally {
        tf.dispose([dx, dLogits]);
      }
    },
  };
}

/** The op's two subjects, cpu first. */
export const opSubjects: readonly Float32LogitsSubject[] = [opSubject("cpu"), opSubject("webgpu")];

/**
 * The subjects whose name contains any comma-separated term of `filter` (all when empty): registry
 * entries first, then the op's subjects. Throws naming every known subject when nothing matches.
 */
export function selectSubjects(filter: string | undefined): Implementation[] {
  const terms = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  const ops = opSubjects.filter((s) => terms.length === 0 || terms.some((t) => s.name.includes(t)));
  let entries: Implementation[] = [];
  try {
    entries = selectImplementations(filter);
  } catch (err) {
    if (ops.length === 0) {
      throw new Error(`${(err as Error).message}, ${opSubjects.map((s) => s.name).join(", ")}`);
    }
  }
  return [...entries, ...ops];
}
