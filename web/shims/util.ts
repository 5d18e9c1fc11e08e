/**
 * Browser stand-in for `node:util` in the page's bundle (web/build.ts maps the import here). Only
 * harness/cli.ts imports it (`parseArgs`, for command lines), which a page never parses.
 *
 * @module
 */

/** A page has no command line. */
export function parseArgs(): never {
  throw new Error("parseArgs: a page has no command line");
}
