// `prophet netpol`: the service map learnt from Hubble flows (an exporter / `hubble observe -o json`
// JSONL file, or what a Hubble Relay has buffered), as least-privilege CiliumNetworkPolicies
// (`suggest`) or as a Graphviz DOT / JSON graph (`graph`). Every flow read is learning: nothing is
// judged, so the map holds every edge the flows show.
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration } from "../../../shared/duration.js";
import { describeIssues, issuesFromZod, ProphetError } from "../../../shared/errors.js";
import { Baseline } from "../../../shared/flows/baseline.js";
import { policiesToYaml, serviceGraph, suggestPolicies, toDot } from "../../../shared/flows/export.js";
import { streamRelayFlows } from "../../../shared/flows/grpc/relay.js";
import { readFlowFile, type FlowRejection } from "../../../shared/flows/jsonl.js";

/** Rejected lines named on stderr; the rest are only counted. */
const SHOWN_REJECTIONS = 5;

const SourceSchema = z
  .object({
    flows: z.string().min(1).optional(),
    relay: z
      .string()
      .regex(/^[^\s:]+:\d+$/, "expected host:port")
      .optional(),
    since: z.string().optional(),
    namespace: z.string().min(1).optional(),
    identity: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, "expected namespace/app")
      .optional(),
  })
  .refine((o) => (o.flows === undefined) !== (o.relay === undefined), {
    message: "give exactly one of --flows <file.jsonl> and --relay <host:port>",
  })
  .refine((o) => o.since === undefined || o.relay !== undefined, {
    message: "--since applies to --relay only",
    path: ["since"],
  })
  .refine((o) => o.since === undefined || parseDuration(o.since) !== undefined, {
    message: "expected a duration like 30m, 1h or 2d",
    path: ["since"],
  });

const SuggestSchema = SourceSchema.and(z.object({ output: z.enum(["yaml", "json"]).default("yaml") }));
const GraphSchema = SourceSchema.and(z.object({ format: z.enum(["dot", "json"]).default("dot") }));

export type FlowSource = z.infer<typeof SourceSchema>;

export interface LearntMap {
  baseline: Baseline;
  flows: number;
  lines: number;
  rejected: number;
  /** The first few rejected lines (or Relay messages) with their reasons. */
  firstRejections: FlowRejection[];
  /** What was read, for messages: the file or the Relay's address. */
  from: string;
}

/** Learns every flow of the file or of the Relay's buffer into a baseline that never enforces. */
export async function learnMap(source: FlowSource, now: () => Date = () => new Date()): Promise<LearntMap> {
  const baseline = new Baseline({ learningMs: Number.POSITIVE_INFINITY });
  const map: LearntMap = { baseline, flows: 0, lines: 0, rejected: 0, firstRejections: [], from: "" };
  const reject = (r: FlowRejection) => {
    map.rejected++;
    if (map.firstRejections.length < SHOWN_REJECTIONS) map.firstRejections.push(r);
  };
  if (source.flows !== undefined) {
    map.from = source.flows;
    try {
      const totals = await readFlowFile(source.flows, (batch) => {
        for (const f of batch.flows) baseline.observe(f);
        for (const r of batch.rejected) reject(r);
      });
      map.flows = totals.flows;
      map.lines = totals.lines;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ProphetError(
        e.code === "ENOENT" ? "not_found" : "invalid_data",
        `cannot read ${source.flows}: ${e.message}`,
        [],
        { cause: err },
      );
    }
    return map;
  }
  const address = source.relay ?? "";
  map.from = `Hubble Relay ${address}`;
  const seconds = source.since !== undefined ? parseDuration(source.since) : undefined;
  const since = seconds !== undefined ? new Date(now().getTime() - seconds * 1000) : undefined;
  for await (const batch of streamRelayFlows({ address, follow: false, ...(since ? { since } : {}) })) {
    for (const item of batch) {
      map.lines++;
      if ("flow" in item) {
        map.flows++;
        baseline.observe(item.flow);
      } else reject(item.rejected);
    }
  }
  return map;
}

export function register(program: Command): void {
  const netpol = program
    .command("netpol")
    .description("the service map learnt from Hubble flows: least-privilege CiliumNetworkPolicies, a graph");
  const source = (c: Command): Command =>
    c
      .option("--flows <file>", "Hubble flows as JSONL (the exporter file, `hubble observe -o json`)")
      .option("--relay <host:port>", "a Hubble Relay (or Hubble server); reads what it has buffered")
      .option("--since <duration>", "with --relay: only flows of the last <duration> (e.g. 30m, 2h)")
      .option("-n, --namespace <namespace>", "only workloads of this namespace (and edges touching them)");

  source(netpol.command("suggest"))
    .description("print one least-privilege CiliumNetworkPolicy per workload, allowing what the flows show")
    .option("--identity <ns/app>", "only this workload")
    .option("--output <format>", "yaml (a multi-document stream for kubectl apply) or json", "yaml")
    .action(async (raw: unknown) => {
      const o = parse(SuggestSchema, raw, "netpol suggest");
      if (!o) return;
      const map = await learnOrFail(o);
      if (!map) return;
      const policies = suggestPolicies(map.baseline, filterOf(o));
      if (!policies.length) {
        console.error(`netpol suggest: no workload with selector labels matched in ${map.from}`);
        return;
      }
      process.stdout.write(
        o.output === "yaml"
          ? policiesToYaml(policies)
          : `${JSON.stringify({ apiVersion: "v1", kind: "List", items: policies }, null, 2)}\n`,
      );
    });

  source(netpol.command("graph"))
    .description("print the service map as Graphviz DOT or JSON")
    .option("--identity <ns/app>", "only edges touching this workload")
    .option("--format <format>", "dot or json", "dot")
    .action(async (raw: unknown) => {
      const o = parse(GraphSchema, raw, "netpol graph");
      if (!o) return;
      const map = await learnOrFail(o);
      if (!map) return;
      const graph = serviceGraph(map.baseline, filterOf(o));
      process.stdout.write(o.format === "dot" ? toDot(graph) : `${JSON.stringify(graph, null, 2)}\n`);
    });
}

function filterOf(o: FlowSource): { namespace?: string; identity?: string } {
  return {
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.identity !== undefined ? { identity: o.identity } : {}),
  };
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, command: string): T | undefined {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  console.error(`error: ${command}: ${describeIssues(issuesFromZod(r.error.issues))}`);
  process.exitCode = 2;
  return undefined;
}

/** The map, with rejected lines reported on stderr; undefined (exit code 1) when no flow was read. */
async function learnOrFail(o: FlowSource): Promise<LearntMap | undefined> {
  let map: LearntMap;
  try {
    map = await learnMap(o);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
  if (map.rejected) {
    console.error(
      `netpol: ${map.rejected} of ${map.lines} lines in ${map.from} rejected; ` +
        map.firstRejections.map((r) => `line ${r.line}: ${r.reason}`).join("; ") +
        (map.rejected > map.firstRejections.length ? "; …" : ""),
    );
  }
  if (!map.flows) {
    console.error(`error: no flow could be read from ${map.from} (${map.lines} lines)`);
    process.exitCode = 1;
    return undefined;
  }
  return map;
}
