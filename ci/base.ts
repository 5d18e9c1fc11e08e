/**
 * Which commit the gate compares the working tree against, and its tree on disk.
 *
 * The default base (when `--base` is not given), first rule that applies:
 * 1. `SORTPOOL_GATE_BASE`: a commit named by the CI system (for a pull request its base commit,
 *    for a push the commit before it, for a machine that lands series of commits the last commit
 *    that landed). An all-zero value (GitHub's "before" of a new branch) counts as unset; a value
 *    that is not a commit in this clone (the commit before a force push) is reported and skipped.
 * 2. A remote-tracking main branch (`origin/main`, else `origin/master`): the merge-base of HEAD
 *    with it, i.e. everything not yet on the remote's main is measured; when HEAD is already on
 *    it, HEAD~1.
 * 3. A local `main` (else `master`) branch: the merge-base of HEAD with it on a topic branch; at
 *    main's tip (the merge-base is HEAD itself), HEAD~1.
 * 4. HEAD~1.
 * The working tree, uncommitted changes included, is always the side being judged.
 *
 * Shallow clones (the default of many CI systems): a merge-base, a `$SORTPOOL_GATE_BASE` commit or
 * HEAD~1 may lie past the clone's depth. When the repository is shallow and a rule's commit is
 * missing, the history is deepened from the branch's remote (`git fetch --deepen=50`, then
 * `--deepen=500`, then `--unshallow`) until it appears; when that fails (no remote, no network),
 * resolving stops with a {@link BaseError} (the gate exits 2) saying what to fetch. A rule is never
 * silently replaced by a later one because history was missing, and the rule reported is the one
 * used (with the deepening it took).
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

/** The remote of `branch`: the prefix of a remote-tracking branch, the branch's configured remote, or the only remote. */
async function remoteOf(repo: string, branch: string | undefined): Promise<string | undefined> {
  const remotes = ((await git(repo, ["remote"])).out ?? "").split("\n").filter((r) => r.length > 0);
  if (branch !== undefined) {
    const prefix = branch.split("/")[0];
    if (branch.includes("/") && remotes.includes(prefix)) return prefix;
    const configured = (await git(repo, ["config", `branch.${branch}.remote`])).out;
    if (configured && remotes.includes(configured)) return configured;
  }
  if (remotes.includes("origin")) return "origin";
  return remotes.length === 1 ? remotes[0] : undefined;
}

/** Ways to deepen a shallow history, in order: cheap first, the whole history last. */
export const DEEPEN_STEPS: readonly string[] = ["--deepen=50", "--deepen=500", "--unshallow"];

/**
 * In a shallow `repo`, fetches more history from `remote` ({@link DEEPEN_STEPS}) until `found()`
 * gives a value or the clone is complete. Returns the value and the fetches made, or throws a
 * {@link BaseError} saying what to fetch when `found()` needs history that cannot be fetched.
 */
async function deepenUntil<T>(
  repo: string,
  remote: string | undefined,
  what: string,
  found: () => Promise<T | null>,
): Promise<{ value: T | null; fetched: string[] }> {
  const fetched: string[] = [];
  const advice = (why: string) =>
    new BaseError(
      `${what}: the clone is shallow and ${why}; fetch its history (git fetch --unshallow${
        remote ? ` ${remote}` : " REMOTE"
      }, or a clone with full history, e.g. actions/checkout's fetch-depth: 0), or name the base with --base REF or ` +
        `$${BASE_ENV}`,
    );
  if (remote === undefined) throw advice("no remote is configured to deepen it from");
  for (const step of DEEPEN_STEPS) {
    if (!(await isShallow(repo))) break;
    const r = await git(repo, ["fetch", "--quiet", step, remote]);
    if (r.out === null) throw advice(`git fetch ${step} ${remote} failed (${r.error.split("\n")[0]})`);
    fetched.push(`git fetch ${step} ${remote}`);
    const value = await found();
    if (value !== null) return { value, fetched };
  }
  return { value: null, fetched };
}

/**
 * Resolves the base commit: `explicit` (a `--base` value) when given, else the default rules of
 * the module documentation with `env` (the value of {@link BASE_ENV}), deepening a shallow clone
 * where a rule needs history it lacks. Throws {@link BaseError} when the named ref is not a commit,
 * no rule finds one (a repository with a single commit), or a shallow clone cannot be deepened.
 */
