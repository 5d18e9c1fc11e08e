/**
 * The browser page's elements: lookup and creation, the run's state, the status line and progress
 * bar, the message box, and small table and details helpers.
 *
 * @module
 */
/// <reference lib="dom" />

/** The page element with id `id`. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A new element with attributes and children. */
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** The run's state on `<body>` (`data-state`, what the browser test waits for) and in the badge. */
export function setState(state: "running" | "done" | "failed"): void {
  document.body.dataset.state = state;
  $("badge").textContent = state;
}

/** The status line, and the progress bar when `fraction` (0..1) is given. */
export function status(text: string, fraction?: number): void {
  $("status").textContent = text;
  if (fraction !== undefined) ($("progress") as HTMLProgressElement).value = Math.max(0, Math.min(1, fraction));
}

/** Shows the message box with `html`, styled as an error or as information. */
export function showMessage(html: string, kind: "error" | "info" = "error"): void {
  const m = $("message");
  m.hidden = false;
  m.className = kind;
  m.innerHTML = html;
}

/** A thrown value as one line of text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Appends a key-value row to a table. */
export function kvRow(table: HTMLElement, key: string, value: Node | string): void {
  table.append(el("tr", {}, el("th", {}, key), el("td", {}, value)));
}

/** A collapsed `<details>` block: `summary`, and `text` preformatted. */
export function details(summary: string, text: string): HTMLElement {
  return el("details", {}, el("summary", {}, summary), el("pre", {}, text));
}
