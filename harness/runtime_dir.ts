/**
 * A private XDG runtime directory for the WebGPU drivers. Mesa's lavapipe (the Vulkan CPU adapter)
 * prints "XDG_RUNTIME_DIR is invalid or not set in the environment" on every adapter request when
 * the variable is unset or names a directory it cannot use; the tasks (`harness/cli.ts` `runCli`) and
 * the test runner (`vitest.config.ts`) call {@link ensureRuntimeDir} before any `navigator.gpu`
 * call, so a newcomer's first `deno task test` prints none of that.
 *
 * @module
 */

/**
 * Leaves a set `XDG_RUNTIME_DIR` alone; otherwise creates `<tmp>/sortpool-runtime-<uid>` (mode
 * 0700, as the XDG spec requires) and points `XDG_RUNTIME_DIR` at it for this process and the
 * processes it starts. Returns the directory in use, or "" when it could not set one (no
 * permission to read the environment or create the directory, a platform without chmod): then
 * nothing changes and the only consequence is lavapipe's complaint.
 */
export function ensureRuntimeDir(): string {
  try {
    const current = Deno.env.get("XDG_RUNTIME_DIR");
    if (current) return current;
    const tmp = Deno.env.get("TMPDIR") || "/tmp";
    const dir = `${tmp.replace(/\/+$/, "")}/sortpool-runtime-${Deno.uid() ?? "user"}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    return dir;
  } catch {
    return "";
  }
}
