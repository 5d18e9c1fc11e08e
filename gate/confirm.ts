/**
 * Confirmation of regressions by re-measurement.
 *
 * On a shared machine another process can slow one of the two trees' calls for a few seconds, or
 * a process can land on slower memory pages than the other; a real regression does not go away
 * when measured again, in fresh processes, such disturbances do. So the checks that failed are
 * measured again (the caller starts fresh workers), and a check fails only when every
 * measurement of it failed. Checks that passed the first time are not re-judged.
 *
 * @module
 */
import { type Check, checkId } from "./verdict.ts";

/** The outcome: the final checks and how many measurements were made (the first included). */
export interface Confirmed {
  readonly checks: Check[];
  readonly measurements: number;
}

/**
 * Re-measures the checks of `first` whose verdict is "regression", up to `retries` times, with
 * `remeasure` (which receives the still-failing checks and returns their new judgements). A
 * check's final verdict is "regression" only when all its measurements said so; its numbers are
 * those of its last measurement and its `history` lists every verdict. Only a passing
 * re-measurement clears a regression: one that could not be made (no judgement, "not-compared"
 * or "error") leaves the check failing, with a note saying why it was not confirmed.
 */
export async function confirmRegressions(
  first: readonly Check[],
  retries: number,
  remeasure: (failing: readonly Check[]) => Promise<readonly Check[]>,
  log?: (line: string) => void,
): Promise<Confirmed> {
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new RangeError(`confirmRegressions: retries: expected an integer >= 0, received ${retries}`);
  }
  const order = first.map(checkId);
  const latest = new Map(first.map((c) => [checkId(c), c]));
  let measurements = 1;
  for (let retry = 1; retry <= retries; retry++) {
    const failing = [...latest.values()].filter((c) => c.verdict === "regression");
    if (failing.length === 0) break;
    log?.(`re-measuring ${failing.length} failing check(s) in fresh processes to confirm`);
    const again = await remeasure(failing);
    measurements++;
    const judged = new Map(again.map((c) => [checkId(c), c]));
    for (const previous of failing) {
      const c = judged.get(checkId(previous));
      const history = [...previous.history, ...(c ? c.history : ["not-compared" as const])];
      if (c && (c.verdict === "pass" || c.verdict === "regression")) latest.set(checkId(c), { ...c, history });
      else {
        const why = c?.note ?? "it was not measured again";
        latest.set(checkId(previous), {
          ...previous,
          history,
          note: `re-measurement failed (${why}); first verdict kept`,
        });
      }
    }
  }
  return { checks: order.map((k) => latest.get(k)!), measurements };
}
