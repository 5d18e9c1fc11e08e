/**
 * One conformance run: builds the cases, starts the port once, sends each request and checks each
 * answer, then ends the port and writes the report (text on stdout, optionally JSON). Used by
 * `deno task conformance` (conformance/main.ts) and by the kit's tests, in process.
 *
 * @module
 */
import type { Precision } from "../testkit/mod.ts";
import { UsageError } from "../harness/cli.ts";
import { allCases, CATEGORIES, type ConformanceCase, type Needs } from "./cases.ts";
import { schemaPath } from "../schemas/validate.ts";
import { checkAnswer, type Expected, expectedFor, type Problem, reverseGroups, type WeightsOrder } from "./compare.ts";
import { type Exchange, PortProcess } from "./port.ts";
import {
  answerSchemaViolations,
  encodeRequest,
  invisibleNote,
  parseAnswerLine,
  type Request,
  visible,
} from "./protocol.ts";

/**
 * What the port declares it supports (`--windows`, `--logits`), like the registry's `supports`:
 * cases needing more are skipped, and the skips are counted and printed, never silent.
 */
export interface PortSupports {
  /** "any": every poolSize and strides 1..4; "2x2": only 2x2 windows with stride 2 (requests without poolSize / strides). */
  readonly windows: "any" | "2x2";
  /** "any": logits of length k or C·k; "shared": only k logits shared by all channels. */
  readonly logits: "any" | "shared";
}

/** A port that supports everything (the default). */
export const SUPPORTS_ALL: PortSupports = { windows: "any", logits: "any" };

/**
 * Why a port declaring `s` skips a case needing `needs`: the flag and what it excludes, one entry
 * per flag that excludes it (none: the case runs).
 */
export function skipReasons(needs: Needs, s: PortSupports): string[] {
  const reasons: string[] = [];
  if (needs.windows && s.windows === "2x2") reasons.push("--windows 2x2: a poolSize or strides other than 2x2/2");
  if (needs.perChannelLogits && s.logits === "shared") reasons.push("--logits shared: per-channel logits (C·k)");
  return reasons;
}

/** Settings of one run. */
export interface KitOptions {
  /** The port: program and arguments (no shell). */
  readonly command: readonly string[];
  readonly precision: Precision;
  readonly weightsOrder: WeightsOrder;
  /** What the port supports; default {@link SUPPORTS_ALL}. */
  readonly supports?: PortSupports;
  /** Longest wait for one answer (the first includes the port's start-up), milliseconds. */
  readonly timeoutMs: number;
  readonly seed: number;
  /** Generated cases per class. */
  readonly casesPerClass: number;
  /** Only cases that match one of these terms (all when empty): see {@link matchesFilter}. */
  readonly filter: readonly string[];
  /** Failing cases reported in full (with their replay line) on stdout; the rest get one line. */
  readonly show: number;
  /** Environment variables for the port (added to the kit's own). */
  readonly env?: Record<string, string>;
  /** Receives stdout lines (the report). */
  readonly out: (line: string) => void;
  /** Receives stderr lines (progress). */
  readonly err: (line: string) => void;
}

/** A case's outcome. */
export interface CaseOutcome {
  readonly name: string;
  readonly category: string;
  readonly op: string;
  readonly description: string;
  readonly status: "pass" | "fail" | "not-run";
  readonly problems: readonly Problem[];
  /** The request exactly as sent, one line (failing cases only). */
  readonly request?: string;
  /** Milliseconds from sending the request to reading the answer. */
  readonly ms?: number;
}

/** Why the run stopped early: the port crashed, hung, broke the protocol. */
export interface PortFailure {
  /** The case in flight. */
  readonly name: string;
  readonly reason: string;
  readonly request: string;
  readonly stderrTail: string;
}

