/**
 * The page's query parameters, validated: a junk value is an error that names the parameter, what
 * it takes and what it got, never a silent default (a run with `?cases=abc` would otherwise check
 * nothing and still report success).
 *
 * @module
 */

/** Default seed of the property subset (the conformance kit's default). */
export const DEFAULT_SEED = 20_251_130;

/** Most property cases per generator class the page accepts (each case is a full kernel run). */
export const MAX_CASES = 1000;

/** The page's parameters once validated. */
export interface PageParams {
  readonly quick: boolean;
  readonly benchOn: boolean;
  readonly seed: number;
  readonly perClass: number;
  readonly plant: string | null;
}

/** The parameters the page knows (any other is reported as unknown). */
export const KNOWN_PARAMS: readonly string[] = ["quick", "bench", "seed", "cases", "plant"];

function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

/** An integer written in decimal digits, within [min, max]; else null. */
function intIn(v: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/**
 * Reads the page's parameters from a query string (`location.search`); `errors` names each bad
 * one (the parameter, what it takes, what it got). With errors the page must not run.
 */
export function parseParams(search: string): { params: PageParams; errors: string[] } {
  const q = new URLSearchParams(search);
  const errors: string[] = [];
  const one = (name: string): string | null => {
    const all = q.getAll(name);
    if (all.length > 1) errors.push(`?${name} is given ${all.length} times; give it once`);
    return all.length > 0 ? all[all.length - 1] : null;
  };
  for (const key of new Set(q.keys())) {
    if (!KNOWN_PARAMS.includes(key)) {
      errors.push(`unknown parameter ?${key}; the page takes ${KNOWN_PARAMS.map((k) => `?${k}`).join(", ")}`);
    }
  }
  const quickRaw = one("quick");
  let quick = false;
  if (quickRaw === null || quickRaw === "0") quick = false;
  else if (quickRaw === "" || quickRaw === "1") quick = true;
  else errors.push(`?quick takes no value, "1" or "0" (got ${shown(quickRaw)})`);

  const benchRaw = one("bench");
  let benchOn = true;
  if (benchRaw === null || benchRaw === "1") benchOn = true;
  else if (benchRaw === "0") benchOn = false;
  else errors.push(`?bench takes "0" (no benchmark) or "1" (got ${shown(benchRaw)})`);

  const seedRaw = one("seed");
  let seed = DEFAULT_SEED;
  if (seedRaw !== null) {
    const n = intIn(seedRaw, 0, 2 ** 32 - 1);
    if (n === null) errors.push(`?seed takes an integer from 0 to ${2 ** 32 - 1} (got ${shown(seedRaw)})`);
    else seed = n;
  }

  const casesRaw = one("cases");
  let perClass = quick ? 2 : 4;
  if (casesRaw !== null) {
    const n = intIn(casesRaw, 1, MAX_CASES);
    if (n === null) errors.push(`?cases takes an integer from 1 to ${MAX_CASES} (got ${shown(casesRaw)})`);
    else perClass = n;
  }

  const plantRaw = one("plant");
  return { params: { quick, benchOn, seed, perClass, plant: plantRaw }, errors };
}
