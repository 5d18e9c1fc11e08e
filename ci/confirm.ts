/**
 * Confirmation of regressions by re-measurement.
 *
 * On the shared machine, other processes sometimes slow the memory-bound WGSL kernels far more
 * than tf.maxPool for several seconds at a time (measured: the `wgsl` forward's CPU time jumps
 * from 12 ms to 21 ms while tf.maxPool's moves 80 to 95 ms); when such a phase covers most rounds
 * of a pass, the median ratio of an unchanged kernel rises by up to ~1.4x. A real regression does
 * not go away when measured again; such a phase does. So an entry with a failing check is
 * measured again (both passes, fresh handles, fresh rounds), and a check fails only when every
 * measurement of it failed. Checks that passed the first time are not re-judged.
 *
 * @module
 */
import type { PassName } from "./baseline.ts";
import type { Check, GateEntry, Measurements } from "./measure.ts";

/** One measurement of some entries, judged. */
export interface Attempt {
  readonly measurements: Measurements;
  readonly checks: readonly Check[];
}

/** Options of {@link judgeWithConfirmation}. */
export interface ConfirmOptions {
  /** How many re-measurements a failing check gets (0: none). */
  readonly retries: number;
  /** Entries measured again with every suspect (the self-test's in-run control). */
  readonly companions?: readonly GateEntry[];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** The outcome: the first measurement (for the report) and the final checks. */
export interface Confirmed {
  readonly first: Measurements;
  readonly checks: Check[];
  /** Measurements made, the first included. */
  readonly measurements: number;
}

const id = (entry: string, pass: PassName) => `${entry}\u0000${pass}`;

/**
 * Measures `entries` with `attempt`, then re-measures the entries with a failing check up to
 * `retries` times. A check's final verdict is "regression" only when all its measurements said
 * so; its numbers are those of its last measurement and its `history` lists every verdict.
 */
export async function judgeWithConfirmation(
  entries: readonly GateEntry[],
  attempt: (entries: readonly GateEntry[]) => Promise<Attempt>,
  options: ConfirmOptions,
): Promise<Confirmed> {
  if (!Number.isSafeInteger(options.retries) || options.retries < 0) {
    throw new RangeError(`judgeWithConfirmation: retries: expected an integer >= 0, received ${options.retries}`);
  }
  const first = await attempt(entries);
  const order = first.checks.map((c) => id(c.entry, c.pass));
  const latest = new Map(first.checks.map((c) => [id(c.entry, c.pass), c]));
  let measurements = 1;
  for (let retry = 1; retry <= options.retries; retry++) {
    const failing = [...latest.values()].filter((c) => c.verdict === "regression");
    if (failing.length === 0) break;
    const suspects = entries.filter((e) => failing.some((c) => c.entry === e.name));
    const companions = (options.companions ?? []).filter((e) => !suspects.includes(e));
    options.log?.(
      `re-measuring ${suspects.map((e) => e.name).join(", ")} (${failing.length} failing check(s)) to confirm`,
    );
    const again = await attempt([...companions, ...suspects]);
    measurements++;
    for (const c of again.checks) {
      const previous = latest.get(id(c.entry, c.pass));
      if (previous?.verdict !== "regression") continue;
      latest.set(id(c.entry, c.pass), { ...c, history: [...previous.history, c.verdict] });
    }
  }
  return { first: first.measurements, checks: order.map((k) => latest.get(k)!), measurements };
}
