// The job card: shows the job a tool returned, follows it until it ends, and plays its video.
//
// It follows the job through watch_job, a long poll the host relays to the server, so the video appears
// even if the model never calls get_job; when the job ends it tells the model in one line. Every action
// that could be billed asks here first: the person's click is their answer.

import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from "@modelcontextprotocol/ext-apps";
import { anotherTake, ask, continueShot, finishDraft, type Started } from "./actions";
import { dollars, finished, type Job, TOOL_FOR_MODE } from "./job";
import { Player, textOf } from "./player";
import { el, message, notice, type Played, poster, render } from "./view";

type Result = Awaited<ReturnType<App["callServerTool"]>>;

const POLL_SECONDS = 25;
const MAX_PAUSE_MS = 30_000; // between polls while the job has a problem the server keeps meeting

const app = new App({ name: "seedance-job-card", version: "1.0.0" }, {}, { autoResize: true });
const video = el<HTMLVideoElement>("video");
const player = new Player(app, video, message);

let job: Job | undefined;
let played: Played | undefined;
let loading = ""; // the request_id whose video is being loaded or plays: it is loaded once
let arrived = Date.now(); // when the newest answer came: the clock ticks on from there
let input: Record<string, unknown> = {};
let sawRunning = false; // the card saw the job unfinished, so the model has not heard how it ended
let busy = false;
let displayMode = "inline";

function draw(): void {
  if (job) render(job, played, job.status === "in_progress" ? (Date.now() - arrived) / 1000 : 0);
  buttons();
}

function buttons(): void {
  const host = app.getHostCapabilities() ?? {};
  const done = job !== undefined && finished(job);
  const url = job?.video?.url ?? "";
  const modes = app.getHostContext()?.availableDisplayModes ?? [];
  const toggle = (id: string, visible: boolean): void => {
    const button = el<HTMLButtonElement>(id);
    button.hidden = !visible;
    button.disabled = busy;
  };
  toggle("finish", job?.status === "completed" && !!job.finish_price_usd && !!host.serverTools);
  if (job?.finish_price_usd) {
    const price = job.preview ? "free preview" : dollars(job.finish_price_usd);
    el("finish").textContent = `Finish at 1080p (${price})`;
  }
  toggle("again", done && job?.arguments !== undefined && job.mode in TOOL_FOR_MODE && !!host.serverTools);
  toggle("continue", job?.status === "completed" && !!host.serverTools);
  toggle("cancel", job !== undefined && !done && !!host.serverTools);
  toggle("open", job?.status === "completed" && /^https?:\/\//.test(url) && !!host.openLinks);
  toggle("download", job?.status === "completed" && !!host.downloadFile);
  toggle("fullscreen", job !== undefined && modes.includes("fullscreen"));
}

function posterOf(result: Result): void {
  const image = (result.content ?? []).find((block) => block.type === "image") as { data?: string } | undefined;
  if (image?.data) poster(image.data);
}

/** Takes in a newer view of the job; a job with another request_id replaces the one shown. */
function adopt(next: Job): void {
  const fresh = job?.request_id !== next.request_id;
  if (fresh) {
    played = undefined;
    loading = "";
    player.stop();
    sawRunning = false;
  }
  const known = fresh ? { arguments: input } : job;
  job = { ...known, ...next, arguments: next.arguments ?? known?.arguments };
  arrived = Date.now();
  if (!finished(job)) sawRunning = true;
  draw();
  if (job.status === "completed" && loading !== job.request_id) void play(job);
  // A host that relays no server tools leaves the card with what the tool returned.
  if (fresh && app.getHostCapabilities()?.serverTools) void follow(job.request_id);
}

async function play(shown: Job): Promise<void> {
  loading = shown.request_id;
  try {
    const result = await player.play(shown);
    if (job?.request_id !== shown.request_id) return;
    played = result;
    draw();
  } catch (error) {
    if (job?.request_id === shown.request_id) notice(`The video could not be played here: ${(error as Error).message}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const longer = (pause: number): number => Math.min(MAX_PAUSE_MS, Math.max(2000, pause * 2));

async function follow(id: string): Promise<void> {
  let pause = 0;
  while (job?.request_id === id && !(finished(job) && job.version !== undefined)) {
    try {
      const result = await app.callServerTool({
        name: "watch_job",
        arguments: { request_id: id, seen: job.version ?? 0, wait_seconds: POLL_SECONDS },
      });
      if (job?.request_id !== id) return;
      if (result.isError) throw new Error(textOf(result));
      posterOf(result);
      const next = result.structuredContent as unknown as Job;
      adopt(next);
      notice(null);
      pause = next.error && !finished(next) ? longer(pause) : 0;
    } catch (error) {
      notice(`Could not follow the job: ${(error as Error).message}`);
      pause = longer(pause);
    }
    if (pause) await sleep(pause);
  }
  if (job?.request_id === id && sawRunning) await tell(job);
}

async function tell(ended: Job): Promise<void> {
  sawRunning = false;
  const line =
    ended.status === "completed"
      ? `Seedance job ${ended.request_id} finished; its video: ${ended.video?.url ?? "(no link)"}`
      : ended.status === "failed"
        ? `Seedance job ${ended.request_id} failed: ${ended.error ?? "no reason given"}`
        : `Seedance job ${ended.request_id} was cancelled.`;
  await context(line);
}

async function context(line: string): Promise<void> {
  try {
    await app.updateModelContext({ content: [{ type: "text", text: line }] });
  } catch {
    // A host without model context: the chat still has the card and the tool's own result.
  }
}

async function action(run: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  buttons();
  notice(null);
  try {
    await run();
  } catch (error) {
    notice((error as Error).message);
  } finally {
    busy = false;
    buttons();
  }
}

/** Shows a job the person started from the card, and tells the model of it. */
async function started(start: Started | undefined): Promise<void> {
  if (!start) return;
  input = start.input;
  poster(undefined);
  await context(start.line);
  adopt(start.next);
}

/** Asks what happens next; "Go" prices and starts the shot (continueShot). */
function openNext(): void {
  const form = el("next");
  form.hidden = false;
  el<HTMLTextAreaElement>("next-prompt").focus();
}

async function cancel(): Promise<void> {
  const shown = job;
  if (!shown || finished(shown)) return;
  const running = shown.status === "in_progress";
  const question = running
    ? "Cancel this job? It is already generating, so the host may still finish and bill it."
    : "Cancel this job? It has not started, so nothing is billed.";
  if (!(await ask(question, "Cancel job", "Keep it"))) return;
  const result = await app.callServerTool({ name: "cancel_job", arguments: { request_id: shown.request_id } });
  if (result.isError) throw new Error(textOf(result));
  message(textOf(result).split("\n").pop() ?? "");
  adopt(result.structuredContent as unknown as Job);
}

async function download(): Promise<void> {
  const shown = job;
  if (!shown?.video) return;
  const name = shown.video.file_name || `${shown.request_id}.mp4`;
  const contents = /^https?:\/\//.test(shown.video.url)
    ? [{ type: "resource_link" as const, uri: shown.video.url, name, mimeType: "video/mp4" }]
    : [
        {
          type: "resource" as const,
          resource: {
            uri: `seedance://jobs/${shown.request_id}/video`,
            mimeType: "video/mp4",
            blob: await player.read(shown.request_id),
          },
        },
      ];
  const result = await app.downloadFile({ contents });
  if (result.isError) throw new Error("The download was refused or cancelled.");
}

