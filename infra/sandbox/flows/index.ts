// The sandbox's Hubble: flows of the simulated datapath, written as exporter JSONL and streamed to
// in-process listeners and over HTTP (`GET /sandbox/flows[?since=<RFC 3339>][&follow=1]`).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimContext } from "../controllers/context.js";
import type { DemandRate } from "../demand.js";
import type { Random } from "../random.js";
import { FlowGenerator } from "./generator.js";
import { FlowLog, type FlowListener } from "./log.js";
import type { ExporterLine } from "./schema.js";

export { ExporterLineSchema, FlowSchema, type ExporterLine, type HubbleFlow } from "./schema.js";
export { PolicySet, type PolicyPeer, type PolicyVerdict } from "./policy.js";
export { serviceGraph, EXTERNAL_SERVICES } from "./graph.js";
export { FlowLog, type FlowListener } from "./log.js";
export { FlowGenerator } from "./generator.js";

export interface SandboxFlowsOptions {
  ctx: SimContext;
  demand: DemandRate;
  random: Random;
  /** Exporter JSONL file; undefined: none. */
  path?: string;
  maxBytes?: number;
  maxBackups?: number;
  sampleRate?: number;
  maxCallsPerStep?: number;
  clusterName?: string;
}

export class SandboxFlows {
  readonly generator: FlowGenerator;
  readonly log: FlowLog;
  /** Wall milliseconds spent generating and writing flows (for benchmarks). */
  wallMs = 0;

  constructor(opts: SandboxFlowsOptions) {
    this.generator = new FlowGenerator(opts);
    this.log = new FlowLog({
      ...(opts.path ? { path: opts.path } : {}),
      ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.maxBackups !== undefined ? { maxBackups: opts.maxBackups } : {}),
    });
  }

  get path(): string | undefined {
    return this.log.path;
  }

  step(nowMs: number, dtMs: number): void {
    const t0 = performance.now();
    this.log.write(this.generator.step(nowMs, dtMs));
    this.wallMs += performance.now() - t0;
  }

  subscribe(listener: FlowListener): () => void {
    return this.log.subscribe(listener);
  }

  recent(since?: number): ExporterLine[] {
    return this.log.recent(since);
  }

  /** `GET /sandbox/flows`: recent lines as JSONL; `follow=1` keeps streaming until the client leaves. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const sinceRaw = url.searchParams.get("since");
    const since = sinceRaw ? Date.parse(sinceRaw) : undefined;
    if (sinceRaw && Number.isNaN(since)) {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: `since must be an RFC 3339 time, got "${sinceRaw}"` }));
      return;
    }
    const follow = ["1", "true"].includes(url.searchParams.get("follow") ?? "");
    res.writeHead(200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
    const backlog = this.recent(since);
    if (backlog.length) res.write(backlog.map((l) => JSON.stringify(l)).join("\n") + "\n");
    if (!follow) return void res.end();
    res.flushHeaders();
    const stop = this.subscribe((l) => res.write(`${JSON.stringify(l)}\n`));
    const close = () => stop();
    req.on("close", close);
    res.on("close", close);
  }
}
