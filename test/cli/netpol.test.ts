// `prophet netpol suggest|graph` on two minutes of the sandbox's Hubble flows: from the exporter
// file and from a local Hubble Relay serving the same lines, the policies allow exactly the demo
// shop's calls (frontend → cart on 8080, checkout → postgres on 5432 and api.stripe.com on 443);
// the graph is DOT or JSON; bad lines are counted and named, and no readable flow is exit code 1.
import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runCommand } from "../support/cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { register } from "../../infra/cli/commands/netpol.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import type { CiliumNetworkPolicy, ServiceGraph } from "../../shared/flows/export.js";
import { responseToProto } from "../../shared/flows/grpc/message.js";
import { startObserverServer, writeAll, type ObserverServer } from "../support/hubble-relay.js";

const BIN = new URL("../../bin/prophet.js", import.meta.url).pathname;

let dir = "";
let flowsFile = "";
let lines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "netpol-cli-"));
  flowsFile = join(dir, "hubble-flows.jsonl");
  const sb = await startSandbox({
    seed: 5,
    flowLog: flowsFile,
    kubeconfigPath: join(dir, "kubeconfig"),
    flows: { maxBytes: 2 ** 30 },
  });
  sb.clock.advance(2 * 60_000);
  await sb.close();
  lines = readFileSync(flowsFile, "utf8").trim().split("\n");
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => runCommand(register, ["netpol", ...args]);

const policiesOf = (yaml: string): CiliumNetworkPolicy[] =>
  parseAllDocuments(yaml).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as CiliumNetworkPolicy;
  });
const byIdentity = (ps: CiliumNetworkPolicy[], id: string) =>
  ps.find((p) => p.metadata.annotations?.["prophet.io/identity"] === id);
const ports = (rules: { toPorts?: { ports: { port: string; protocol: string }[] }[] }[] | undefined) =>
  (rules ?? []).flatMap((r) =>
    (r.toPorts ?? []).flatMap((t) => t.ports.map((p) => `${p.port}/${p.protocol}`)),
  );