/** Everything a run found; also the shape of the --json file. */
export interface KitReport {
  readonly tool: "sortpool conformance kit";
  readonly command: readonly string[];
  readonly options: {
    precision: Precision;
    weightsOrder: WeightsOrder;
    supports: PortSupports;
    timeoutMs: number;
    seed: number;
    casesPerClass: number;
    filter: readonly string[];
  };
  /** Per category: cases run (passed + failed + not run) and cases skipped for what the port does not support. */
  readonly categories: {
    name: string;
    title: string;
    cases: number;
    passed: number;
    failed: number;
    notRun: number;
    skipped: number;
  }[];
  /**
   * Cases skipped because the port declared it does not support them: per flag, how many, per
   * category (a case excluded by both flags counts under both; `categories[].skipped` counts it once).
   */
  readonly skipped: { reason: string; cases: number; byCategory: Record<string, number> }[];
  /** For each category with failed cases and a known likely cause: that cause (also printed with the report). */
  readonly hints: { category: string; hint: string }[];
  readonly passed: number;
  /** Failed cases, not-run cases included (a port that stops answering fails the rest). */
  readonly failed: number;
  readonly notRun: number;
  readonly portFailure: PortFailure | null;
  /** How the port ended, e.g. "exited with code 0". */
  readonly portExit: string;
  /** Lines the port printed after its last answer (a protocol smell, not a failure). */
  readonly extraOutput: readonly string[];
  /** The last lines of the port's stderr ("" when it printed nothing there). */
  readonly stderrTail: string;
  readonly wallSeconds: number;
  readonly outcomes: readonly CaseOutcome[];
}

/**
 * Does case `name` match `--filter` term `term`? A term matches the name it equals, and every name
 * that starts with it where a name part ends: the next character is "/" or "#" (names are
 * `golden/NAME/OP`, `CLASS#I/OP`, `bad-input/MUTATION#I/OP`). So `ties` selects the class "ties"
 * (not "near-ties", nor the golden `golden/ties-*` cases), `ties#3` both requests of case 3 (not
 * `ties#30`), `ties#3/gradient` that one request. A term ending in `*` matches every name that
 * starts with the rest (`golden/ties-*`).
 */
export function matchesFilter(name: string, term: string): boolean {
  if (term.endsWith("*")) return name.startsWith(term.slice(0, -1));
  if (!name.startsWith(term)) return false;
  const next = name.charAt(term.length);
  return next === "" || next === "/" || next === "#" || term.endsWith("/") || term.endsWith("#");
}

/** The request as the port gets it: logits reversed (per channel when per-channel) for a smallest-first port. */
function wireRequest(r: Request, order: WeightsOrder): Request {
  return order === "smallest-first" ? { ...r, logits: reverseGroups(r.logits, r.k) } : r;
}

/** Indents a multi-line text block. */
function indent(text: string, by = "    "): string {
  return text.split("\n").map((l) => `${by}${l}`).join("\n");
}

/** A problem as report lines. */
export function formatProblem(p: Problem): string[] {
  const lines = [`  ${p.what}: ${p.element ? `first difference at ${p.element}, ${p.location}` : ""}`.trimEnd()];
  const tol = p.tolerance ? ` (tolerance ${p.tolerance})` : "";
  const diff = p.differing ? `; ${p.differing} elements differ` : "";
  lines.push(`    expected ${p.expected}`, `    received ${visible(p.received)}${tol}${diff}`);
  return lines;
}

/** Schema violations of one answer reported in full; the rest are counted in one more problem. */
const LISTED_VIOLATIONS = 5;

/** What is wrong with an answer whose id matched, and whether it fits the answer schema. */
export interface AnswerJudgement {
  readonly problems: Problem[];
  /** The answer fits schemas/conformance_answer.schema.json for the request's op. */
  readonly wellFormed: boolean;
}

/**
 * Judges an answer (parsed, its id already matched). First its form: an answer that breaks
 * schemas/conformance_answer.schema.json for the request's op (a field missing, unknown or of the
 * wrong type, a number not in the wire encoding) is the port's fault, reported as "answer"
 * problems naming each JSON path, and its values are not compared; when its kind is wrong too (an
 * answer with values for a bad input, an error for a valid one), that problem comes first. A
 * well-formed answer is judged against the expected one (compare.ts `checkAnswer`).
 */
