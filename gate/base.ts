/**
 * Which commit the gate compares the working tree against, and its tree on disk.
 *
 * The default base (when `--base` is not given), first rule that applies:
 * 1. `SORTPOOL_GATE_BASE`: a commit named by the CI system (for a pull request its base commit,
 *    for a push the commit before it, for a machine that lands series of commits the last commit
 *    that landed). An all-zero value (GitHub's "before" of a new branch) counts as unset. A commit
 *    this clone lacks is fetched from the remote (below); only when the remote answers that it has
 *    no such commit (the commit before a force push) is it reported and skipped.
 * 2. A remote-tracking main branch (`R/main`, else `R/master`, for R the current branch's remote:
 *    its configured `branch.<name>.remote`, else `origin`, else the only remote; then `origin`):
 *    the merge-base of HEAD with it, i.e. everything not yet on the remote's main is measured;
 *    when HEAD is already on it, HEAD~1.
 * 3. A local `main` (else `master`) branch: the merge-base of HEAD with it on a topic branch; at
 *    main's tip (the merge-base is HEAD itself), HEAD~1.
 * 4. HEAD~1.
 * The working tree, uncommitted changes included, is always the side being judged.
 *
 * Missing commits and shallow clones (the default of many CI systems): a `--base` or
 * `$SORTPOOL_GATE_BASE` commit may not have been fetched (a single-branch clone), and a merge-base,
 * a named commit or HEAD~1 may lie past a shallow clone's depth. A full commit id the clone lacks
 * is fetched by id from the remote (`git fetch REMOTE ID`, with `--depth=1` in a shallow clone);
 * when a rule's commit is still missing in a shallow clone, the history is deepened (`git fetch
 * --deepen=50`, then `--deepen=500`, then `--unshallow`) until it appears. When the remote cannot
 * be reached (no remote, no network), resolving stops with a {@link BaseError} (the gate exits 2)
 * saying what to fetch. A rule is never silently replaced by a later one because history was
 * missing, and the rule reported is the one used, followed by every fetch made
 * (`; fetched: git fetch ...`), those of rules that did not apply included.
 *
 * The base tree comes from git itself (`git archive`, no network) into a temporary directory.
 *
 * @module
 */

/** Environment variable a CI system sets to the commit to compare against. */
export const BASE_ENV = "SORTPOOL_GATE_BASE";

/** A resolved base commit. */
export interface BaseChoice {
  /** Full commit id. */
  readonly commit: string;
  /** What was asked for or derived, e.g. "HEAD~1" or "merge-base of HEAD and main". */
  readonly ref: string;
  /** Which rule chose it (for the report). */
  readonly rule: string;
  /** The commit's subject line. */
  readonly subject: string;
}

/** Runs git in `repo`; stdout trimmed, or null when git fails (with stderr in `error`). */
export async function git(repo: string, args: readonly string[]): Promise<{ out: string | null; error: string }> {
  try {
    const r = await new Deno.Command("git", { args: ["-C", repo, ...args], stdout: "piped", stderr: "piped" }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return r.success ? { out: text(r.stdout), error: "" } : { out: null, error: text(r.stderr) };
  } catch (e) {
    return { out: null, error: `cannot run git: ${e instanceof Error ? e.message : e}` };
  }
}

async function commitOf(repo: string, ref: string): Promise<string | null> {
  return (await git(repo, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).out || null;
}

/** An error in choosing or checking out the base: the gate exits 2 with it. */
export class BaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BaseError";
  }
}

/** Whether `repo` is a shallow clone. */
export async function isShallow(repo: string): Promise<boolean> {
  return (await git(repo, ["rev-parse", "--is-shallow-repository"])).out === "true";
}

