/**
 * The command line of `deno task golden`: regenerate the vectors file, or with --check compare it
 * with a fresh generation. vectors/golden.ts runs it.
 *
 * @module
 */
import { defineCli, type ParsedCli } from "../harness/cli.ts";
import { GOLDEN_URL } from "./format.ts";
import { generateGoldenCases, goldenFileText } from "./generate.ts";

/** The command line of `deno task golden` (harness/cli.ts convention). */
export const GOLDEN_CLI = defineCli({
  command: "deno task golden",
  summary: "Regenerates the golden vectors (vectors/sort_pool2d.json) from the float64 reference, or with --check " +
    "only compares them with what the reference gives now.",
  options: {
    check: { type: "boolean", description: "write nothing; exit 1 when the file differs from a fresh generation" },
    out: { type: "string", value: "FILE", description: "write here instead (default: vectors/sort_pool2d.json)" },
  },
  epilog: "exit status: 0 written (or --check: up to date), 1 --check found a difference, 2 usage error",
});

/** Writes (or with --check compares) the vectors; returns the exit status. */
export async function goldenMain({ values }: ParsedCli): Promise<number> {
  const text = goldenFileText();
  const target = typeof values.out === "string" ? values.out : GOLDEN_URL.pathname;
  if (values.check === true) {
    const current = await Deno.readTextFile(target).catch(() => null);
    const same = current === text;
    console.log(
      same ? `${target} is up to date` : `${target} differs from the reference's output: run deno task golden`,
    );
    return same ? 0 : 1;
  }
  await Deno.writeTextFile(target, text);
  console.log(`wrote ${target}: ${generateGoldenCases().length} cases, ${text.length} bytes`);
  return 0;
}
