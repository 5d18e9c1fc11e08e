/**
 * The `concurrency` property (input class: concurrent calls on several backends): registry
 * entries are public API, so any interleaving of any entries' calls must give each call its own
 * correct answer, computed on its declared backend. A case is a random schedule of 2..5 forward
 * and gradient calls of the entry under test and a random partner, started together with random
 * delays (same tick, a few microtask hops, a timer), each on its own case. It checks
 *
 * - every call's result against the float64 reference of its own case (tolerances as `vjp-ref`);
 * - no call throws;
 * - every tfjs kernel a call dispatches runs on the backend its entry declares (`backend`
 *   "tfjs-cpu" / "tfjs-webgpu"): each call runs in an AsyncLocalStorage context naming that
 *   backend, and a hook on tfjs's engine (`runKernel`, which every tfjs op goes through) compares
 *   the active backend with it at each dispatch. A correct answer computed on the wrong backend
 *   (`Promise.all` of tfjs-topk@webgpu and tfjs-topk@cpu once ran all four TopK kernels on cpu)
 *   is a failure.
 *
 * Partners: entries that share process-global state with the entry under test. tfjs-backed and
 * WebGPU entries share tfjs's single active backend and the adapter, so their partners are all of
 * those (plus the entry itself); an entry on neither ("js": the reference, the planted mutants)
 * shares nothing, so it is paired with itself or the reference.
 *
 * The planted bug {@link unserialisedBackendEntry} is the kind of fault this property exists for:
 * an entry that switches tfjs's backend with a plain `tf.setBackend` and then awaits before
 * computing.
 *
 * @module
 */
import fc from "fast-check";
import { AsyncLocalStorage } from "node:async_hooks";
import { implementations } from "../../src/registry.ts";
import { tf, useBackend } from "../../src/tfjs/runtime.ts";
import type { Implementation } from "../../src/types.ts";
import { caseArbitrary, type CaseConstraints, type PropCase, type ValueKind } from "../generators.ts";
import { checkForwardAgainstReference, checkGradientAgainstReference, entryCase, supportedCase } from "../agreement.ts";
import type { CheckContext, PropertyDefinition } from "./definition.ts";
import { opSubject } from "../subjects.ts";
import { type Verdict, VerdictBuilder } from "../verdict.ts";

/** How a scheduled call waits before it starts. */
export type StartDelay = "now" | "microtask" | "microtasks" | "timer";

/** One call of a schedule: whose (0 = the entry under test, 1 = the partner), which, when. */
export interface ScheduledCall {
  readonly who: 0 | 1;
  readonly kind: "forward" | "gradient";
  readonly delay: StartDelay;
}

/** The concurrency part of a case. */
export interface Schedule {
  /** Picks the partner among the entry's candidates (modulo their count). */
  readonly partnerPick: number;
  /** The partner's own case (built for float32, so exact for any partner). */
  readonly partnerCase: PropCase;
  /** The calls, all started together. */
  readonly calls: readonly ScheduledCall[];
}

/** A property case with its schedule. */
export interface ConcurrencyCase extends PropCase {
  readonly schedule: Schedule;
}

const KINDS: readonly ValueKind[] = ["distinct", "near-ties", "huge", "tiny", "mixed"];
const CONSTRAINTS: CaseConstraints = { kinds: KINDS, windows: "any", perChannelLogits: true };

const callArbitrary: fc.Arbitrary<ScheduledCall> = fc.record({
  who: fc.constantFrom<0 | 1>(0, 1),
  kind: fc.constantFrom<"forward" | "gradient">("forward", "gradient"),
  delay: fc.constantFrom<StartDelay>("now", "microtask", "microtasks", "timer"),
});

/** Cases of the concurrency property for an entry of `precision`. */
export function concurrencyArbitrary(precision: "float32" | "float64"): fc.Arbitrary<ConcurrencyCase> {
  return fc.record({
    own: caseArbitrary(precision, CONSTRAINTS),
    partnerCase: caseArbitrary("float32", CONSTRAINTS),
    partnerPick: fc.nat({ max: 1000 }),
    // Each side calls at least once; shrinking goes to one forward each, started at once.
    first: fc.constantFrom<"forward" | "gradient">("forward", "gradient"),
    second: fc.constantFrom<"forward" | "gradient">("forward", "gradient"),
    firstDelay: fc.constantFrom<StartDelay>("now", "microtask", "microtasks", "timer"),
    secondDelay: fc.constantFrom<StartDelay>("now", "microtask", "microtasks", "timer"),
    more: fc.array(callArbitrary, { maxLength: 3 }),
  }).map(({ own, partnerCase, partnerPick, first, second, firstDelay, secondDelay, more }) => ({
    ...own,
    schedule: {
      partnerPick,
      partnerCase,
      calls: [{ who: 0, kind: first, delay: firstDelay }, { who: 1, kind: second, delay: secondDelay }, ...more],
    },
  }));
}