export function judgeAnswer(
  request: Request,
  expected: Expected,
  body: Record<string, unknown>,
  precision: Precision,
  order: WeightsOrder,
): AnswerJudgement {
  const violations = answerSchemaViolations(request.op, body);
  if (violations.length === 0) {
    return { problems: checkAnswer(request, expected, body, precision, order), wellFormed: true };
  }
  const schema = schemaPath("conformance_answer");
  const problems: Problem[] = violations.slice(0, LISTED_VIOLATIONS).map((v) => ({
    what: "answer",
    expected: `${v.path}: ${v.expected} (${schema})`,
    received: `${v.path}: ${v.received}`,
  }));
  if (violations.length > LISTED_VIOLATIONS) {
    problems.push({
      what: "answer",
      expected: `an answer that fits ${schema}`,
      received: `${violations.length - LISTED_VIOLATIONS} more violation${
        violations.length - LISTED_VIOLATIONS === 1 ? "" : "s"
      } of it`,
    });
  }
  // An error answer where values were due, or values where an error was: checkAnswer says so without reading values.
  const kindWrong = Object.hasOwn(body, "error") !== (expected.kind === "error");
  return {
    problems: kindWrong ? [...checkAnswer(request, expected, body, precision, order), ...problems] : problems,
    wellFormed: false,
  };
}

/** Why the port stopped, in words, from an exchange that did not produce a usable answer. */
function portFailureReason(ex: Exchange): string {
  switch (ex.kind) {
    case "exited":
      return `the port ${ex.status} before answering`;
    case "timeout":
      return `no answer within ${ex.ms} ms (--timeout-ms): the port hangs or is too slow`;
    case "stdout-closed":
      return "the port closed its stdout before answering (the process is still running)";
    case "line":
      return "unreachable";
  }
}

