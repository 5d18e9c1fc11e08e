import { describe, expect, it } from "vitest";
import { choiceFlag, defineCli, helpText, intFlag, listFlag, numberFlag, parseCli, UsageError } from "./cli.ts";

const spec = defineCli({
  command: "deno task demo",
  summary: "A demo command.",
  options: {
    k: { type: "string", value: "LIST", description: "k values", default: "1,2" },
    runs: { type: "string", value: "N", description: "how many runs" },
    quick: { type: "boolean", short: "q", description: "reduced plan" },
  },
});

function usageMessage(args: string[]): string {
  try {
    parseCli(spec, args);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(args)}`);
}

describe("cli", () => {
  it("parses flags, applies defaults and recognises help", () => {
    const p = parseCli(spec, ["--runs", "3", "-q"]);
    expect(p.values).toEqual({ k: "1,2", runs: "3", quick: true });
    expect(p.help).toBe(false);
    expect(parseCli(spec, ["-h"]).help).toBe(true);
    expect(parseCli(spec, ["--runs=-5"]).values.runs).toBe("-5");
  });

  it("lists every flag with its default in the help text", () => {
    const text = helpText(spec);
    for (const flag of ["--k LIST", "--runs N", "-q, --quick", "-h, --help", "(default: 1,2)"]) {
      expect(text).toContain(flag);
    }
  });

  it("rejects unknown flags, missing values, values on switches and positionals, naming the flag", () => {
    expect(usageMessage(["--frob"])).toMatch(/^--frob: expected one of --help, --engine, --k, --runs, --quick/);
    expect(usageMessage(["--runs"])).toBe("--runs: expected a value, received nothing");
    expect(usageMessage(["--quick=1"])).toBe("--quick: expected no value (it is a switch), received a value");
    expect(usageMessage(["--runs", "-5"])).toMatch(/^--runs: expected a value \(write --runs=-5/);
    expect(usageMessage(["extra"])).toMatch(/takes no positional arguments\), received "extra"/);
  });

  it("converts values with errors that name the flag", () => {
    const v = parseCli(spec, ["--runs", "4", "--k", "1, 3"]).values;
    expect(intFlag(v, "runs", 1)).toBe(4);
    expect(listFlag(v, "k", Number)).toEqual([1, 3]);
    expect(() => intFlag({ runs: "4.5" }, "runs", 1)).toThrow(/--runs: expected an integer >= 1, received "4.5"/);
    expect(() => intFlag({ runs: "9" }, "runs", 1, 8)).toThrow(/in 1..8/);
    expect(() => numberFlag({ t: "abc" }, "t", 0)).toThrow(/--t: expected a number/);
    expect(() => listFlag({ k: " , " }, "k", Number)).toThrow(/--k: expected a comma-separated list/);
    // An empty item is a typo (a missing value), not something to skip.
    expect(() => listFlag({ k: "1,,3" }, "k", Number)).toThrow(/none empty, received "1,,3"/);
    expect(() => listFlag({ k: "1,3," }, "k", Number)).toThrow(/none empty, received "1,3,"/);
    expect(choiceFlag({ b: "cpu" }, "b", ["cpu", "webgpu"])).toBe("cpu");
    expect(() => choiceFlag({ b: "gpu" }, "b", ["cpu", "webgpu"])).toThrow(/--b: expected one of cpu, webgpu/);
  });
});
