/**
 * The browser page's adapter section: the WebGPU adapter's description in the environment table and
 * the results, or, when the page has no WebGPU, why and how to get it.
 *
 * @module
 */
/// <reference lib="dom" />
import { tf } from "../src/tfjs/runtime.ts";
import { engineOf } from "./browser_info.ts";
import { $, details, errorText, kvRow, showMessage } from "./dom.ts";
import type { PageResults } from "./page_results.ts";

/** The string, number and boolean fields of `o` (adapter.info, adapter.limits) as a plain record. */
function plainRecord(o: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key in o) {
    const v = (o as Record<string, unknown>)[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = v;
  }
  return out;
}

/** How to get WebGPU, shown when the page has none. */
const NO_WEBGPU_HELP = "<p><b>How to get WebGPU:</b></p>" +
  "<ul><li>Chrome and Edge 113 or later have WebGPU on by default on Windows, macOS and ChromeOS (Android: 121+).</li>" +
  "<li>On Linux, start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, or turn on " +
  "<code>chrome://flags/#enable-unsafe-webgpu</code>; <code>chrome://gpu</code> says whether WebGPU is enabled and " +
  "why not.</li>" +
  "<li>Firefox 141+ has it on Windows (other systems: <code>dom.webgpu.enabled</code> in <code>about:config</code>); " +
  "Safari 26+ on macOS and iOS.</li>" +
  "<li>The page must come from <code>https://</code> or <code>http://localhost</code> (WebGPU needs a secure " +
  "context).</li></ul>";

/** Why WebGPU is missing on a page served over plain http from another host. */
const INSECURE_HELP = "<p><b>This page is not in a secure context</b> (it came from " +
  "<code>http://</code> on a host other than localhost): WebGPU needs a secure context, https or localhost. " +
  "Serve it over https, or open it on this machine as <code>http://localhost</code> or " +
  "<code>http://127.0.0.1</code> (<code>deno task serve</code>).</p>";

/** Reads the adapter's description; returns false (with the message shown) when there is no WebGPU. */
export async function describeAdapter(results: PageResults, browser: string): Promise<boolean> {
  const table = $("environment");
  kvRow(table, "browser", `${browser}; WebGPU engine ${engineOf(browser)}`);
  if (!("gpu" in navigator) || !navigator.gpu) {
    const reason = globalThis.isSecureContext === false
      ? "navigator.gpu is missing: the page is not in a secure context, and WebGPU needs one (https or localhost)"
      : "navigator.gpu is missing: this browser gives the page no WebGPU";
    results.environment.adapter = { available: false, reason };
    results.environment.adapterLine = `no adapter on ${results.environment.engine.implementation}`;
    kvRow(table, "adapter", reason);
    showMessage(
      `<p><b>This browser gives the page no WebGPU</b> (${reason}), so nothing can run here.</p>` +
        (globalThis.isSecureContext === false ? INSECURE_HELP : "") + NO_WEBGPU_HELP,
    );
    results.failures.push(reason);
    return false;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    results.failures.push(`requestAdapter threw ${errorText(e)}`);
  }
  if (!adapter) {
    const reason = "navigator.gpu.requestAdapter() gave no adapter (WebGPU is present but no GPU is offered: it may " +
      "be blocklisted or disabled)";
    results.environment.adapter = { available: false, reason };
    results.environment.adapterLine = `no adapter on ${results.environment.engine.implementation}`;
    kvRow(table, "adapter", reason);
    showMessage(`<p><b>No WebGPU adapter</b>: ${reason}. Nothing can run here.</p>${NO_WEBGPU_HELP}`);
    results.failures.push(reason);
    return false;
  }
  const info = plainRecord(adapter.info);
  const limits = plainRecord(adapter.limits);
  const features = [...adapter.features].map(String).sort();
  const name = String(info.description || info.device || info.architecture || info.vendor || "unknown adapter");
  const detail = [info.vendor, info.architecture].filter((s) => s && s !== name).join(", ");
  const line = `${name}${detail ? ` [${detail}]` : ""} on ${results.environment.engine.implementation}`;
  results.environment.adapterLine = line;
  results.environment.adapter = { available: true, info, features, limits };
  const listed = adapter.features.has("timestamp-query");
  results.environment.timestampQuery = {
    listed,
    usable: false,
    detail: listed ? "listed; the devices request it" : "the adapter does not list the timestamp-query feature",
  };
  kvRow(table, "adapter", line);
  kvRow(table, "adapter.info", Object.entries(info).map(([k, v]) => `${k}: ${v}`).join("; "));
  kvRow(table, "timestamp-query", listed ? "on (GPU timestamps time the benchmark)" : "off (wall time instead)");
  kvRow(table, "features", details(`${features.length} features`, features.join("\n")));
  kvRow(
    table,
    "limits",
    details(
      `maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize}, ` +
        `maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup}`,
      Object.entries(limits).map(([k, v]) => `${k}: ${v}`).join("\n"),
    ),
  );
  kvRow(table, "tfjs", `${tf.version.tfjs} (backend webgpu)`);
  return true;
}
