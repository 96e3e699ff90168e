// Puts a job on the page. Nothing here talks to the host.

import { badge, facts, finished, type Job, price, statusLine } from "./job";

export function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the card has no #${id}`);
  return found as T;
}

export interface Played {
  width: number;
  height: number;
  duration: number;
}

function show(id: string, visible: boolean): void {
  el(id).hidden = !visible;
}

function text(id: string, value: string | null | undefined): void {
  const node = el(id);
  node.textContent = value ?? "";
  node.hidden = !value;
}

/** How far along the bar is: a guess that only rises, from the job's state and time. */
function fill(job: Job, ticking: number): number {
  if (finished(job)) return 100;
  if (job.status === "queued") return 4;
  const seconds = (job.generating_seconds ?? job.elapsed_seconds) + ticking;
  return 10 + 85 * (1 - Math.exp(-seconds / 90));
}

export function render(job: Job, played: Played | undefined, ticking = 0): void {
  el("title").textContent = job.preview ? "Seedance preview (offline stand-in)" : "Seedance video";
  const tag = el("badge");
  tag.textContent = badge(job, ticking);
  tag.dataset.status = job.status;
  const status = el("status");
  const line = statusLine(job);
  if (status.textContent !== line) status.textContent = line;
  status.classList.toggle("failed", job.status === "failed");
  text("log", job.status === "in_progress" ? job.last_log : null);
  const prompt = job.arguments?.prompt;
  text("prompt", typeof prompt === "string" ? prompt : null);
  const list = el("facts");
  list.replaceChildren(
    ...facts(job, played).map(({ label, value }) => {
      const row = document.createElement("div");
      const term = document.createElement("dt");
      const detail = document.createElement("dd");
      term.textContent = label;
      detail.textContent = value;
      row.append(term, detail);
      return row;
    }),
  );
  text("price", price(job));
  show("ident", true);
  const id = el<HTMLInputElement>("request-id");
  if (id.value !== job.request_id) id.value = job.request_id;
  el("bar-fill").style.width = `${fill(job, ticking).toFixed(1)}%`;
  show("waiting", job.status !== "completed" || el<HTMLVideoElement>("video").hidden);
}

export function poster(data: string | undefined): void {
  const url = data ? `data:image/jpeg;base64,${data}` : "";
  el<HTMLVideoElement>("video").poster = url;
  el("waiting").style.backgroundImage = url ? `url("${url}")` : "";
}

export function notice(message: string | null): void {
  text("notice", message);
}

export function message(line: string): void {
  el("status").textContent = line;
}