/** The branch HEAD is on, or undefined (a detached HEAD). */
async function currentBranch(repo: string): Promise<string | undefined> {
  return (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"])).out || undefined;
}

/** The remotes of `repo`. */
async function remotes(repo: string): Promise<string[]> {
  return ((await git(repo, ["remote"])).out ?? "").split("\n").filter((r) => r.length > 0);
}

/**
 * The remote to fetch from for `branch` (default: the branch HEAD is on): the prefix of a
 * remote-tracking branch, the branch's configured remote (`branch.<name>.remote`), `origin`, or
 * the only remote; undefined when none of these exists.
 */
async function remoteOf(repo: string, branch?: string): Promise<string | undefined> {
  const all = await remotes(repo);
  const name = branch ?? await currentBranch(repo);
  if (name !== undefined) {
    const prefix = name.split("/")[0];
    if (name.includes("/") && all.includes(prefix)) return prefix;
    const configured = (await git(repo, ["config", `branch.${name}.remote`])).out;
    if (configured && all.includes(configured)) return configured;
  }
  if (all.includes("origin")) return "origin";
  return all.length === 1 ? all[0] : undefined;
}

/**
 * The remotes whose main branch rule 2 looks for, in order: the current branch's remote (its
 * configured remote, else `origin`, else the only remote), then `origin`.
 */
async function mainRemotes(repo: string): Promise<string[]> {
  const first = await remoteOf(repo);
  return [...new Set([...(first ? [first] : []), "origin"])];
}

/** Ways to deepen a shallow history, in order: cheap first, the whole history last. */
export const DEEPEN_STEPS: readonly string[] = ["--deepen=50", "--deepen=500", "--unshallow"];

/** Whether a failed fetch's message says the remote has no such commit (as opposed to: cannot reach it). */
function remoteLacks(error: string): boolean {
  return /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not found in upstream/i.test(
    error,
  );
}

/**
 * The fetches one resolution makes, in order: every one is run through {@link Fetches.run} and
 * listed in the rule reported ({@link Fetches.note}), whichever rule ends up being used.
 */
class Fetches {
  readonly done: string[] = [];
  constructor(private readonly repo: string) {}

  /** Runs `git fetch --quiet ARGS`; records it when it succeeds. Returns git's error, or null. */
  async run(args: readonly string[]): Promise<string | null> {
    const r = await git(this.repo, ["fetch", "--quiet", ...args]);
    if (r.out === null) return r.error || "git fetch failed";
    this.done.push(`git fetch ${args.join(" ")}`);
    return null;
  }

  /** "; fetched: git fetch ..., ..." for the rule, or "" when nothing was fetched. */
  note(): string {
    return this.done.length > 0 ? `; fetched: ${this.done.join(", ")}` : "";
  }
}

/** The advice of a BaseError about a shallow clone: what to fetch. */
function shallowAdvice(what: string, why: string, remote: string | undefined, extra = ""): BaseError {
  return new BaseError(
    `${what}: the clone is shallow and ${why}; fetch ${extra}its history (git fetch --unshallow${
      remote ? ` ${remote}` : " REMOTE"
    }, or a clone with full history, e.g. actions/checkout's fetch-depth: 0), or name the base with --base REF or ` +
      `$${BASE_ENV}`,
  );
}

/**
 * In a shallow `repo`, fetches more history from `remote` ({@link DEEPEN_STEPS}) until `found()`
 * gives a value or the clone is complete. Returns the value (null when the complete history lacks
 * it), or throws a {@link BaseError} saying what to fetch when history cannot be fetched.
 */
async function deepenUntil<T>(
  repo: string,
  fetches: Fetches,
  remote: string | undefined,
  what: string,
  found: () => Promise<T | null>,
): Promise<T | null> {
  if (remote === undefined) throw shallowAdvice(what, "no remote is configured to deepen it from", remote);
  for (const step of DEEPEN_STEPS) {
    if (!(await isShallow(repo))) break;
    const error = await fetches.run([step, remote]);
    if (error !== null) {
      throw shallowAdvice(what, `git fetch ${step} ${remote} failed (${error.split("\n")[0]})`, remote);
    }
    const value = await found();
    if (value !== null) return value;
  }
  return null;
}

/** A full (40 or 64 hex digit) commit id, which a remote can be asked for by id. */
function isFullId(ref: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(ref);
}

/**
 * Makes `ref` a commit here if a remote has it: a full commit id is fetched by id (`git fetch
 * [--depth=1] REMOTE ID`, shallow only in a shallow clone); a shallow clone is then deepened until
 * `ref` resolves. Returns the commit; null when the remote answered that it has no such commit
 * (and, in a shallow clone, the complete history lacks it too). Throws {@link BaseError} saying
 * what to fetch when the remote cannot be reached, or when a shallow clone has no remote.
 */
async function fetchCommit(
  repo: string,
  fetches: Fetches,
  ref: string,
  what: string,
): Promise<string | null> {
  const shallow = await isShallow(repo);
  const remote = await remoteOf(repo);
  if (remote === undefined) {
    if (shallow) throw shallowAdvice(what, "no remote is configured to fetch it from", remote, `${ref} or `);
    return null;
  }
  if (isFullId(ref)) {
    const error = await fetches.run([...(shallow ? ["--depth=1"] : []), remote, ref]);
    if (error === null) {
      const commit = await commitOf(repo, ref);
      if (commit) return commit;
    } else if (!remoteLacks(error)) {
      throw new BaseError(
        `${what}: not a commit in this clone${shallow ? " (a shallow one)" : ""}, and git fetch ${remote} ${ref} ` +
          `failed (${error.split("\n")[0]}); fetch it (git fetch ${remote} ${ref}${
            shallow ? `, or git fetch --unshallow ${remote}` : ""
          }) or name another base with --base REF`,
      );
    }
  }
  // A ref past the depth (HEAD~3, origin/main~1), or a server that refuses commits by id: deepen.
  return shallow ? await deepenUntil(repo, fetches, remote, what, () => commitOf(repo, ref)) : null;
}

/**
 * Resolves the base commit: `explicit` (a `--base` value) when given, else the default rules of
 * the module documentation with `env` (the value of {@link BASE_ENV}), fetching a named commit a
 * clone lacks and deepening a shallow clone where a rule needs history it lacks. The rule reported
 * lists every fetch made. Throws {@link BaseError} when the named ref is not a commit (here or on
 * the remote), no rule finds one (a repository with a single commit), or a remote cannot be
 * reached for history or a commit the clone lacks.
 */
export async function resolveBase(
  repo: string,
  explicit: string | undefined,
  env: string | undefined,
): Promise<BaseChoice> {
  const fetches = new Fetches(repo);
  const choose = async (ref: string, rule: string): Promise<BaseChoice> => {
    const commit = await commitOf(repo, ref);
    if (!commit) {
      const why = (await git(repo, ["rev-parse", "--verify", `${ref}^{commit}`])).error;
      throw new BaseError(`base ${JSON.stringify(ref)} (${rule}): not a commit in ${repo}${why ? `: ${why}` : ""}`);
    }
    const subject = (await git(repo, ["log", "-1", "--format=%s", commit])).out ?? "";
    return { commit, ref, rule: `${rule}${fetches.note()}`, subject };
  };
  if (explicit !== undefined) {
    if (!(await commitOf(repo, explicit))) {
      const what = `base ${JSON.stringify(explicit)} (--base)`;
      if ((await fetchCommit(repo, fetches, explicit, what)) === null) {
        const why = (await git(repo, ["rev-parse", "--verify", `${explicit}^{commit}`])).error;
        throw new BaseError(
          `${what}: not a commit in ${repo}${why ? `: ${why}` : ""}${
            fetches.done.length > 0 ? ` (after ${fetches.done.join(", ")})` : ""
          }`,
        );
      }
    }
    return await choose(explicit, "--base");
  }
  const fromEnv = env?.trim();
  let envNote = "";
  if (fromEnv && !/^0+$/.test(fromEnv)) {
    if (await commitOf(repo, fromEnv)) return await choose(fromEnv, `$${BASE_ENV}`);
    // Not fetched (a shallow or single-branch clone), or in no history at all (the commit before a force push):
    // ask the remote; only a remote that answers it has no such commit lets the next rule apply.
    const what = `$${BASE_ENV}=${fromEnv}`;
    if ((await fetchCommit(repo, fetches, fromEnv, what)) !== null) return await choose(fromEnv, `$${BASE_ENV}`);
    envNote = `; $${BASE_ENV}=${fromEnv} is not a commit here${
      (await remoteOf(repo)) ? " nor on the remote" : " (no remote to fetch it from)"
    }`;
  }
  const head = await commitOf(repo, "HEAD");
  if (!head) throw new BaseError(`no base: ${repo} has no commit (HEAD does not resolve)`);
  const parent = async (rule: string, remote: string | undefined) => {
    if (!(await commitOf(repo, "HEAD~1")) && (await isShallow(repo))) {
      await deepenUntil(repo, fetches, remote, `HEAD's parent (${rule})`, () => commitOf(repo, "HEAD~1"));
    }
    if (!(await commitOf(repo, "HEAD~1"))) {
      throw new BaseError(`no base: HEAD has no parent (${rule}); name one with --base REF or $${BASE_ENV}`);
    }
    return await choose("HEAD~1", rule);
  };
  const unrelated: string[] = [];
  const remoteMains = (await mainRemotes(repo)).flatMap((r) => [`${r}/main`, `${r}/master`]);
  for (const [branches, kind] of [[remoteMains, "remote"], [["main", "master"], "local"]] as const) {
    for (const branch of branches) {
      if (!(await commitOf(repo, branch))) continue;
      const mergeBaseOf = async () => (await git(repo, ["merge-base", "HEAD", branch])).out || null;
      let mergeBase = await mergeBaseOf();
      if (!mergeBase && (await isShallow(repo))) {
        // No common commit inside the clone's depth: the merge-base may lie past it.
        const remote = await remoteOf(repo, branch);
        mergeBase = await deepenUntil(repo, fetches, remote, `the merge-base of HEAD and ${branch}`, mergeBaseOf);
      }
      if (!mergeBase) {
        unrelated.push(branch); // HEAD and this branch share no history: try the next rule, and say so
        continue;
      }
      if (mergeBase !== head) {
        return await choose(mergeBase, `merge-base of HEAD and ${branch} (${kind} main branch)${envNote}`);
      }
      return await parent(`HEAD is on ${branch}: its parent${envNote}`, await remoteOf(repo, branch));
    }
  }
  const why = unrelated.length > 0
    ? `HEAD shares no history with ${unrelated.join(" or ")}: HEAD's parent`
    : "no main branch: HEAD's parent";
  return await parent(`${why}${envNote}`, await remoteOf(repo));
}

/**
 * Writes the tree of `commit` into a new temporary directory with `git archive` and returns its
 * path; the caller removes it (`Deno.remove(dir, { recursive: true })`). Throws {@link BaseError}
 * when git or tar fails.
 */
export async function materializeCommit(repo: string, commit: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sortpool-gate-base-" });
  try {
    const archive = new Deno.Command("git", {
      args: ["-C", repo, "archive", "--format=tar", commit],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped", stderr: "piped" }).spawn();
    const text = (s: ReadableStream<Uint8Array>) => new Response(s).text().then((t) => t.trim());
    const [, archived, archiveErr, extracted, tarErr] = await Promise.all([
      archive.stdout.pipeTo(tar.stdin),
      archive.status,
      text(archive.stderr),
      tar.status,
      text(tar.stderr),
    ]);
    if (!archived.success || !extracted.success) {
      throw new BaseError(
        `cannot write the tree of ${commit} to ${dir}: ` +
          (archived.success ? `tar: ${tarErr}` : `git archive: ${archiveErr}`),
      );
    }
    return dir;
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e instanceof BaseError ? e : new BaseError(`cannot write the tree of ${commit}: ${(e as Error).message}`);
  }
}
