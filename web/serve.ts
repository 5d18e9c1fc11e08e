/**
 * `deno task serve [--port N] [--no-build]`: builds the browser harness page (web/build.ts) and
 * serves it on localhost (WebGPU needs a secure context, which localhost is), printing the page's
 * URL. The built folder (`out/web`) is a static site: any web server can serve it as it is.
 *
 * @module
 */
import { defineCli, intFlag, type ParsedCli, runCli } from "../harness/cli.ts";
import { buildPage, WEB_OUT } from "./build.ts";

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
};

/** A running server of a built page. */
export interface PageServer {
  /** The page's URL, e.g. "http://127.0.0.1:8123/". */
  readonly url: string;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  close(): Promise<void>;
}

/** Serves the folder `dir` on 127.0.0.1 at `port` (0: a free port). */
export function servePage(dir: string, port = 0): PageServer {
  const root = dir.replace(/\/+$/, "");
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      // A malformed percent-escape (e.g. "/%ZZ") is the client's error, not the server's.
      return new Response("bad request: malformed URL escape", { status: 400 });
    }
    const rel = path.endsWith("/") ? `${path}index.html` : path;
    if (rel.split("/").includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(`${root}${rel}`);
      const ext = rel.slice(rel.lastIndexOf(".") + 1);
      return new Response(body, {
        headers: { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "no-store" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  return { url, finished: server.finished, close: () => server.shutdown() };
}

/** The command line of `deno task serve` (harness/cli.ts convention). */
export const SERVE_CLI = defineCli({
  command: "deno task serve",
  summary: `Builds the browser harness page into ${WEB_OUT} (web/build.ts) and serves it on 127.0.0.1, printing ` +
    "the page's URL. Open it in a browser with WebGPU. Page parameters: ?quick (small benchmark), ?bench=0, " +
    "?seed=N, ?cases=N, ?plant=wrong-weights-order (a planted failure the page must report).",
  options: {
    port: { type: "string", value: "N", description: "port on 127.0.0.1 (0: a free port)", default: "8123" },
    "no-build": { type: "boolean", description: `serve ${WEB_OUT} as it is, without building it first` },
  },
  epilog: "runs until interrupted; exit status 2 on usage errors and when the port is in use",
});

/** Builds (unless --no-build) and serves the page; resolves only when the server stops. */
export async function serveMain({ values }: ParsedCli): Promise<number> {
  const port = intFlag(values, "port", 0, 65535);
  const dir = values["no-build"] ? new URL(`../${WEB_OUT}`, import.meta.url).pathname : await buildPage();
  let server: PageServer;
  try {
    server = servePage(dir, port);
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(
        `deno task serve: port ${port} on 127.0.0.1 is in use; pick another with --port N (--port 0: a free port)`,
      );
      return 2;
    }
    throw e;
  }
  console.log(`sortpool browser harness: ${server.url}`);
  console.log(`  quick run (small benchmark): ${server.url}?quick`);
  console.log(`  planted failure (must fail): ${server.url}?quick&plant=wrong-weights-order`);
  await server.finished;
  return 0;
}

if (import.meta.main) await runCli(SERVE_CLI, Deno.args, serveMain);
