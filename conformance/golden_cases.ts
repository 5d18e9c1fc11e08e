/**
 * The conformance kit's golden cases: every case of vectors/sort_pool2d.json as requests.
 *
 * @module
 */
import { goldenInput, loadGoldenCases } from "../vectors/golden.ts";
import { caseOf, type ConformanceCase, describeCase, requestOf } from "./case_requests.ts";
import type { Op } from "./protocol.ts";

/** The golden cases as requests: one forward request each, plus a gradient request where the case has dy. */
export async function goldenCases(): Promise<ConformanceCase[]> {
  const out: ConformanceCase[] = [];
  for (const g of await loadGoldenCases()) {
    const ops: Op[] = g.dy ? ["forward", "gradient"] : ["forward"];
    const c = goldenInput(g);
    for (const op of ops) {
      const name = `golden/${g.name}/${op}`;
      out.push(
        caseOf(name, "golden", `${describeCase(c, "")}: ${g.description}`, requestOf(name, op, c, g.x, g.logits, g.dy)),
      );
    }
  }
  return out;
}
