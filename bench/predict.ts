/**
 * Predicts how long a benchmark call will take on a larger shape from what the same subject took
 * on smaller ones, so that hopeless calls (tens of seconds) are skipped without being paid for.
 *
 * @module
 */
import type { Group } from "./plan.ts";
import type { BenchPass } from "../harness/measure/passes.ts";

interface Seen {
  readonly k: number | null;
  readonly ms: number;
  readonly elements: number;
}

/** A prediction and the observation it was scaled from. */
export interface Prediction {
  readonly ms: number;
  /** e.g. "3881 ms at 16384 elements (k=4)". */
  readonly from: string;
}

/** Wall times per call seen so far, per (group, subject, pass) and k. */
export class CallTimeHistory {
  #seen = new Map<string, Seen[]>();

  #key(group: Group, subject: string, pass: BenchPass): string {
    return `${group}|${subject}|${pass}`;
  }

  /** Records a call time (ms) of `subject` at `k` on a shape of `elements` input elements. */
  record(group: Group, subject: string, k: number | null, pass: BenchPass, ms: number, elements: number): void {
    const key = this.#key(group, subject, pass);
    const list = (this.#seen.get(key) ?? []).filter((s) => !(s.k === k && s.elements === elements));
    list.push({ k, ms, elements });
    this.#seen.set(key, list);
  }

  /**
   * Scales the observation of the same subject and pass on the largest shape seen (same k if
   * measured there, else the slowest k there) linearly in elements. Linear scaling is optimistic
   * for the tfjs entries (they grow faster), so skips based on it are conservative.
   */
  predict(group: Group, subject: string, k: number | null, pass: BenchPass, elements: number): Prediction | null {
    const list = (this.#seen.get(this.#key(group, subject, pass)) ?? []).filter((s) => s.elements <= elements);
    if (list.length === 0) return null;
    const largest = Math.max(...list.map((s) => s.elements));
    const there = list.filter((s) => s.elements === largest);
    const basis = there.find((s) => s.k === k) ?? there.reduce((a, b) => (b.ms > a.ms ? b : a));
    return {
      ms: basis.ms * (elements / basis.elements),
      from: `${basis.ms.toFixed(0)} ms at ${basis.elements} elements${basis.k === null ? "" : ` (k=${basis.k})`}`,
    };
  }
}