/** Runs the kit. Never throws for anything the port does; throws PortStartError when it cannot start. */
export async function runKit(o: KitOptions): Promise<KitReport> {
  const started = performance.now();
  const supports = o.supports ?? SUPPORTS_ALL;
  let cases: ConformanceCase[] = await allCases(o.precision, o.seed, o.casesPerClass);
  if (o.filter.length > 0) cases = cases.filter((c) => o.filter.some((f) => matchesFilter(c.name, f)));
  // Cases the port declared it does not support: skipped here, counted per reason and category, printed below.
  const skippedCases: { c: ConformanceCase; reasons: string[] }[] = [];
  cases = cases.filter((c) => {
    const reasons = skipReasons(c.needs, supports);
    if (reasons.length > 0) skippedCases.push({ c, reasons });
    return reasons.length === 0;
  });
  if (cases.length === 0 && skippedCases.length === 0) {
    throw new UsageError(
      "--filter",
      "terms that match at least one case: a whole name (ties#3/gradient), the start of one up to a / or # " +
        "(ties, ties#3, golden/ties-k2), or a prefix ending in * (golden/ties-*)",
      JSON.stringify(o.filter.join(",")),
    );
  }
  o.err(
    `conformance: ${cases.length} cases (${o.precision}, weights ${o.weightsOrder}, seed ${o.seed}, ` +
      `${o.casesPerClass} per generated class${
        skippedCases.length > 0 ? `; ${skippedCases.length} skipped as unsupported` : ""
      }); port: ${o.command.join(" ")}`,
  );
  const port = PortProcess.start(o.command, o.env);
  const outcomes: CaseOutcome[] = [];
  let portFailure: PortFailure | null = null;
  let portExit = "";
  let shown = 0;
  const report = (c: CaseOutcome) => {
    if (c.status !== "fail") return;
    if (shown < o.show) {
      shown++;
      o.out(`FAIL ${c.name}   [${c.description}]`);
      for (const p of c.problems) for (const l of formatProblem(p)) o.out(l);
      o.out(`  replay: ${c.request}`);
      o.out("");
    } else {
      const p = c.problems[0];
      o.out(
        `FAIL ${c.name}: ${p.what}${p.element ? ` at ${p.element}` : ""}: expected ${
          p.expected.length > 60 ? `${p.expected.slice(0, 57)}...` : p.expected
        }, received ${visible(p.received.length > 60 ? `${p.received.slice(0, 57)}...` : p.received)}`,
      );
    }
  };
  // Categories with a failed answer that fits the category's hint (SPEC-level cause), see Category.hintFits.
  const hinted = new Set<string>();
  let lastCategory = "";
  try {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      if (c.category !== lastCategory) {
        lastCategory = c.category;
        o.err(`conformance: ${c.category} (${cases.filter((d) => d.category === c.category).length} cases)`);
      }
      const expected = expectedFor(c.request, o.precision);
      const sent = wireRequest(c.request, o.weightsOrder);
      const line = encodeRequest(sent);
      const ex = await port.exchange(line, o.timeoutMs);
      const base = { name: c.name, category: c.category, op: c.request.op, description: c.description };
      let reason: string | undefined;
      if (ex.kind !== "line") {
        reason = portFailureReason(ex);
      } else {
        const parsed = parseAnswerLine(ex.line);
        if (parsed.kind === "not-json") {
          // Shown escaped: a byte-order mark or a stray control byte would otherwise make the line look valid.
          reason = `the port printed a line that is not a JSON object (${visible(parsed.problem)}): ${
            visible(JSON.stringify(ex.line.length > 200 ? `${ex.line.slice(0, 197)}...` : ex.line))
          }${invisibleNote(ex.line)} (logs belong on stderr)`;
        } else if (parsed.id !== c.name) {
          reason =
            `the answer's id is ${visible(JSON.stringify(parsed.id) ?? "missing")}${
              typeof parsed.id === "string" ? invisibleNote(parsed.id) : ""
            }, expected ${JSON.stringify(c.name)} ` +
            "(answers must come one per request, in order, echoing the request's id)";
        } else {
          const { problems, wellFormed } = judgeAnswer(c.request, expected, parsed.body, o.precision, o.weightsOrder);
          const fits = CATEGORIES.find((cat) => cat.name === c.category)?.hintFits;
          // An answer that breaks the schema is no computed result, so it fits no hint's cause.
          if (
            wellFormed && problems.length > 0 && !hinted.has(c.category) &&
            (fits?.({
              request: c.request,
              body: parsed.body,
              problems,
              precision: o.precision,
              order: o.weightsOrder,
            }) ??
              true)
          ) {
            hinted.add(c.category);
          }
          const outcome: CaseOutcome = {
            ...base,
            status: problems.length === 0 ? "pass" : "fail",
            problems,
            ms: ex.ms,
            ...(problems.length > 0 ? { request: line } : {}),
          };
          outcomes.push(outcome);
          report(outcome);
          continue;
        }
      }
      // The port can no longer be trusted to answer in step: stop here.
      portExit = await port.abort();
      portFailure = { name: c.name, reason, request: line, stderrTail: port.stderrTail() };
      outcomes.push({
        ...base,
        status: "fail",
        problems: [{ what: "port", expected: "one JSON answer line per request", received: reason }],
        request: line,
      });
      for (const rest of cases.slice(i + 1)) {
        outcomes.push({
          name: rest.name,
          category: rest.category,
          op: rest.request.op,
          description: rest.description,
          status: "not-run",
          problems: [],
        });
      }
      break;
    }
  } finally {
    // Whatever happened above (even an exception in the kit itself), the port does not outlive the run.
    if (!portFailure) portExit = await port.close().catch((e) => String(e));
    port.kill();
  }
  const extraOutput = portFailure ? [] : port.unreadLines();

  const passed = outcomes.filter((c) => c.status === "pass").length;
  const notRun = outcomes.filter((c) => c.status === "not-run").length;
  const failed = outcomes.length - passed;
  const categories = CATEGORIES.map((cat) => {
    const mine = outcomes.filter((c) => c.category === cat.name);
    const p = mine.filter((c) => c.status === "pass").length;
    const n = mine.filter((c) => c.status === "not-run").length;
    const skipped = skippedCases.filter((s) => s.c.category === cat.name).length;
    return {
      name: cat.name,
      title: cat.title,
      cases: mine.length,
      passed: p,
      failed: mine.length - p - n,
      notRun: n,
      skipped,
    };
  }).filter((c) => c.cases + c.skipped > 0);
  const skipped = [...new Set(skippedCases.flatMap((s) => s.reasons))].map((reason) => {
    const byCategory: Record<string, number> = {};
    for (const s of skippedCases) {
      if (s.reasons.includes(reason)) byCategory[s.c.category] = (byCategory[s.c.category] ?? 0) + 1;
    }
    return { reason, cases: Object.values(byCategory).reduce((a, b) => a + b, 0), byCategory };
  });

  if (portFailure) {
    o.out(`PORT FAILURE during ${portFailure.name}: ${portFailure.reason}`);
    o.out(`  replay: ${portFailure.request}`);
    o.out(
      portFailure.stderrTail
        ? `  the port's stderr (last lines):\n${indent(portFailure.stderrTail)}`
        : "  the port's stderr was empty",
    );
    o.out("");
  }
  // A failed category with one likely cause gets it spelled out, when a failed answer fits that cause (cases that were
  // not run, and answers the port could not give, do not count).
  const hints = categories.filter((c) => hinted.has(c.name)).flatMap((c) => {
    const hint = CATEGORIES.find((cat) => cat.name === c.name)?.hint;
    return hint ? [{ category: c.name, hint }] : [];
  });
  for (const h of hints) {
    o.out(`hint for the ${h.category} failures: ${h.hint}`);
    o.out("");
  }
  const stderrTail = port.stderrTail();
  if (!portFailure && failed > 0 && stderrTail) {
    o.out(`the port's stderr (last lines):\n${indent(stderrTail)}`);
    o.out("");
  }
  if (extraOutput.length > 0) {
    o.out(
      `note: the port printed ${extraOutput.length} line(s) after its last answer, e.g. ${
        visible(JSON.stringify(extraOutput[0].slice(0, 120)))
      }${invisibleNote(extraOutput[0].slice(0, 120))} (answers must be one line per request)`,
    );
  }
  for (const s of skipped) {
    const where = Object.entries(s.byCategory).map(([category, n]) => `${category} ${n}`).join(", ");
    o.out(`skipped ${s.cases} cases the port does not support (${s.reason}): ${where}`);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const nameWidth = Math.max(...categories.map((c) => c.name.length), 8);
  o.out(`${"category".padEnd(nameWidth)}  requests  passed  failed  not run  skipped`);
  for (const c of categories) {
    o.out(
      `${c.name.padEnd(nameWidth)}  ${String(c.cases).padStart(8)}  ${String(c.passed).padStart(6)}  ${
        String(c.failed).padStart(6)
      }  ${String(c.notRun).padStart(7)}  ${String(c.skipped).padStart(7)}`,
    );
  }
  const declared = supports.windows === "any" && supports.logits === "any"
    ? ""
    : `; supports --windows ${supports.windows} --logits ${supports.logits}`;
  o.out(
    `port: ${o.command.join(" ")}; ${o.precision}, weights ${o.weightsOrder}${declared}, seed ${o.seed}; ` +
      `${wallSeconds.toFixed(1)} s; the port ${portExit}`,
  );
  if (notRun > 0) o.out(`(the failed count includes ${notRun} cases not run: the port stopped answering)`);
  // Skips are not failures, and the last line keeps its form; the count before it says how many were skipped.
  if (skippedCases.length > 0) {
    o.out(`(${skippedCases.length} cases skipped as unsupported, not counted below: see "skipped" above)`);
  }
  o.out(`${passed} passed, ${failed} failed`);
  return {
    tool: "sortpool conformance kit",
    command: o.command,
    options: {
      precision: o.precision,
      weightsOrder: o.weightsOrder,
      supports,
      timeoutMs: o.timeoutMs,
      seed: o.seed,
      casesPerClass: o.casesPerClass,
      filter: o.filter,
    },
    categories,
    skipped,
    hints,
    passed,
    failed,
    notRun,
    portFailure,
    portExit,
    extraOutput,
    stderrTail,
    wallSeconds,
    outcomes,
  };
}
