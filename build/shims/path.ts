/**
 * Browser stand-in for `node:path` in the browser bundle (build/build.ts maps the import here):
 * the POSIX `join` that src/layer.ts's directory helpers use to build file names.
 *
 * @module
 */

/** Joins path segments with "/" and removes empty and "." segments (no ".." resolution needed here). */
export function join(...parts: string[]): string {
  const absolute = parts[0]?.startsWith("/") ?? false;
  const segments = parts.flatMap((p) => p.split("/")).filter((s) => s !== "" && s !== ".");
  return (absolute ? "/" : "") + segments.join("/");
}