/** The tfjs backend an entry declares ("tfjs-cpu" → "cpu"), or undefined for entries not on tfjs. */
export function declaredTfjsBackend(entry: Implementation): string | undefined {
  return entry.backend.startsWith("tfjs-") ? entry.backend.slice("tfjs-".length) : undefined;
}

/** Whether an entry shares process-global state (tfjs's active backend, the WebGPU adapter) with others. */
function sharesGlobalState(entry: Implementation): boolean {
  return declaredTfjsBackend(entry) !== undefined || entry.device === "webgpu";
}

let webgpu: Promise<boolean> | undefined;
function webgpuAvailable(): Promise<boolean> {
  webgpu ??=
    (async () => typeof navigator !== "undefined" && !!navigator.gpu && !!(await navigator.gpu.requestAdapter()))()
      .catch(() => false);
  return webgpu;
}

/**
 * The entries a call of `entry` is paired with (see the module docs), in registry order, the entry
 * itself first. WebGPU partners are left out when there is no adapter.
 */
export async function partnersOf(entry: Implementation): Promise<Implementation[]> {
  const gpu = await webgpuAvailable();
  const candidates = sharesGlobalState(entry)
    ? implementations.filter((i) => i !== entry && sharesGlobalState(i) && (gpu || i.device !== "webgpu"))
    : implementations.filter((i) => i !== entry && i.name === "reference");
  return [entry, ...candidates];
}

/** The declared backend of the call an async context belongs to, and what ran elsewhere. */
interface CallTrace {
  readonly label: string;
  readonly declared: string;
  readonly wrong: Map<string, number>;
}

const traces = new AsyncLocalStorage<CallTrace>();
let hooked = false;

/** Wraps tfjs's engine `runKernel` once, so every kernel dispatch inside a traced call is checked. */
function hookEngine(): void {
  if (hooked) return;
  hooked = true;
  const engine = tf.engine() as unknown as { runKernel: (...args: unknown[]) => unknown };
  const original = engine.runKernel;
  engine.runKernel = function (this: unknown, ...args: unknown[]) {
    const trace = traces.getStore();
    if (trace) {
      const active = tf.getBackend();
      if (active !== trace.declared) {
        const key = `${String(args[0])} on ${active}`;
        trace.wrong.set(key, (trace.wrong.get(key) ?? 0) + 1);
      }
    }
    return original.apply(this, args);
  };
}

/**
 * Runs `body` as one traced call: every tfjs kernel dispatched in its async context (awaits
 * included) is compared with `declared` at dispatch time. Returns what `body` returned and the
 * kernels that ran on another backend ("Name on backend" → count; empty when all ran on `declared`).
 */
export async function traceKernels<T>(
  declared: string,
  body: () => Promise<T>,
): Promise<{ value: T; wrong: ReadonlyMap<string, number> }> {
  hookEngine();
  const trace: CallTrace = { label: "", declared, wrong: new Map() };
  const value = await traces.run(trace, body);
  return { value, wrong: trace.wrong };
}

