// The card's actions that start a job: each prices what it would start, asks the person in the card, and
// calls the tool only on their click, passing confirm_cost=true since that click is their answer.

import type { App } from "@modelcontextprotocol/ext-apps";
import { dollars, hostName, type Job, TOOL_FOR_MODE } from "./job";
import { textOf } from "./player";
import { el } from "./view";

/** A job the person started from the card: the model is told `line`; `input` is what it was asked with. */
export interface Started {
  next: Job;
  line: string;
  input: Record<string, unknown>;
}

/** Shows a question in the card and resolves with the person's answer. */
export function ask(question: string, yes: string, no: string): Promise<boolean> {
  const panel = el("ask");
  const yesButton = el<HTMLButtonElement>("ask-yes");
  const noButton = el<HTMLButtonElement>("ask-no");
  el("ask-text").textContent = question;
  yesButton.textContent = yes;
  noButton.textContent = no;
  panel.hidden = false;
  yesButton.focus();
  return new Promise((resolve) => {
    const answer = (value: boolean) => (): void => {
      panel.hidden = true;
      yesButton.onclick = noButton.onclick = panel.onkeydown = null;
      resolve(value);
    };
    yesButton.onclick = answer(true);
    noButton.onclick = answer(false);
    panel.onkeydown = (event) => {
      if (event.key === "Escape") answer(false)();
    };
  });
}

/** Prices a job with estimate_cost and asks whether to make it; `what` names it ("Another take ..."). */
async function priced(app: App, what: string, estimate: Record<string, unknown>): Promise<boolean> {
  const result = await app.callServerTool({ name: "estimate_cost", arguments: estimate });
  if (result.isError) throw new Error(textOf(result));
  const cost = result.structuredContent as { min_usd: number; max_usd: number; provider: string; preview: boolean };
  const range = dollars({ min: cost.min_usd, max: cost.max_usd });
  const question = cost.preview
    ? `${what} is a free offline preview (${range} on fal). Make it?`
    : `${what} costs ${range} on ${hostName(cost.provider)}, billed to your account. Generate it?`;
  return ask(question, cost.preview ? "Make preview" : `Generate for ${range}`, "Not now");
}

async function start(app: App, name: string, args: Record<string, unknown>): Promise<Job> {
  const result = await app.callServerTool({ name, arguments: { ...args, confirm_cost: true, wait_seconds: 0 } });
  const next = result.structuredContent as unknown as Job | undefined;
  if (!next?.request_id) throw new Error(textOf(result) || "No new job was started.");
  return next;
}

/** The same job again, as a new take. */
export async function anotherTake(app: App, shown: Job): Promise<Started | undefined> {
  const options = shown.arguments;
  if (!options) return undefined;
  const estimate = {
    mode: shown.mode,
    model: shown.model,
    resolution: options.resolution ?? "720p",
    duration: String(options.duration ?? "auto"),
    aspect_ratio: options.aspect_ratio ?? "auto",
  };
  if (!(await priced(app, "Another take with the same settings", estimate))) return undefined;
  const next = await start(app, TOOL_FOR_MODE[shown.mode], { ...options, model: shown.model, force_new: true });
  const line = `The user started another take of Seedance job ${shown.request_id} from its card: job ${next.request_id}.`;
  return { next, line, input: options };
}

/** This draft rendered at 1080p, once the person accepts its price: the same take, in full quality. */
export async function finishDraft(app: App, shown: Job): Promise<Started | undefined> {
  if (!shown.finish_price_usd || shown.status !== "completed") return undefined;
  const range = dollars(shown.finish_price_usd);
  const question = shown.preview
    ? `Finish this draft at 1080p? It is a free offline preview (${range} on fal).`
    : `Finish this draft at 1080p? It costs ${range} on ${hostName(shown.provider)}, billed to your account.`;
  if (!(await ask(question, shown.preview ? "Make preview" : `Finish for ${range}`, "Not now"))) return undefined;
  const next = await start(app, "complete_draft", { request_id: shown.request_id });
  const line = `The user finished Seedance draft ${shown.request_id} at 1080p from its card: job ${next.request_id}.`;
  return { next, line, input: {} };
}

/** The next shot, an animate_image from this video's last frame, with the prompt the person wrote. */
export async function continueShot(app: App, shown: Job, prompt: string): Promise<Started | undefined> {
  if (shown.status !== "completed") return undefined;
  if (!prompt) throw new Error("Write what happens in the next shot first.");
  const options = shown.arguments ?? {};
  const duration = String(options.duration ?? "auto");
  const resolution = options.resolution ?? "720p";
  const estimate = { mode: "image-to-video", model: shown.model, resolution, duration, aspect_ratio: "auto" };
  if (!(await priced(app, "The next shot, from this video's last frame,", estimate))) return undefined;
  const next = await start(app, "animate_image", {
    prompt,
    image_url: `seedance://jobs/${shown.request_id}/frames/last`,
    resolution,
    duration,
    generate_audio: options.generate_audio ?? true,
    model: shown.model,
  });
  const line =
    `The user continued Seedance job ${shown.request_id} from its card: job ${next.request_id} starts on its last ` +
    `frame, with the prompt: ${prompt}`;
  return { next, line, input: next.arguments ?? {} };
}