describe("prophet netpol suggest", () => {
  it("prints one CiliumNetworkPolicy per workload allowing exactly the learnt peers and ports", async () => {
    const r = await run(["suggest", "--flows", flowsFile]);
    expect(r.err).toBe("");
    expect(r.code).toBeUndefined();
    const policies = policiesOf(r.out);
    expect(policies.length).toBeGreaterThanOrEqual(6);
    for (const p of policies) {
      expect(p).toMatchObject({ apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy" });
      expect(p.metadata.namespace).toMatch(/^(shop|payments|monitoring|kube-system)$/);
    }

    const cart = byIdentity(policies, "shop/cart");
    expect(cart?.spec.endpointSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "cart" } });
    const fromFrontend = cart?.spec.ingress.find((i) =>
      i.fromEndpoints?.some((e) => e.matchLabels?.["app.kubernetes.io/name"] === "frontend"),
    );
    expect(ports(fromFrontend ? [fromFrontend] : [])).toEqual(["8080/TCP"]);

    const checkout = byIdentity(policies, "payments/checkout");
    const egress = checkout?.spec.egress ?? [];
    const toPostgres = egress.filter((e) =>
      e.toEndpoints?.some((x) => x.matchLabels?.["app.kubernetes.io/name"] === "postgres"),
    );
    expect(ports(toPostgres)).toEqual(["5432/TCP"]);
    const toStripe = egress.filter((e) => e.toFQDNs?.some((f) => f.matchName === "api.stripe.com"));
    expect(ports(toStripe)).toEqual(["443/TCP"]);
    // Nothing the flows did not show: no egress to the world at large.
    expect(egress.some((e) => e.toEntities?.includes("world"))).toBe(false);
  });

  it("keeps to a namespace (-n) or one workload (--identity), and prints JSON on request", async () => {
    const ns = policiesOf((await run(["suggest", "--flows", flowsFile, "-n", "payments"])).out);
    expect(ns.length).toBeGreaterThanOrEqual(2);
    expect(ns.every((p) => p.metadata.namespace === "payments")).toBe(true);

    const r = await run([
      "suggest",
      "--flows",
      flowsFile,
      "--identity",
      "payments/checkout",
      "--output",
      "json",
    ]);
    const list = JSON.parse(r.out) as { kind: string; items: CiliumNetworkPolicy[] };
    expect(list.kind).toBe("List");
    expect(list.items.map((p) => p.metadata.annotations?.["prophet.io/identity"])).toEqual([
      "payments/checkout",
    ]);
  });

  it("counts bad lines on stderr with the first reasons and learns from the rest", async () => {
    const bad = join(dir, "with-bad-lines.jsonl");
    writeFileSync(bad, `${lines.slice(0, 500).join("\n")}\nnot json at all\n`);
    appendFileSync(
      bad,
      `${JSON.stringify({ flow: { verdict: "DROPPED" } })}\n${lines.slice(500, 1000).join("\n")}\n`,
    );
    const r = await run(["suggest", "--flows", bad]);
    expect(r.code).toBeUndefined();
    expect(r.err).toMatch(
      /^netpol: 2 of 1002 lines in .*with-bad-lines\.jsonl rejected; line 501: invalid JSON.*; line 502: flow\.time: /,
    );
    expect(policiesOf(r.out).length).toBeGreaterThan(0);
  });

  it("exits 1 when no flow could be read, and 2 on a wrong invocation", async () => {
    const bad = join(dir, "only-bad.jsonl");
    writeFileSync(bad, "{}\n[1]\n");
    const r = await run(["suggest", "--flows", bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/2 of 2 lines .* rejected/);
    expect(r.err).toMatch(/error: no flow could be read from .*only-bad\.jsonl/);

    const missing = await run(["suggest", "--flows", join(dir, "missing.jsonl")]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*missing\.jsonl/);

    const neither = await run(["suggest"]);
    expect(neither.code).toBe(2);
    expect(neither.err).toMatch(/exactly one of --flows/);
    const since = await run(["graph", "--flows", flowsFile, "--since", "1h"]);
    expect(since.code).toBe(2);
    expect(since.err).toMatch(/--since applies to --relay only/);
  });
});

describe("prophet netpol graph", () => {
  it("prints the service map as Graphviz DOT, workloads clustered by namespace", async () => {
    const r = await run(["graph", "--flows", flowsFile]);
    expect(r.code).toBeUndefined();
    expect(r.out).toMatch(/^digraph "service-map" \{\n/);
    expect(r.out.trimEnd().endsWith("}")).toBe(true);
    expect(r.out).toMatch(/subgraph "cluster_shop" \{/);
    expect(r.out).toMatch(/"shop\/frontend" -> "shop\/cart" \[label="8080\/TCP/);
    expect(r.out).toMatch(/"payments\/checkout" -> "api\.stripe\.com" \[label="443\/TCP/);
  });

  it("prints JSON nodes and edges, for one namespace with -n", async () => {
    const r = await run(["graph", "--flows", flowsFile, "--format", "json", "-n", "payments"]);
    const g = JSON.parse(r.out) as ServiceGraph;
    expect(g.edges.length).toBeGreaterThan(0);
    for (const e of g.edges) expect([e.from, e.to].some((x) => x.startsWith("payments/"))).toBe(true);
    expect(g.edges).toContainEqual(
      expect.objectContaining({
        from: "payments/checkout",
        to: "payments/postgres",
        port: 5432,
        protocol: "TCP",
      }),
    );
    expect(g.nodes).toContainEqual({ id: "api.stripe.com", kind: "dns" });
  });
});

describe("prophet netpol --relay", () => {
  let relay: ObserverServer;
  beforeAll(async () => {
    relay = await startObserverServer(
      (call) =>
        void writeAll(
          call,
          lines.map((l) => responseToProto(JSON.parse(l) as Record<string, unknown>)),
        ),
    );
  });
  afterAll(async () => {
    await relay?.close();
  });

  it("reads what the Relay has buffered (follow=false, since) and prints the same policies as from the file", async () => {
    const fromFile = await run(["suggest", "--flows", flowsFile]);
    const r = await run(["suggest", "--relay", relay.address, "--since", "2h"]);
    expect(r.err).toBe("");
    expect(r.out).toBe(fromFile.out);
    const req = relay.requests.at(-1);
    expect(req?.follow).toBe(false);
    const since = Number((req?.since as { seconds?: string } | undefined)?.seconds) * 1000;
    expect(Math.abs(Date.now() - 2 * 3_600_000 - since)).toBeLessThan(60_000);
  });

  it("reports a Relay nothing listens on as an error, exit code 1", async () => {
    const r = await run(["graph", "--relay", "127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Hubble Relay at 127\.0\.0\.1:1: UNAVAILABLE/);
  });
});

describe("prophet netpol via bin/prophet.js", () => {
  it("is registered in the CLI", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      BIN,
      "netpol",
      "graph",
      "--flows",
      flowsFile,
      "--format",
      "json",
      "--identity",
      "shop/cart",
    ]);
    const g = JSON.parse(stdout) as ServiceGraph;
    expect(g.edges.every((e) => e.from === "shop/cart" || e.to === "shop/cart")).toBe(true);
    expect(g.edges.length).toBeGreaterThan(0);
  }, 30_000);
});
