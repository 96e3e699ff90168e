// Plays a finished job's video: from the host's link when the sandbox allows it, else through the server.
//
// The sandbox's default policy plays media only from 'self' and data:, and blocks blob:. A link whose
// origin the resource declared plays as it is; anything else (a preview, a saved copy, an expired link,
// a client that ignores the declared origins) is read from the server in pieces and played as data:.

import type { App } from "@modelcontextprotocol/ext-apps";
import type { Job } from "./job";
import type { Played } from "./view";

const LINK_SECONDS = 20; // a link that has not loaded by then is given up for the server's copy

interface Piece {
  offset: number;
  size: number;
  total_bytes: number;
  data: string;
}

export function textOf(result: { content?: unknown[] }): string {
  return (result.content ?? [])
    .map((block) => (block as { type?: string; text?: string }).text ?? "")
    .join("\n")
    .trim();
}

export class Player {
  private bytes: { id: string; base64: string } | undefined;

  constructor(
    private readonly app: App,
    private readonly video: HTMLVideoElement,
    private readonly say: (line: string) => void,
  ) {}

  /** Loads the job's video and resolves with what it turned out to be, once it can play. */
  async play(job: Job): Promise<Played> {
    const url = job.video?.url ?? "";
    if (/^https?:\/\//.test(url)) {
      try {
        return await this.load(url);
      } catch {
        this.say("The video link did not play here; loading it through the server…");
      }
    }
    return await this.load(`data:video/mp4;base64,${await this.read(job.request_id)}`);
  }

  /** The whole file as base64, read once from the server in pieces (for playing and for downloading). */
  async read(requestId: string): Promise<string> {
    if (this.bytes?.id === requestId) return this.bytes.base64;
    const parts: string[] = [];
    for (let offset = 0, total = 1; offset < total; ) {
      const result = await this.app.callServerTool({ name: "video_chunk", arguments: { request_id: requestId, offset } });
      if (result.isError) throw new Error(textOf(result));
      const piece = result.structuredContent as unknown as Piece;
      if (piece.size === 0) break;
      parts.push(piece.data);
      offset += piece.size;
      total = piece.total_bytes;
      this.say(`Loading the video… ${Math.round((100 * offset) / total)}%`);
    }
    this.bytes = { id: requestId, base64: parts.join("") };
    return this.bytes.base64;
  }

  stop(): void {
    this.video.removeAttribute("src");
    this.video.hidden = true;
    this.video.load();
  }

  private load(src: string): Promise<Played> {
    const video = this.video;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error("the video took too long to load")), LINK_SECONDS * 1000);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        video.removeEventListener("loadedmetadata", loaded);
        video.removeEventListener("error", failed);
        if (error) reject(error);
        else resolve({ width: video.videoWidth, height: video.videoHeight, duration: video.duration });
      };
      const loaded = (): void => {
        video.hidden = false;
        finish();
      };
      const failed = (): void => finish(new Error(video.error?.message || "the video could not be played"));
      video.addEventListener("loadedmetadata", loaded);
      video.addEventListener("error", failed);
      video.src = src;
      video.load();
    });
  }
}
