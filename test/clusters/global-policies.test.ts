// Policies across clusters (issue 10): AutonomousActions in the deployment's home (management)
// cluster are global; those in the incident's own cluster take precedence, and the global ones
// cover what they do not match. Two API servers, the CRDs installed, real client-node ports.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { Deps } from "../../shared/function.js";
import { scopeToCluster } from "../../shared/invocation/invoke.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { silentLogger } from "../../shared/ports/log.js";
import { policyForIncident } from "../../shared/remediation/policy-source.js";

const root = join(import.meta.dirname, "../..");

async function cluster(dir: string, name: string): Promise<{ api: ApiServer; port: ClusterPort }> {
  const api = await startApiServer({ port: 0 });
  const rt = api.store.resource({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" });
  const [doc] = parseAllDocuments(readFileSync(join(root, "manifests/crds/autonomousaction.yaml"), "utf8"));
  api.store.create(rt, doc!.toJS() as Parameters<typeof api.store.create>[1]);
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  api.writeKubeconfig(kubeconfig);
  const port = kubeClusterPort({ kubeconfig });
  for (const ns of ["prophet-system", "shop"])
    await port.create!("Namespace", undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    } as KubeObject);
  return { api, port };
}

const autonomousAction = (name: string, namespace: string, spec: object): KubeObject =>
  ({
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "AutonomousAction",
    metadata: { name, namespace },
    spec,
  }) as KubeObject;

const incident = (namespace: string) => ({
  alertname: "KubePodCrashLooping",
  severity: "warning",
  namespace,
  findingReasons: ["CrashLoopBackOff"],
});

let dir = "";
let home: { api: ApiServer; port: ClusterPort };
let edge: { api: ApiServer; port: ClusterPort };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-global-policies-"));
  home = await cluster(dir, "home");
  edge = await cluster(dir, "edge");
});
afterAll(async () => {
  await home?.api.close();
  await edge?.api.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The deps an event about the edge cluster runs with (the invocation's scoping). */
const edgeDeps = (): Deps =>
  scopeToCluster(
    {
      store: undefined as never,
      clock: { now: () => new Date("2026-11-23T00:00:00Z") },
      log: silentLogger,
      cluster: "home",
      kube: home.port,
      clusters: { names: () => ["edge"], ports: (n) => (n === "edge" ? { kube: edge.port } : undefined) },
    },
    {
      specversion: "1.0",
      id: "e1",
      source: "/test",
      type: "io.prophet.incident.opened",
      time: "2026-11-23T00:00:00.000Z",
      datacontenttype: "application/json",
      cluster: "edge",
      data: {},
    },
  );

describe("global and per-cluster policies", () => {
  it("the scoped deps keep the home cluster for its global policies", () => {
    const d = edgeDeps();
    expect(d.cluster).toBe("edge");
    expect(d.kube).toBe(edge.port);
    expect(d.home).toBe(home.port);
  });

  it("with no AutonomousAction anywhere, the default policy", async () => {
    expect((await policyForIncident(edgeDeps(), incident("shop")))?.id).toBe("default");
  });

  it("a global policy in the home cluster governs the other clusters' incidents", async () => {
    await home.port.create!(
      "AutonomousAction",
      "prophet-system",
      autonomousAction("fleet", "prophet-system", {
        approvalMode: "autonomous",
        constraints: { allowedActions: ["*"] },
      }),
    );
    const p = await policyForIncident(edgeDeps(), incident("shop"));
    expect(p).toMatchObject({ id: "prophet-system/fleet", source: "global", approvalMode: "autonomous" });
  });

  it("the cluster's own policy wins where it matches; the global one covers the rest", async () => {
    await edge.port.create!(
      "AutonomousAction",
      "shop",
      autonomousAction("shop-careful", "shop", {
        trigger: { namespaces: ["shop"] },
        approvalMode: "human-in-loop",
        constraints: { allowedActions: ["rollback_deployment"] },
      }),
    );
    expect(await policyForIncident(edgeDeps(), incident("shop"))).toMatchObject({
      id: "shop/shop-careful",
      source: "cluster",
      approvalMode: "human-in-loop",
    });
    expect(await policyForIncident(edgeDeps(), incident("web"))).toMatchObject({
      id: "prophet-system/fleet",
      source: "global",
    });
  });

  it("policies exist but none matches: not remediated (opt-in)", async () => {
    await home.port.delete!("AutonomousAction", "prophet-system", "fleet");
    expect(await policyForIncident(edgeDeps(), incident("web"))).toBeUndefined();
  });

  it("the home cluster's own incidents see its policies as the cluster's, not as global", async () => {
    const d: Deps = {
      store: undefined as never,
      clock: { now: () => new Date() },
      log: silentLogger,
      cluster: "home",
      kube: home.port,
    };
    await home.port.create!(
      "AutonomousAction",
      "prophet-system",
      autonomousAction("fleet", "prophet-system", {
        approvalMode: "dry-run",
        constraints: { allowedActions: ["*"] },
      }),
    );
    expect(await policyForIncident(d, incident("shop"))).toMatchObject({
      id: "prophet-system/fleet",
      source: "cluster",
    });
  });
});
