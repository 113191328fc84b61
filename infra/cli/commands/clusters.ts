// `prophet clusters list|add|test`: the cluster registry (shared/clusters/). `add` registers the
// contexts of a kubeconfig, the in-cluster service account, or what EKS, AKS and GKE discovery
// finds; a source that fails is reported and the others are still added.
import type { Command } from "commander";
import { z } from "zod";
import { loadConfig } from "../../../shared/config.js";
import { ProphetError, describeIssues, issuesFromZod } from "../../../shared/errors.js";
import { ClusterNameSchema } from "../../../shared/clusters/definition.js";
import type { DiscoveryRequest } from "../../../shared/clusters/discover.js";
import { defaultClustersFile } from "../../../shared/clusters/file.js";
import { ClusterRegistry, type ClusterEntry } from "../../../shared/clusters/registry.js";
import { formatTable, HostRequestError, hostUrl, requestHost } from "./remediation.js";

export interface ClustersCliDeps {
  registry(): ClusterRegistry;
}

export const defaultDeps: ClustersCliDeps = {
  registry: () =>
    new ClusterRegistry({ file: defaultClustersFile(loadConfig(process.env).PROPHET_CLUSTERS_FILE) }),
};

const ListSchema = z.object({
  output: z.enum(["table", "json"]).default("table"),
  check: z.boolean().default(false),
});