/** Waits as a scheduled call asks. */
function startAfter(delay: StartDelay): Promise<void> {
  switch (delay) {
    case "now":
      return Promise.resolve();
    case "microtask":
      return Promise.resolve().then(() => undefined);
    case "microtasks":
      return Promise.resolve().then(() => Promise.resolve()).then(() => undefined);
    case "timer":
      return new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** "entry.gradient@timer ‖ partner.forward@now ‖ ..." */
export function describeSchedule(
  entry: Implementation,
  partner: Implementation,
  calls: readonly ScheduledCall[],
): string {
  return calls.map((call) => `${call.who === 0 ? entry.name : `partner ${partner.name}`}.${call.kind}@${call.delay}`)
    .join(" ‖ ");
}

/** Longest one schedule may take (a deadlocked queue must fail the case, not hang the run). */
export const SCHEDULE_TIMEOUT_MS = 120_000;

/**
 * Runs `c`'s schedule: every call started together (after its delay), each traced with its
 * entry's declared backend; then checks every result. Never throws.
 */
export async function checkSchedule(
  entry: Implementation,
  partner: Implementation,
  c: ConcurrencyCase,
): Promise<Verdict> {
  hookEngine();
  const v = new VerdictBuilder();
  const text = describeSchedule(entry, partner, c.schedule.calls);
  const note = () => `schedule: ${text}`;
  // The partner's case falls back to the default window when the partner does not support it
  // (tfjs-network: 2x2/2 only): a partner call must run.
  const partnerCase = supportedCase(partner, c.schedule.partnerCase);
  const calls = c.schedule.calls.map((call, index) => {
    const impl = call.who === 0 ? entry : partner;
    const own = call.who === 0 ? c : partnerCase;
    const label = `call ${index + 1} (${impl.name}.${call.kind})`;
    const declared = declaredTfjsBackend(impl);
    const trace: CallTrace | undefined = declared === undefined ? undefined : { label, declared, wrong: new Map() };
    const run = async () => {
      await startAfter(call.delay);
      const body = () =>
        call.kind === "forward"
          ? impl.forward(entryCase(impl, own)).then((r) => ({ y: r.y }))
          : impl.gradient(entryCase(impl, own), Float32Array.from(own.dy)).then((g) => ({ g }));
      return trace ? traces.run(trace, body) : body();
    };
    return { label, impl, own, call, trace, result: run() };
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((
    resolve,
  ) => (timer = setTimeout(() => resolve("timeout"), SCHEDULE_TIMEOUT_MS)));
  const settled = await Promise.race([Promise.allSettled(calls.map((x) => x.result)), deadline]);
  clearTimeout(timer);
  if (settled === "timeout") {
    v.fail("schedule", `every call settles within ${SCHEDULE_TIMEOUT_MS / 1000} s`, "a call did not settle", note());
    return v.build();
  }
  settled.forEach((outcome, i) => {
    const { label, impl, own, trace } = calls[i];
    if (outcome.status === "rejected") {
      const err = outcome.reason;
      v.fail(
        `${label}: exception`,
        "no exception",
        err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        note(),
      );
      return;
    }
    const value = outcome.value as { y?: ArrayLike<number>; g?: { dx: ArrayLike<number>; dLogits: ArrayLike<number> } };
    if (value.y) checkForwardAgainstReference(v, label, impl, own, value.y, note);
    if (value.g) checkGradientAgainstReference(v, label, impl, own, value.g, note);
    if (trace) {
      v.compare(
        `${label}: tfjs kernels run on another backend than "${trace.declared}"`,
        0,
        trace.wrong.size,
        0,
        () => undefined,
        "fail",
        () => `${[...trace.wrong].map(([k, n]) => `${n}× ${k}`).join(", ")}; ${note()}`,
      );
    }
  });
  return v.build();
}

/** The property (listed in props/properties.ts). */
export const concurrencyProperty: PropertyDefinition = {
  name: "concurrency",
  title: "calls of the entry and a random partner (tfjs and WebGPU entries: each other, on both backends; others: " +
    "itself or the reference) started together in a random schedule each return their own case's reference answer, " +
    "with every tfjs kernel on the backend their entry declares",
  constraints: CONSTRAINTS,
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: (e) => e.precision,
  arbitrary: (entry) => concurrencyArbitrary(entry.precision),
  check: async (_ctx: CheckContext, entry: Implementation, c: PropCase): Promise<Verdict> => {
    if (!("schedule" in c)) {
      const v = new VerdictBuilder();
      v.fail("harness", "a case drawn by concurrencyArbitrary (with a schedule)", "a plain case");
      return v.build();
    }
    const cc = c as ConcurrencyCase;
    try {
      const partners = await partnersOf(entry);
      return await checkSchedule(entry, partners[cc.schedule.partnerPick % partners.length], cc);
    } catch (err) {
      const v = new VerdictBuilder();
      v.fail("exception", "no exception", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      return v.build();
    }
  },
};

let cpuReady: Promise<unknown> | undefined;
/** tfjs's cpu backend initialised the project's way once (no Node.js banner); the switches stay unserialised. */
function cpuInitialised(): Promise<unknown> {
  cpuReady ??= useBackend("cpu");
  return cpuReady;
}

/**
 * Planted bug for {@link concurrencyProperty}: the `sortPool2d` op on tfjs's cpu backend, switched
 * to with a plain `tf.setBackend("cpu")` outside the project's queue, followed by an await (as any
 * initialisation or readback is) before computing. Alone it is correct; started together with a
 * webgpu entry its kernels run on webgpu (or the other entry's on cpu), which only the backend
 * trace sees: the answers stay right.
 */
export const unserialisedBackendEntry: Implementation = {
  ...opSubject("cpu", async (backend) => {
    await cpuInitialised();
    await tf.setBackend(backend);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }),
  name: "unserialised-backend-switch",
  description: "sortPool2d on tfjs cpu, switching the global backend with tf.setBackend outside the queue, then " +
    "awaiting before computing (input class: concurrent calls on several backends)",
};
