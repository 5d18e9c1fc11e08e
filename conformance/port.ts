/**
 * The port under test as a child process: started once, fed one request line at a time, read one
 * answer line at a time, each exchange under a deadline, and always ended (stdin closed, then
 * SIGTERM, then SIGKILL). Its stderr is kept (the last {@link STDERR_KEEP} characters) for reports.
 *
 * The port runs in a process group (a session) of its own, and every signal goes to the whole
 * group: a wrapper (a `/bin/sh` script, `npm run`, `cargo run`, `uv run`) does not outlive the kit
 * while the real port it started keeps running. Whatever is left of the group after the port has
 * ended is killed too.
 *
 * @module
 */

/** How much of the port's stderr is kept for reports (characters, the most recent). */
export const STDERR_KEEP = 16_384;

/** Outcome of one exchange. */
export type Exchange =
  | { readonly kind: "line"; readonly line: string; readonly ms: number }
  | { readonly kind: "exited"; readonly status: string }
  | { readonly kind: "timeout"; readonly ms: number }
  | { readonly kind: "stdout-closed" };

/** The command could not be started at all (not found, not executable). */
export class PortStartError extends Error {
  constructor(command: readonly string[], cause: unknown) {
    super(
      `could not start the port ${JSON.stringify(command.join(" "))}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = "PortStartError";
  }
}

/** Every port started by this process that has not been ended yet (ended on SIGINT / SIGTERM by main.ts). */
const live = new Set<PortProcess>();

/** How many ports this process has started that are still running (0 after every run: the kit's tests check it). */
export function livePortCount(): number {
  return live.size;
}

/** Kills every port this process still runs (signal handlers and fatal paths call this). */
export function killAllPorts(): void {
  for (const p of [...live]) p.kill();
}

/** Describes a child's exit status in words. */
/**
 * Whether a stdout line is blank (skipped): JSON's own whitespace only. Not `trim()`, which also
 * drops a byte-order mark, a no-break space and other Unicode spaces: a line holding only those is
 * an answer line that is not JSON, and is reported (escaped) as such.
 */
function isBlank(line: string): boolean {
  return /^[ \t\r]*$/.test(line);
}

function describeStatus(s: Deno.CommandStatus): string {
  return s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
}

/** A running port. */
export class PortProcess {
  readonly command: readonly string[];
  private readonly child: Deno.ChildProcess;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private readonly lines: string[] = [];
  private partial = "";
  private stdoutEnded = false;
  private wake: (() => void) | undefined;
  private stderrText = "";
  private exitStatus: Deno.CommandStatus | undefined;
  private readonly statusPromise: Promise<Deno.CommandStatus>;
  private readonly pumps: Promise<void>[] = [];
  private killed = false;

  private constructor(command: readonly string[], child: Deno.ChildProcess) {
    this.command = command;
    this.child = child;
    this.writer = child.stdin.getWriter();
    // A write to a port that has exited rejects; the read side reports what happened.
    this.writer.closed.catch(() => {});
    this.statusPromise = child.status.then((s) => {
      this.exitStatus = s;
      live.delete(this);
      this.notify();
      return s;
    });
    this.pumps.push(this.pumpStdout(), this.pumpStderr());
    live.add(this);
  }

  /**
   * Starts `command` (program and arguments, no shell) with piped stdin, stdout and stderr, in a new
   * session and process group whose id is the child's pid (Deno's `detached`, setsid(2) on Unix), so
   * that {@link kill} reaches everything the port starts.
   */
  static start(command: readonly string[], env?: Record<string, string>): PortProcess {
    if (command.length === 0) throw new PortStartError(command, new Error("empty command"));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        env,
        detached: true,
      }).spawn();
    } catch (e) {
      throw new PortStartError(command, e);
    }
    return new PortProcess(command, child);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async pumpStdout(): Promise<void> {
    // ignoreBOM keeps a byte-order mark in the text (the default drops one at the start of the stream):
    // a port that writes one fails on that line, the first included, and the report shows it escaped.
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    try {
      for await (const chunk of this.child.stdout) {
        const text = this.partial + decoder.decode(chunk, { stream: true });
        const parts = text.split("\n");
        this.partial = parts.pop() ?? "";
        for (const p of parts) if (!isBlank(p)) this.lines.push(p.replace(/\r$/, ""));
        if (parts.length > 0) this.notify();
      }
    } catch {
      // The stream errors when the process is killed mid-read: treated as the end of stdout.
    }
    const rest = this.partial + decoder.decode();
    if (!isBlank(rest)) this.lines.push(rest.replace(/\r$/, ""));
    this.partial = "";
    this.stdoutEnded = true;
    this.notify();
  }

  private async pumpStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.child.stderr) {
        this.stderrText += decoder.decode(chunk, { stream: true });
        if (this.stderrText.length > 2 * STDERR_KEEP) this.stderrText = this.stderrText.slice(-STDERR_KEEP);
      }
    } catch {
      // Ends with the process.
    }
    this.stderrText += decoder.decode();
  }

  /**
   * Sends one request line and waits for the next non-empty stdout line, at most `timeoutMs`
   * (covering the write too: a port that stops reading cannot block the kit).
   */
  async exchange(line: string, timeoutMs: number): Promise<Exchange> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    const write = this.writer.write(this.encoder.encode(line + "\n")).then(() => true, () => false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const wrote = await Promise.race([write, timedOut]);
      if (wrote === "timeout") return { kind: "timeout", ms: timeoutMs };
      // A failed write means the port is gone; the read below reports how it ended.
      for (;;) {
        const next = this.lines.shift();
        if (next !== undefined) return { kind: "line", line: next, ms: performance.now() - started };
        if (this.stdoutEnded) {
          const status = await this.statusWithin(Math.max(0, deadline - performance.now()) + 2000);
          return status ? { kind: "exited", status: describeStatus(status) } : { kind: "stdout-closed" };
        }
        const woke = new Promise<"woke">((resolve) => {
          this.wake = () => resolve("woke");
        });
        if ((await Promise.race([woke, timedOut])) === "timeout") return { kind: "timeout", ms: timeoutMs };
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The exit status if the process ends within `ms`, else undefined. */
  private async statusWithin(ms: number): Promise<Deno.CommandStatus | undefined> {
    if (this.exitStatus) return this.exitStatus;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.statusPromise, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lines the port printed that no request has consumed yet (extra output after the last answer). */
  unreadLines(): string[] {
    return [...this.lines];
  }

  /** The last `maxLines` lines of the port's stderr (empty string when it printed nothing). */
  stderrTail(maxLines = 20): string {
    const lines = this.stderrText.slice(-STDERR_KEEP).replace(/\s+$/, "").split("\n");
    const tail = lines.slice(-maxLines);
    return tail.join("\n");
  }

  /** The port's pid, which is also its process group's id. */
  get pid(): number {
    return this.child.pid;
  }

  /**
   * Sends `signal` to the port's whole process group; falls back to the child alone where a group
   * cannot be signalled (no such group left, or a platform without process groups).
   */
  private signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.child.pid, signal);
      return;
    } catch {
      // ESRCH: the group is gone; elsewhere: no process groups.
    }
    if (this.exitStatus) return;
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * Kills the port's process group at once (SIGKILL): the port and everything it started. Safe to
   * call twice or after the port has exited (what it left running in its group is killed).
   */
  kill(): void {
    if (!this.exitStatus) this.killed = true;
    this.signalGroup("SIGKILL");
  }

  /**
   * Ends the port: closes its stdin (a well-behaved port exits on end of input), waits up to
   * `graceMs`, then SIGTERM, then SIGKILL after another second. Returns how it ended.
   */
  async close(graceMs = 2000): Promise<string> {
    await this.writer.close().catch(() => {});
    let status = await this.statusWithin(graceMs);
    let how = "";
    if (!status) {
      this.signalGroup("SIGTERM");
      status = await this.statusWithin(1000);
      how = ` (did not exit within ${graceMs} ms of end of input: sent SIGTERM)`;
      if (!status) {
        this.kill();
        status = await this.statusWithin(5000);
        how = ` (did not exit after end of input nor SIGTERM: sent SIGKILL)`;
      }
    }
    // A wrapper that exited may leave the real port (or a helper) running in the group: end it too.
    this.signalGroup("SIGKILL");
    await this.settle();
    return status ? `${describeStatus(status)}${how}` : `still running after SIGKILL${how}`;
  }

  /** Kills the process (unless it has exited already), waits briefly for its pipes to drain; says how it ended. */
  async abort(): Promise<string> {
    const exitedAlready = this.exitStatus !== undefined;
    this.kill();
    const status = await this.statusWithin(5000);
    await this.settle();
    if (!status) return "still running after SIGKILL";
    return exitedAlready || !this.killed ? describeStatus(status) : "was killed by the kit (SIGKILL)";
  }

  /** Waits for the stdout/stderr pumps to finish (bounded: a grandchild may hold a pipe open). */
  private async settle(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.pumps),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
  }
}
