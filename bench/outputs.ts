/**
 * Where the benchmark outputs go: file writing with parent folders, and the `--report` flag's two
 * forms (a folder, which gets README.md and the charts, or a Markdown file, whose folder gets the
 * charts: how bench/results/ keeps its committed report under a file name of its own).
 *
 * @module
 */

/** Writes `text` to `path`, creating its parent folders. */
export async function writeText(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** The report's Markdown file and the folder its charts go to. */
export interface ReportPaths {
  readonly dir: string;
  readonly markdown: string;
}

/** `--report DIR` -> DIR/README.md; `--report FILE.md` -> FILE.md, charts in its folder. */
export function reportPaths(flag: string): ReportPaths {
  const path = flag.replace(/\/+$/, "");
  if (!path.endsWith(".md")) return { dir: path, markdown: `${path}/README.md` };
  const slash = path.lastIndexOf("/");
  return { dir: slash < 0 ? "." : path.slice(0, slash), markdown: path };
}

/** github-action-benchmark's file next to the JSON: `.json` replaced by `.benchmark-action.json`. */
export function actionPath(jsonPath: string): string {
  return jsonPath.endsWith(".json")
    ? jsonPath.replace(/\.json$/, ".benchmark-action.json")
    : `${jsonPath}.benchmark-action.json`;
}
