/**
 * Browser stand-in for `node:url` in the browser bundle (build/build.ts maps the import here):
 * `pathToFileURL`, which src/layer.ts's `loadFromDirectory` uses. A browser cannot fetch `file:`
 * URLs from a page, so that helper is for Deno and Node; this only keeps the bundle loadable.
 *
 * @module
 */

/** The `file:` URL of an absolute POSIX path (a relative one is taken from "/"). */
export function pathToFileURL(path: string): URL {
  return new URL(`file://${path.startsWith("/") ? "" : "/"}${path.split("/").map(encodeURIComponent).join("/")}`);
}
