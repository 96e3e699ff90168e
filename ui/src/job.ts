// A job as watch_job and the generation tools describe it, and the words the card uses for it.

export type Status = "queued" | "in_progress" | "completed" | "failed" | "cancelled";

export interface Video {
  url: string;
  file_name?: string | null;
  file_size?: number | null;
  width?: number | null;
  height?: number | null;
  duration?: number | null;
}

export interface Job {
  request_id: string;
  status: Status;
  provider: string;
  mode: string;
  model: string;
  progress: string;
  queue_position?: number | null;
  elapsed_seconds: number;
  video?: Video | null;
  estimated_cost_usd: { min: number; max: number };
  list_price_usd: { min: number; max: number };
  preview: boolean;
  error?: string | null;
  draft_id?: string | null;
  finish_price_usd?: { min: number; max: number } | null; // a draft that complete_draft can still finish
  // Only in watch_job's answer (the card's own view):
  arguments?: Record<string, unknown>;
  last_log?: string | null;
  generating_seconds?: number | null;
  version?: number;
}

export const TOOL_FOR_MODE: Record<string, string> = {
  "text-to-video": "generate_text_video",
  "image-to-video": "animate_image",
  "reference-to-video": "reference_video",
};

const MODE_WORDS: Record<string, string> = {
  "text-to-video": "Text to video",
  "image-to-video": "Image to video",
  "reference-to-video": "Reference to video",
  "draft-completion": "A draft at 1080p",
};

const HOSTS: Record<string, string> = {
  fal: "fal",
  "fal-us": "fal (US)",
  runflow: "Runflow",
  ark: "BytePlus ModelArk",
  local: "this computer",
};

export function finished(job: Job): boolean {
  return job.status === "completed" || job.status === "failed" || job.status === "cancelled";
}

export function dollars(range: { min: number; max: number }): string {
  const low = `$${range.min.toFixed(2)}`;
  return range.min.toFixed(2) === range.max.toFixed(2) ? low : `${low}–$${range.max.toFixed(2)}`;
}

export function hostName(provider: string): string {
  return HOSTS[provider] ?? provider;
}

export function price(job: Job): string {
  if (job.preview) return `Free preview · ${dollars(job.list_price_usd)} on fal`;
  return `${dollars(job.estimated_cost_usd)} on ${hostName(job.provider)} (list price)`;
}

const BADGES: Record<Status, string> = {
  queued: "Queued",
  in_progress: "Generating",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The badge also carries the clock, which ticks; the live status line does not, so it speaks only on change. */
export function badge(job: Job, ticking = 0): string {
  if (job.status !== "in_progress") return BADGES[job.status];
  return `${BADGES.in_progress} · ${seconds((job.generating_seconds ?? job.elapsed_seconds) + ticking)}`;
}

function seconds(value: number): string {
  return value < 60 ? `${Math.floor(value)} s` : `${Math.floor(value / 60)} min ${Math.floor(value % 60)} s`;
}

/** The sentence the live region reads out. */
export function statusLine(job: Job): string {
  switch (job.status) {
    case "queued":
      if (job.queue_position == null) return "Waiting in the queue";
      return job.queue_position === 0 ? "Next in the queue" : `Queued, position ${job.queue_position}`;
    case "in_progress":
      return job.preview ? "Rendering the preview" : "Generating the video";
    case "completed":
      if (job.draft_id) return job.preview ? "Preview draft ready (480p)" : "Draft ready (480p)";
      return job.preview ? "Preview ready" : "Video ready";
    case "failed":
      return `Failed: ${job.error ?? "the host gave no reason"}`;
    case "cancelled":
      return "Cancelled";
  }
}

export interface Fact {
  label: string;
  value: string;
}

function asked(job: Job, name: string, fallback: string): string {
  const value = job.arguments?.[name];
  return value === undefined || value === null ? fallback : String(value);
}

/** What the job was made with: what was asked, replaced by what the video turned out to be once it plays. */
export function facts(job: Job, played?: { width: number; height: number; duration: number }): Fact[] {
  const duration = asked(job, "duration", "auto");
  const length = played ? `${played.duration.toFixed(1)} s` : duration === "auto" ? "auto" : `${duration} s`;
  const size = played ? `${played.width}×${played.height}` : asked(job, "resolution", "720p");
  const shape = played ? ratio(played.width, played.height) : asked(job, "aspect_ratio", "auto");
  return [
    { label: "Mode", value: MODE_WORDS[job.mode] ?? job.mode },
    { label: "Model", value: job.model },
    { label: "Resolution", value: size },
    { label: "Length", value: length },
    { label: "Aspect ratio", value: shape },
  ];
}

const RATIOS: [string, number][] = [
  ["21:9", 21 / 9],
  ["16:9", 16 / 9],
  ["4:3", 4 / 3],
  ["1:1", 1],
  ["3:4", 3 / 4],
  ["9:16", 9 / 16],
];

export function ratio(width: number, height: number): string {
  const actual = width / height;
  const [name, value] = RATIOS.reduce((best, next) =>
    Math.abs(next[1] - actual) < Math.abs(best[1] - actual) ? next : best,
  );
  return Math.abs(value - actual) / value < 0.03 ? name : `${width}:${height}`;
}
