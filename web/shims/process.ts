/**
 * Browser stand-in for `node:process` in the page's bundle (web/build.ts maps the import here).
 * Only harness/measure/clocks.ts asks for it, for the process CPU clock; a page cannot read its
 * process's CPU time, so that clock reads 0 and the page's figures use GPU timestamps or wall time.
 *
 * @module
 */

/** No CPU time is visible to a page: always zero. */
function cpuUsage(): { user: number; system: number } {
  return { user: 0, system: 0 };
}

/** The subset of Node's `process` that the measurement core uses. */
const process = { cpuUsage, env: {} as Record<string, string | undefined> };
export default process;
export { cpuUsage };