export async function resolveBase(
  repo: string,
  explicit: string | undefined,
  env: string | undefined,
): Promise<BaseChoice> {
  const choose = async (ref: string, rule: string): Promise<BaseChoice> => {
    const commit = await commitOf(repo, ref);
    if (!commit) {
      const why = (await git(repo, ["rev-parse", "--verify", `${ref}^{commit}`])).error;
      throw new BaseError(`base ${JSON.stringify(ref)} (${rule}): not a commit in ${repo}${why ? `: ${why}` : ""}`);
    }
    const subject = (await git(repo, ["log", "-1", "--format=%s", commit])).out ?? "";
    return { commit, ref, rule, subject };
  };
  const deepened = (fetched: readonly string[]) =>
    fetched.length > 0 ? `; shallow clone deepened: ${fetched.join(", ")}` : "";
  if (explicit !== undefined) return await choose(explicit, "--base");
  const fromEnv = env?.trim();
  let envNote = "";
  if (fromEnv && !/^0+$/.test(fromEnv)) {
    if (await commitOf(repo, fromEnv)) return await choose(fromEnv, `$${BASE_ENV}`);
    if (await isShallow(repo)) {
      // Past the clone's depth, or not in the history at all (a force push): deepen to tell them apart.
      const remote = await remoteOf(repo, undefined);
      const r = await deepenUntil(repo, remote, `$${BASE_ENV}=${fromEnv}`, () => commitOf(repo, fromEnv));
      if (r.value !== null) return await choose(fromEnv, `$${BASE_ENV}${deepened(r.fetched)}`);
    }
    // A CI system's guess (e.g. the commit before a force push) that this clone lacks: say so, use the next rule.
    envNote = `; $${BASE_ENV}=${fromEnv} is not a commit here`;
  }
  const head = await commitOf(repo, "HEAD");
  if (!head) throw new BaseError(`no base: ${repo} has no commit (HEAD does not resolve)`);
  const parent = async (rule: string, remote: string | undefined) => {
    let fetched: string[] = [];
    if (!(await commitOf(repo, "HEAD~1")) && (await isShallow(repo))) {
      fetched = (await deepenUntil(repo, remote, `HEAD's parent (${rule})`, () => commitOf(repo, "HEAD~1"))).fetched;
    }
    if (!(await commitOf(repo, "HEAD~1"))) {
      throw new BaseError(`no base: HEAD has no parent (${rule}); name one with --base REF or $${BASE_ENV}`);
    }
    return await choose("HEAD~1", `${rule}${deepened(fetched)}`);
  };
  const unrelated: string[] = [];
  for (
    const [branches, kind] of [[["origin/main", "origin/master"], "remote"], [["main", "master"], "local"]] as const
  ) {
    for (const branch of branches) {
      if (!(await commitOf(repo, branch))) continue;
      const mergeBaseOf = async () => (await git(repo, ["merge-base", "HEAD", branch])).out || null;
      let mergeBase = await mergeBaseOf();
      let fetched: string[] = [];
      if (!mergeBase && (await isShallow(repo))) {
        // No common commit inside the clone's depth: the merge-base may lie past it.
        const remote = await remoteOf(repo, branch);
        const r = await deepenUntil(repo, remote, `the merge-base of HEAD and ${branch}`, mergeBaseOf);
        [mergeBase, fetched] = [r.value, r.fetched];
      }
      if (!mergeBase) {
        unrelated.push(branch); // HEAD and this branch share no history: try the next rule, and say so
        continue;
      }
      if (mergeBase !== head) {
        return await choose(
          mergeBase,
          `merge-base of HEAD and ${branch} (${kind} main branch)${deepened(fetched)}${envNote}`,
        );
      }
      return await parent(
        `HEAD is on ${branch}: its parent${deepened(fetched)}${envNote}`,
        await remoteOf(repo, branch),
      );
    }
  }
  const why = unrelated.length > 0
    ? `HEAD shares no history with ${unrelated.join(" or ")}: HEAD's parent`
    : "no main branch: HEAD's parent";
  return await parent(`${why}${envNote}`, await remoteOf(repo, undefined));
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