async function copyId(): Promise<void> {
  const field = el<HTMLInputElement>("request-id");
  field.focus();
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    message("request_id copied");
  } catch {
    message(document.execCommand("copy") ? "request_id copied" : "request_id selected: press Ctrl+C (⌘C) to copy");
  }
}

function theme(context: McpUiHostContext): void {
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
  if (context.displayMode) {
    displayMode = context.displayMode;
    el("fullscreen").setAttribute("aria-pressed", String(displayMode === "fullscreen"));
  }
  buttons();
}

app.ontoolinput = (params) => {
  input = params.arguments ?? {};
};
app.ontoolresult = (result) => {
  const shown = result.structuredContent as unknown as Job | undefined;
  if (!shown?.request_id) {
    el("badge").textContent = "No job";
    message(textOf(result) || "No job was started.");
    return;
  }
  posterOf(result);
  adopt(shown);
};
app.ontoolcancelled = () => {
  if (!job) message("The call was stopped before a job was started.");
};
app.onhostcontextchanged = theme;

el("again").onclick = () => void action(async () => job && started(await anotherTake(app, job)));
el("finish").onclick = () => void action(async () => job && started(await finishDraft(app, job)));
el("cancel").onclick = () => void action(cancel);
el("continue").onclick = openNext;
el("next-close").onclick = () => {
  el("next").hidden = true;
};
el("next-go").onclick = () =>
  void action(async () => {
    if (!job) return;
    const start = await continueShot(app, job, el<HTMLTextAreaElement>("next-prompt").value.trim());
    if (start) el("next").hidden = true;
    await started(start);
  });
el("download").onclick = () => void action(download);
el("copy").onclick = () => void copyId();
el("open").onclick = () =>
  void action(async () => {
    if (job?.video) await app.openLink({ url: job.video.url });
  });
el("fullscreen").onclick = () =>
  void action(async () => {
    const { mode } = await app.requestDisplayMode({ mode: displayMode === "fullscreen" ? "inline" : "fullscreen" });
    theme({ displayMode: mode });
  });
setInterval(() => {
  if (job?.status === "in_progress") draw();
}, 1000);

void app.connect().then(() => {
  const context = app.getHostContext();
  if (context) theme(context);
});
