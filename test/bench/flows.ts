// Benchmark of hubble-quarantine's flow path (`npm run bench:flows`):
//  1. throughput on one core: the sandbox writes an exporter JSONL file of ≥ 500k lines (a few
//     dozen workloads); a child process times read + parse + normalise + FlowAnalyzer.observe
//     over it, then the same flows come from a local Observer gRPC server (another process) through
//     streamRelayFlows into the analyzer. Target: ≥ 200,000 flows/s from JSONL.
//  2. detection quality: seeded sandbox runs, a simulated day of normal traffic each (the analyzer
//     learns 12 h, then enforces), then a scan, an unknown egress to :4444 and DNS tunnelling, one
//     after another. Targets: recall 100 % on the injected intrusions, ≤ 1 false quarantine
//     proposal (score ≥ 0.8) per simulated day.
// The measuring children are this file run with `jsonl <file>` or `grpc <address> <flows>`;
// `generate <file>` only writes the JSONL file, for profiling `jsonl <file>` by hand.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FlowAnalyzer } from "../../shared/flows/analyzer.js";
import { streamRelayFlows } from "../../shared/flows/grpc/relay.js";
import { readFlowFile } from "../../shared/flows/jsonl.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import { responseEncoder, startObserverServer, writeAll } from "../support/hubble-relay.js";
import {
  benchScenario,
  formatQuality,
  proposalsPerDay,
  quality,
  runSandbox,
  type RunResult,
} from "../support/intrusion-runs.js";

const JSONL_LINES = 500_000;
const GRPC_FLOWS = 200_000;
const TARGET_FLOWS_PER_S = 200_000;
const SEEDS = [1, 2, 3];
// Most of the file is judged, not learnt: the throughput of an analyzer that enforces.
const LEARNING = "1h";

interface Measurement {
  flows: number;
  lines: number;
  rejected: number;
  wallS: number;
  cpuS: number;
  maxRssMiB: number;
  peakHeapMiB: number;
  parseOnlyFlowsPerS?: number;
}

const MiB = 2 ** 20;

/** CPU, wall and memory around `work`, in the process it runs in. */
async function measure(
  work: (tick: () => void) => Promise<Omit<Measurement, "wallS" | "cpuS" | "maxRssMiB" | "peakHeapMiB">>,
): Promise<Measurement> {
  let peakHeap = process.memoryUsage().heapUsed;
  const tick = () => {
    const h = process.memoryUsage().heapUsed;
    if (h > peakHeap) peakHeap = h;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await work(tick);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    ...counts,
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapMiB: peakHeap / MiB,
  };
}

async function measureJsonl(file: string): Promise<Measurement> {
  const analyzer = new FlowAnalyzer({ learningPeriod: LEARNING });
  let batches = 0;
  const m = await measure(async (tick) => {
    const totals = await readFlowFile(file, (batch) => {
      for (const f of batch.flows) analyzer.observe(f);
      if (++batches % 16 === 0) tick();
    });
    return { flows: totals.flows, lines: totals.lines, rejected: totals.rejected };
  });
  // Parse and normalise alone, for the split (after the memory figures were taken).
  const t0 = performance.now();
  const again = await readFlowFile(file, () => {});
  return { ...m, parseOnlyFlowsPerS: again.flows / ((performance.now() - t0) / 1000) };
}

async function measureGrpc(address: string): Promise<Measurement> {
  const analyzer = new FlowAnalyzer({ learningPeriod: LEARNING });
  let batches = 0;
  return measure(async (tick) => {
    let flows = 0;
    let rejected = 0;
    for await (const batch of streamRelayFlows({ address, follow: false, maxBatch: 1_000 })) {
      for (const item of batch) {
        if ("flow" in item) {
          flows++;
          analyzer.observe(item.flow);
        } else rejected++;
      }
      if (++batches % 64 === 0) tick();
    }
    return { flows, lines: flows + rejected, rejected };
  });
}

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

/**
 * This file in a child process (the loader flags tsx gave this one), its JSON answer. Pinned to
 * one CPU with taskset where there is one, so "one core" holds for every thread of the child
 * (the garbage collector's and the file reads' too), and wall time is one core's time.
 */
