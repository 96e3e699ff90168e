// The test host page: an MCP Apps host built on the official AppBridge, as a chat client would be.
//
// The card runs in an <iframe sandbox="allow-scripts" srcdoc> under the spec's default policy plus the
// domains its resource declares. Its tools/call and resources/read go to window.relay, which the driver
// (driver.mjs) answers from the real server over stdio; what the host is asked to do is reported to
// window.report for the test to read.

import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

declare global {
  interface Window {
    relay(method: string, params: unknown): Promise<unknown>;
    report(event: unknown): Promise<void>;
    openCard(card: Card): Promise<void>;
    changeHost(context: Record<string, unknown>): Promise<void>;
  }
}

interface Card {
  html: string;
  csp: { resourceDomains?: string[]; connectDomains?: string[] };
  toolName: string;
  toolInput: Record<string, unknown>;
  toolResult: Record<string, unknown>;
  hostContext: Record<string, unknown>;
  width: number;
}

const DEFAULT_POLICY: Record<string, string[]> = {
  "default-src": ["'none'"],
  "script-src": ["'self'", "'unsafe-inline'"],
  "style-src": ["'self'", "'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "media-src": ["'self'", "data:"],
  "connect-src": ["'none'"],
};

/** The spec's default policy, with resourceDomains added to the media-like sources and connectDomains to connect. */
export function policy(csp: Card["csp"]): string {
  const directives: Record<string, string[]> = { ...DEFAULT_POLICY, "font-src": [] };
  for (const name of ["script-src", "style-src", "img-src", "media-src", "font-src"]) {
    directives[name] = [...directives[name], ...(csp.resourceDomains ?? [])];
  }
  if (csp.connectDomains?.length) directives["connect-src"] = csp.connectDomains;
  return Object.entries(directives)
    .filter(([, sources]) => sources.length)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}

let bridge: AppBridge | undefined;

window.openCard = async (card: Card) => {
  document.getElementById("chat")!.replaceChildren(); // one card at a time, as a new tool result shows
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = "Seedance job card";
  frame.style.cssText = `width:${card.width}px;height:200px;border:0;display:block`;
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(card.csp)}">`;
  frame.srcdoc = card.html.replace(/<head>/i, `<head>${meta}`);
  document.getElementById("chat")!.append(frame);
  let displayMode = "inline";
  bridge = new AppBridge(
    null,
    { name: "seedance-test-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, openLinks: {}, downloadFile: {}, updateModelContext: { text: {} } },
    { hostContext: { ...card.hostContext, displayMode, availableDisplayModes: ["inline", "fullscreen"] } },
  );
  bridge.oncalltool = async (params) => (await window.relay("tools/call", params)) as never;
  bridge.onreadresource = async (params) => (await window.relay("resources/read", params)) as never;
  bridge.onupdatemodelcontext = async (params) => {
    await window.report({ kind: "update-model-context", params });
    return {};
  };
  bridge.onopenlink = async (params) => {
    await window.report({ kind: "open-link", params });
    return {};
  };
  bridge.ondownloadfile = async (params) => {
    await window.report({ kind: "download-file", params });
    return {};
  };
  bridge.onrequestdisplaymode = async ({ mode }) => {
    displayMode = mode;
    await window.report({ kind: "display-mode", params: { mode } });
    return { mode };
  };
  bridge.onsizechange = ({ height }) => {
    if (height) frame.style.height = `${height}px`;
  };
  bridge.oninitialized = () => {
    void bridge!.sendToolInput({ arguments: card.toolInput });
    void bridge!.sendToolResult(card.toolResult as never);
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
};

window.changeHost = async (context) => {
  await bridge!.sendHostContextChange(context as never);
};
