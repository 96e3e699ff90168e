// Builds the job card into one self-contained HTML file: server/card/job.html, which the package ships.
//
//   node build.mjs           write it
//   node build.mjs --check   fail if the shipped file differs from a fresh build, or is over the size cap
//
// The App class pulls in the MCP client's Protocol and zod. Two things it never uses are left out, which
// keeps the card under its 300 KB cap: zod's error messages in 40 languages (English stays), and the JSON
// Schema validator the client's browser build brings for the Client class (the card validates none).
// zod is pinned to 4.3, the last release before a 90 kB schema compiler the card cannot use (it needs eval).

import * as esbuild from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const SHIPPED = join(here, "..", "server", "card", "job.html");
const MAX_BYTES = 300 * 1024;

const leaveOut = {
  name: "leave-out",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join("node_modules", "zod")}`) ? { path: "zod-locales", namespace: "leave-out" } : undefined,
    );
    build.onResolve({ filter: /^@modelcontextprotocol\/client\/_shims$/ }, () => ({ path: "shims", namespace: "leave-out" }));
    build.onLoad({ filter: /.*/, namespace: "leave-out" }, (args) => ({
      resolveDir: here,
      contents:
        args.path === "zod-locales"
          ? `export { default as en } from ${JSON.stringify(require.resolve("zod/v4/locales/en.js"))};`
          : "export const CORS_IS_POSSIBLE = true;\n" +
            "export class DefaultJsonSchemaValidator { getValidator() { throw new Error('the job card validates no JSON Schema'); } }",
    }));
  },
};

// Modules of these packages only declare things, so esbuild may drop whatever the card never reaches.
const PURE = /node_modules[\\/](zod|@modelcontextprotocol[\\/](client|core))[\\/]/;
const declareOnly = {
  name: "declare-only",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === "declare-only" || args.namespace === "leave-out") return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: "declare-only",
      });
      return !resolved.errors.length && PURE.test(resolved.path) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

export async function build() {
  const bundle = await esbuild.build({
    entryPoints: [join(here, "src", "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    write: false,
    plugins: [leaveOut, declareOnly],
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  const css = (await esbuild.transform(readFileSync(join(here, "src", "card.css"), "utf8"), { loader: "css", minify: true })).code;
  const page = readFileSync(join(here, "src", "card.html"), "utf8");
  return page.replace("/*CSS*/", () => css.trim()).replace("/*JS*/", () => script.trim());
}

const html = await build();
const size = Buffer.byteLength(html);
if (size > MAX_BYTES) {
  console.error(`job.html is ${size} bytes, over the ${MAX_BYTES}-byte cap`);
  process.exit(1);
}
if (process.argv.includes("--check")) {
  if (readFileSync(SHIPPED, "utf8") !== html) {
    console.error("server/card/job.html differs from a fresh build of ui/: run `npm run build` in ui/ and commit it");
    process.exit(1);
  }
  console.log(`server/card/job.html matches a fresh build (${size} bytes)`);
} else {
  writeFileSync(SHIPPED, html);
  console.log(`wrote server/card/job.html (${size} bytes)`);
}
