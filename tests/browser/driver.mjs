// Drives the job card in headless Chromium for the tests and the benchmark, one JSON command a line.
//
//   node driver.mjs '<config JSON>'    config: {command, env, chromium, stderr} or {url, chromium, stderr}
//
// It starts the real server over stdio with the official MCP client (advertising MCP Apps), or speaks to
// one already listening at `url` over streamable HTTP, as a remote caller does; it serves the
// host page (host.ts, built on AppBridge) from its own origin, and relays the card's tools/call and
// resources/read to the server. On stdin it takes commands; to each it answers one line on stdout,
// {"ok": true, "value": ...} or {"ok": false, "error": "..."}:
//   call {tool, arguments}          a tool call as the model makes it
//   open {tool, arguments, result, hostContext, width}   shows the card for that call's result
//   wait {js, timeout, polling}     waits until the expression, run in the card, is truthy; its value
//   plain {url}                     seconds a bare <video> in the host page takes to load the url's metadata
//   eval {js}                       the expression's value in the card
//   click {selector}                a real mouse click in the card
//   press {key}                     a key pressed where the focus is
//   host {context}                  a host-context change (theme, styles...)
//   screenshot {path}               the card as it looks, as PNG
//   events {}                       what the card asked of the host, and the calls it had relayed
//   wait-event {kind, count}        waits until there are `count` events of that kind; returns them
//   quit {}

import { openSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ui = join(here, "..", "..", "ui");
const need = createRequire(join(ui, "package.json"));
const esbuild = need("esbuild");
const puppeteer = (await import(need.resolve("puppeteer-core"))).default;
const { Client } = await import(need.resolve("@modelcontextprotocol/client"));
const { StdioClientTransport } = await import(need.resolve("@modelcontextprotocol/client/stdio"));
const { StreamableHTTPClientTransport } = await import(need.resolve("@modelcontextprotocol/client"));

const config = JSON.parse(process.argv[2]);
const APPS = { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } };
const events = [];

const hostScript = (
  await esbuild.build({
    entryPoints: [join(here, "host.ts")],
    bundle: true,
    format: "iife",
    target: "es2020",
    write: false,
    nodePaths: [join(ui, "node_modules")],
    logLevel: "silent",
  })
).outputFiles[0].text;
const hostPage = `<!doctype html><html><head><meta charset="utf-8"><title>host</title></head>
<body style="margin:0;padding:16px;background:#888"><div id="chat"></div><script>${hostScript.replace(/<\/script/gi, "<\\/script")}</script></body></html>`;
const web = createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(hostPage);
});
await new Promise((resolve) => web.listen(0, "127.0.0.1", resolve));

const client = new Client({ name: "seedance-card-test", version: "1.0.0" }, { capabilities: { extensions: APPS } });
await client.connect(
  config.url
    ? new StreamableHTTPClientTransport(new URL(config.url))
    : new StdioClientTransport({ command: config.command, env: config.env, stderr: openSync(config.stderr, "a") }),
);

const browser = await puppeteer.launch({
  executablePath: config.chromium,
  headless: true,
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu", "--disable-dev-shm-usage"],
});
const page = await browser.newPage();
await page.setViewport({ width: 720, height: 900 });
page.on("console", (message) => events.push({ kind: "console", type: message.type(), text: message.text() }));
page.on("pageerror", (error) => events.push({ kind: "page-error", text: String(error) }));
await page.exposeFunction("relay", async (method, params) => {
  events.push({ kind: "relay", method, name: params.name ?? params.uri, arguments: params.arguments, at: Date.now() });
  return method === "tools/call" ? await client.callTool(params) : await client.readResource(params);
});
await page.exposeFunction("report", (event) => {
  events.push({ ...event, at: Date.now() });
});
await page.goto(`http://127.0.0.1:${web.address().port}/`);

let card;
async function cardFrame() {
  if (card && !card.detached) return card;
  const frame = await (await page.waitForSelector("#chat iframe")).contentFrame();
  await frame.waitForSelector("#status");
  card = frame;
  return card;
}

async function open({ tool, arguments: args = {}, result, hostContext = { theme: "light" }, width = 480 }) {
  const { tools } = await client.listTools();
  const listed = tools.find((candidate) => candidate.name === tool);
  const uri = listed?._meta?.ui?.resourceUri;
  if (!uri) throw new Error(`${tool} links no UI resource`);
  const [content] = (await client.readResource({ uri })).contents;
  const csp = content._meta?.ui?.csp ?? {};
  await page.evaluate(
    (card) => window.openCard(card),
    { html: content.text, csp, toolName: tool, toolInput: args, toolResult: result, hostContext, width },
  );
  card = undefined;
  await cardFrame();
  return { uri, mimeType: content.mimeType, csp, appTools: tools.filter((t) => t._meta?.ui?.visibility?.[0] === "app").map((t) => t.name) };
}

const commands = {
  call: ({ tool, arguments: args = {} }) => client.callTool({ name: tool, arguments: args }),
  open,
  wait: async ({ js, timeout = 60_000, polling = 50 }) => {
    const frame = await cardFrame();
    try {
      return await (await frame.waitForFunction(js, { polling, timeout })).jsonValue();
    } catch (error) {
      const shown = await frame.evaluate(() => document.body.innerText).catch(() => "(the card is gone)");
      const recent = events.filter((event) => event.kind !== "console").slice(-8);
      throw new Error(`${error.message}\nthe card shows:\n${shown}\nrecent events: ${JSON.stringify(recent)}`);
    }
  },
  eval: async ({ js }) => (await cardFrame()).evaluate(js),
  plain: ({ url }) =>
    page.evaluate(
      (src) =>
        new Promise((resolve, reject) => {
          const video = document.createElement("video");
          const started = performance.now();
          video.onloadedmetadata = () => resolve((performance.now() - started) / 1000);
          video.onerror = () => reject(new Error(`a plain <video> could not load ${src}`));
          video.preload = "metadata";
          video.src = src;
        }),
      url,
    ),
  click: async ({ selector }) => {
    // The card resizes its frame as a panel opens: a click aimed while the element still moves can land on
    // another one, so it waits until two looks at the element agree on where it is (at most 5 s).
    const element = await (await cardFrame()).waitForSelector(selector, { visible: true });
    let last = null;
    for (let look = 0; look < 100; look++) {
      const box = await element.boundingBox();
      if (box && last && ["x", "y", "width", "height"].every((side) => box[side] === last[side])) break;
      last = box;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await element.click();
  },
  press: async ({ key }) => page.keyboard.press(key),
  host: ({ context }) => page.evaluate((next) => window.changeHost(next), context),
  screenshot: async ({ path }) => {
    await (await page.$("#chat iframe")).screenshot({ path });
    return path;
  },
  events: () => events,
  "wait-event": async ({ kind, count = 1, timeout = 60_000 }) => {
    const until = Date.now() + timeout;
    const matching = () => events.filter((event) => event.kind === kind);
    while (matching().length < count) {
      if (Date.now() > until) throw new Error(`no ${count} ${kind} events within ${timeout} ms: ${JSON.stringify(events.slice(-8))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return matching();
  },
  quit: async () => {
    await browser.close();
    await client.close();
    web.close();
    return "bye";
  },
};

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { op, ...args } = JSON.parse(line);
  try {
    const value = await commands[op](args);
    process.stdout.write(`${JSON.stringify({ ok: true, value: value ?? null })}\n`);
    if (op === "quit") break;
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error) })}\n`);
  }
}
process.exit(0);