const taskset = ["/usr/bin/taskset", "/bin/taskset"].find((f) => existsSync(f));
const pinnedCpu = String(Math.max(0, cpus().length - 1));
async function child(args: string[]): Promise<Measurement> {
  const node = [process.execPath, ...process.execArgv, self, ...args];
  const [cmd, ...argv] = taskset ? [taskset, "-c", pinnedCpu, ...node] : node;
  const { stdout } = await run(cmd!, argv, { maxBuffer: 16 * MiB });
  return JSON.parse(stdout) as Measurement;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

function report(label: string, m: Measurement): number {
  const perCpu = m.flows / m.cpuS;
  const perWall = m.flows / m.wallS;
  console.log(
    `${label}: ${fmt(m.flows)} flows (${fmt(m.rejected)} rejected) in ${m.wallS.toFixed(2)} s wall, ` +
      `${m.cpuS.toFixed(2)} s CPU → ${fmt(perWall)} flows/s wall, ${fmt(perCpu)} flows/s CPU; ` +
      `peak RSS ${m.maxRssMiB.toFixed(0)} MiB, peak heap ${m.peakHeapMiB.toFixed(0)} MiB`,
  );
  if (m.parseOnlyFlowsPerS)
    console.log(`  parse + normalise alone: ${fmt(m.parseOnlyFlowsPerS)} flows/s wall`);
  return perWall;
}

/** Writes ≥ JSONL_LINES exporter lines and keeps the first GRPC_FLOWS as GetFlowsResponse bytes. */
async function generate(file: string): Promise<{ messages: Buffer[]; simulatedH: number }> {
  const sb = await startSandbox({
    scenario: benchScenario(),
    seed: 7,
    flowLog: file,
    metrics: { scrapeIntervalMs: 600_000 },
    flows: { sampleRate: 0.05, maxCallsPerStep: 40, maxBytes: 2 ** 32, maxBackups: 0 },
  });
  const encode = responseEncoder();
  const messages: Buffer[] = [];
  const stop = sb.flows.subscribe((line) => {
    if (messages.length < GRPC_FLOWS) messages.push(encode(line as Record<string, unknown>));
  });
  const start = sb.flows.log.count;
  const t0 = sb.clock.now().getTime();
  while (sb.flows.log.count - start < JSONL_LINES) sb.clock.advance(10 * 60_000);
  const simulatedH = (sb.clock.now().getTime() - t0) / 3_600_000;
  stop();
  await sb.close();
  return { messages, simulatedH };
}

async function throughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-flows-"));
  try {
    const file = join(dir, "hubble-flows.jsonl");
    let t0 = performance.now();
    const { messages, simulatedH } = await generate(file);
    const size = statSync(file).size;
    console.log(
      `generated ${file}: ${(size / MiB).toFixed(0)} MiB, ${simulatedH.toFixed(1)} simulated h of ${benchScenario().workloads.length} workloads ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const jsonl = await child(["jsonl", file]);
    const perWall = report("JSONL file → parse + normalise + FlowAnalyzer.observe", jsonl);
    console.log(
      `  target ≥ ${fmt(TARGET_FLOWS_PER_S)} flows/s from JSONL: ${perWall >= TARGET_FLOWS_PER_S ? "met" : "NOT met"}`,
    );

    t0 = performance.now();
    const server = await startObserverServer((call) => void writeAll(call, messages), { raw: true });
    try {
      const grpc = await child(["grpc", server.address]);
      report(`gRPC GetFlows (server in this process) → streamRelayFlows → observe`, grpc);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function detection(): Promise<boolean> {
  const runs: RunResult[] = [];
  const t0 = performance.now();
  for (const seed of SEEDS) {
    const r = await runSandbox({
      seed,
      normalHours: 24,
      learnHours: 12,
      intrusions: ["scan", "egress", "dns-tunnel"],
      intrusionMinutes: 10,
      gapMinutes: 60,
    });
    console.log(
      `seed ${seed}: ${(r.simulatedMs / 3_600_000).toFixed(1)} simulated h, ${fmt(r.flows)} flows, ` +
        `${r.detections.length} detections (${((performance.now() - t0) / 1000).toFixed(1)} s so far)` +
        (r.dnsIpsFilled
          ? `; ${fmt(r.dnsIpsFilled)} DNS answers lacked Flow.dnsIps (normaliser; filled in)`
          : ""),
    );
    runs.push(r);
  }
  const q = quality(runs);
  for (const line of formatQuality(q)) console.log(line);
  const recallMet = q.perIntrusion.every((p) => p.runs > 0 && p.caughtByExpected === p.runs);
  const falseMet = proposalsPerDay(q) <= 1;
  console.log(`target recall 100 % on the injected intrusions: ${recallMet ? "met" : "NOT met"}`);
  console.log(`target ≤ 1 false quarantine proposal per simulated day: ${falseMet ? "met" : "NOT met"}`);
  return recallMet && falseMet;
}

async function main(): Promise<void> {
  const [mode, arg] = process.argv.slice(2);
  // `generate <file>` writes the throughput file and stops (to profile `jsonl <file>` by hand).
  if (mode === "generate") {
    await generate(arg ?? "hubble-flows.jsonl");
    return;
  }
  if (mode === "jsonl" || mode === "grpc") {
    const m = mode === "jsonl" ? await measureJsonl(arg ?? "") : await measureGrpc(arg ?? "");
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const t0 = performance.now();
  console.log(
    `machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`,
  );
  console.log(
    `== throughput (${taskset ? `each measuring process pinned to CPU ${pinnedCpu} with taskset` : "one measuring process at a time; taskset not found, so not pinned"})`,
  );
  await throughput();
  console.log("== detection quality");
  await detection();
  console.log(`bench:flows took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