const AddSchema = z
  .object({
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    name: ClusterNameSchema.optional(),
    namePrefix: z
      .string()
      .regex(/^[a-z0-9][-a-z0-9]*$/, "expected lower-case letters, digits and '-'")
      .optional(),
    inCluster: z.boolean().optional(),
    eks: z.array(z.string().min(1)).optional(),
    aks: z.array(z.string().min(1)).optional(),
    gke: z.array(z.string().min(1)).optional(),
    prometheus: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((o) => o.kubeconfig || o.inCluster || o.eks?.length || o.aks?.length || o.gke?.length, {
    message: "give at least one source: --kubeconfig, --in-cluster, --eks, --aks or --gke",
  })
  .refine((o) => !o.context || o.kubeconfig, { message: "--context needs --kubeconfig", path: ["context"] });

const TestSchema = z.object({ name: ClusterNameSchema, output: z.enum(["text", "json"]).default("text") });

function parse<T>(schema: z.ZodType<T>, raw: unknown, command: string): T | undefined {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  console.error(`error: ${command}: ${describeIssues(issuesFromZod(r.error.issues))}`);
  process.exitCode = 2;
  return undefined;
}

function fail(err: unknown): void {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function table(rows: ClusterEntry[]): string {
  const cols: [string, (r: ClusterEntry) => string][] = [
    ["NAME", (r) => r.name],
    ["SOURCE", (r) => r.source],
    ["SERVER", (r) => r.server ?? "-"],
    ["CONTEXT", (r) => r.context ?? "-"],
    ["CLOUD", (r) => r.cloud ?? "-"],
    ["REGION", (r) => r.region ?? "-"],
    ["ACCOUNT", (r) => r.account ?? "-"],
    ["STATUS", (r) => (r.error ? `${r.status}: ${r.error}` : r.status)],
  ];
  const widths = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(cols.map(([h]) => h)), ...rows.map((r) => line(cols.map(([, f]) => f(r))))].join("\n") + "\n";
}

export function register(program: Command, deps: ClustersCliDeps = defaultDeps): void {
  const clusters = program
    .command("clusters")
    .description("the clusters this Prophet watches: kubeconfig contexts, in-cluster, EKS, AKS, GKE");

  clusters
    .command("list")
    .description("list the registered clusters")
    .option("--output <format>", "table or json", "table")
    .option("--check", "resolve each cluster's credentials and report which fail")
    .action(async (raw: unknown) => {
      const o = parse(ListSchema, raw, "clusters list");
      if (!o) return;
      try {
        const rows = await deps.registry().list({ check: o.check });
        process.stdout.write(
          o.output === "json" ? `${JSON.stringify({ clusters: rows }, null, 2)}\n` : table(rows),
        );
        if (rows.some((r) => r.status === "error")) process.exitCode = 1;
      } catch (err) {
        fail(err);
      }
    });

  clusters
    .command("add")
    .description("register clusters from a kubeconfig, the in-cluster service account, or cloud discovery")
    .option("--kubeconfig <file>", "every context of this kubeconfig (or only --context)")
    .option("--context <context>", "with --kubeconfig: only this context")
    .option("--name <name>", "with one context or --in-cluster: register it under this name")
    .option("--name-prefix <prefix>", "prepend to every derived name (e.g. prod-)")
    .option("--in-cluster", "the cluster this process runs in (its service account)")
    .option("--eks <region>", "every EKS cluster of the region (repeatable)", collect)
    .option("--aks <subscription>", "every AKS cluster of the subscription (repeatable)", collect)
    .option("--gke <project>", "every GKE cluster of the project (repeatable)", collect)
    .option("--prometheus <url>", "with one cluster: its Prometheus HTTP API")
    .action(async (raw: unknown) => {
      const o = parse(AddSchema, raw, "clusters add");
      if (!o) return;
      const requests: DiscoveryRequest[] = [
        ...(o.kubeconfig
          ? [
              {
                source: "kubeconfig" as const,
                path: o.kubeconfig,
                ...(o.context ? { context: o.context } : {}),
                ...(o.name ? { name: o.name } : {}),
              },
            ]
          : []),
        ...(o.inCluster ? [{ source: "in-cluster" as const, ...(o.name ? { name: o.name } : {}) }] : []),
        ...(o.eks ?? []).map((region) => ({ source: "eks" as const, region })),
        ...(o.aks ?? []).map((subscription) => ({ source: "aks" as const, subscription })),
        ...(o.gke ?? []).map((project) => ({ source: "gke" as const, project })),
      ];
      try {
        const registry = deps.registry();
        const found = await registry.discover(requests, o.namePrefix ? { namePrefix: o.namePrefix } : {});
        if (o.prometheus) {
          if (found.clusters.length !== 1)
            throw new ProphetError(
              "bad_request",
              `--prometheus names one cluster's Prometheus, but ${found.clusters.length} clusters were found: add them one at a time (--context, --name)`,
            );
          found.clusters[0]!.prometheus = o.prometheus;
        }
        for (const e of found.errors) console.error(`error: ${e.source}: ${e.error.message}`);
        if (found.clusters.length) {
          const res = registry.add(found.clusters);
          for (const c of found.clusters) {
            const how = res.added.includes(c.name) ? "added" : "unchanged";
            process.stdout.write(`${how} ${c.name} (${c.source}${c.server ? ` ${c.server}` : ""})\n`);
          }
        } else if (!found.errors.length) console.error("clusters add: no cluster found");
        if (found.errors.length) process.exitCode = 1;
      } catch (err) {
        fail(err);
      }
    });

  clusters
    .command("test")
    .description("call the cluster's API server (GET /version) and print the version and latency")
    .argument("<name>", "a registered cluster")
    .option("--output <format>", "text or json", "text")
    .action(async (name: string, raw: Record<string, unknown>) => {
      const o = parse(TestSchema, { ...raw, name }, "clusters test");
      if (!o) return;
      try {
        const r = await deps.registry().probe(o.name);
        process.stdout.write(
          o.output === "json"
            ? `${JSON.stringify({ name: r.name, server: r.server, version: r.version.gitVersion, latencyMs: r.latencyMs }, null, 2)}\n`
            : `${r.name}: ${r.server} Kubernetes ${r.version.gitVersion} in ${r.latencyMs} ms\n`,
        );
      } catch (err) {
        fail(err);
      }
    });

  clusters
    .command("status")
    .description("how every cluster a running host serves is doing: incidents, approvals, SLOs, capacity")
    .option("--url <url>", "the Prophet host (default $PROPHET_URL or http://127.0.0.1:$PORT, port 8080)")
    .option("--output <format>", "table or json", "table")
    .action(async (raw: { url?: string; output?: string }) => {
      try {
        const answer = HealthAnswer.safeParse(await requestHost(hostUrl(raw.url), "GET", "/api/clusters"));
        if (!answer.success) throw new HostRequestError("unexpected answer from the host (clusters)");
        const items = answer.data.items;
        if (raw.output === "json") return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        const pct = (v: number | null) => (v === null ? "-" : `${Math.round(v * 100)} %`);
        process.stdout.write(
          formatTable(
            [
              "CLUSTER",
              "STATUS",
              "INCIDENTS",
              "APPROVALS",
              "REMEDIATED 24H",
              "SLOS VIOLATED",
              "LOWEST BUDGET",
              "BUFFER PODS",
              "FLOW DETECTIONS 24H",
            ],
            items.map((h) => [
              h.cluster + (h.registered ? "" : " (unregistered)"),
              h.status,
              `${h.incidents.firing} (${h.incidents.critical} critical)`,
              String(h.remediations.awaitingApproval),
              `${h.remediations.executedLastDay} (${h.remediations.failedLastDay} failed)`,
              `${h.slos.violated}/${h.slos.total}`,
              pct(h.slos.lowestBudgetRemaining),
              String(h.capacity.bufferPods),
              String(h.network.detectionsLastDay),
            ]),
          ),
        );
      } catch (err) {
        fail(err);
      }
    });
}

const n = z.number();
const HealthAnswer = z.object({
  items: z.array(
    z.object({
      cluster: z.string(),
      registered: z.boolean(),
      status: z.enum(["ok", "warning", "critical"]),
      incidents: z.object({ firing: n, critical: n, openedLastDay: n }),
      remediations: z.object({ awaitingApproval: n, executedLastDay: n, failedLastDay: n }),
      slos: z.object({ total: n, violated: n, lowestBudgetRemaining: n.nullable() }),
      capacity: z.object({ scales: n, bufferPods: n }),
      network: z.object({ detectionsLastDay: n }),
    }),
  ),
});
