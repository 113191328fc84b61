// Where flows go: the exporter's JSONL file (bounded, rotated like Hubble's exporter with
// hubble-export-file-max-size-mb / -max-backups), in-process listeners, and a ring of recent lines
// for late readers (`GET /sandbox/flows?since=`).
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { ExporterLine, HubbleFlow } from "./schema.js";

export type FlowListener = (line: ExporterLine) => void;

export interface FlowLogOptions {
  /** JSONL file; undefined: no file. */
  path?: string;
  /** Rotate when the file would pass this size (default 16 MiB). */
  maxBytes?: number;
  /** Rotated files kept as `<path>.1` … (default 2). */
  maxBackups?: number;
  /** Recent lines kept in memory (default 10,000). */
  recent?: number;
}

export class FlowLog {
  readonly path: string | undefined;
  private readonly maxBytes: number;
  private readonly maxBackups: number;
  private readonly capacity: number;
  private readonly listeners = new Set<FlowListener>();
  private readonly ring: ExporterLine[] = [];
  private head = 0;
  private size = 0;
  /** Flows written since start. */
  count = 0;

  constructor(opts: FlowLogOptions = {}) {
    this.path = opts.path;
    this.maxBytes = opts.maxBytes ?? 16 * 2 ** 20;
    this.maxBackups = opts.maxBackups ?? 2;
    this.capacity = opts.recent ?? 10_000;
    if (this.path) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.size = existsSync(this.path) ? statSync(this.path).size : 0;
    }
  }

  subscribe(listener: FlowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Recent lines at or after `since` (all kept ones when undefined), oldest first. */
  recent(since?: number): ExporterLine[] {
    const ordered =
      this.ring.length < this.capacity
        ? this.ring
        : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    return since === undefined ? [...ordered] : ordered.filter((l) => Date.parse(l.time ?? "") >= since);
  }

  write(flows: HubbleFlow[]): void {
    if (!flows.length) return;
    const lines = flows.map((flow): ExporterLine => ({
      flow,
      node_name: flow.node_name ?? "",
      time: flow.time ?? "",
    }));
    if (this.path) {
      const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
      const bytes = Buffer.byteLength(text);
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      appendFileSync(this.path, text);
      this.size += bytes;
    }
    for (const l of lines) {
      if (this.ring.length < this.capacity) this.ring.push(l);
      else {
        this.ring[this.head] = l;
        this.head = (this.head + 1) % this.capacity;
      }
      for (const listener of this.listeners) listener(l);
    }
    this.count += lines.length;
  }

  private rotate(): void {
    const path = this.path ?? "";
    if (this.maxBackups < 1) rmSync(path, { force: true });
    else {
      for (let i = this.maxBackups - 1; i >= 1; i--)
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    }
    this.size = 0;
  }
}
