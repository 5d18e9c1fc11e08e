/**
 * Which browser the page runs in: its name and full version, its family, and its WebGPU engine.
 *
 * @module
 */
/// <reference lib="dom" />

/** The browser's name and version from its user agent. */
function browserVersion(): string {
  const ua = navigator.userAgent;
  for (const re of [/(Edg)\/([\d.]+)/, /(HeadlessChrome)\/([\d.]+)/, /(Chrome)\/([\d.]+)/, /(Firefox)\/([\d.]+)/]) {
    const m = ua.match(re);
    if (m) return `${m[1] === "Edg" ? "Edge" : m[1]} ${m[2]}`;
  }
  const safari = ua.match(/Version\/([\d.]+).*Safari/);
  return safari ? `Safari ${safari[1]}` : ua;
}

/** "chrome", "edge", "firefox", "safari": the browser's family, lower case. */
export function browserFamily(browser: string): string {
  return browser.split(" ")[0].replace(/^Headless/, "").toLowerCase();
}

/** The browser's WebGPU engine, by browser family. */
export function engineOf(browser: string): string {
  if (/Chrome|Edge/.test(browser)) return "Dawn";
  if (/Firefox/.test(browser)) return "wgpu";
  if (/Safari/.test(browser)) return "WebKit";
  return "unknown";
}

/**
 * The browser's full version: Chromium reduces the user agent's version to "156.0.0.0", so ask
 * userAgentData for the full one where it exists.
 */
export async function fullBrowserVersion(): Promise<string> {
  const reduced = browserVersion();
  try {
    const data = (navigator as {
      userAgentData?: {
        getHighEntropyValues(h: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }>;
      };
    }).userAgentData;
    const list = (await data?.getHighEntropyValues(["fullVersionList"]))?.fullVersionList ?? [];
    const name = reduced.split(" ")[0];
    const brand = list.find((b) => /Chrom|Edge/.test(b.brand) && !/Not/.test(b.brand));
    return brand ? `${name} ${brand.version} (${brand.brand})` : reduced;
  } catch {
    return reduced;
  }
}
