// The scoped read of alert-diagnosis (shared/kube/snapshot.ts): for an alert on a pod or a
// workload it lists Pods and ReplicaSets by the top workload's selector and only Warning events
// (plus every event of pods recovering from an OOM kill). It must be an optimisation only: for
// every pod and workload of every shared diagnosis scenario, the diagnosis from the scoped read
// equals the one from reading the whole namespace with every event.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnoseIncident } from "../../functions/alert-diagnosis/index.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { ClusterView } from "../../shared/diagnosis/cluster-view.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { selectorString, snapshotFromCluster } from "../../shared/kube/snapshot.js";
import { WatchCache } from "../../shared/kube/watch-cache.js";
import type { ClusterPort, ListOptions } from "../../shared/ports/cluster.js";
import { loadScenarios } from "./pass-rule.js";
import { seedSnapshot } from "./seed.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prophet-scoped-read-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records every list the snapshot makes, with its selectors. */
function recording(port: ClusterPort): ClusterPort & { lists: string[]; eventReads: string[] } {
  const lists: string[] = [];
  const eventReads: string[] = [];
  return {
    name: port.name,
    lists,
    eventReads,
    list: (kind: string, namespace?: string, opts?: ListOptions) => {
      lists.push(`${kind} ${namespace ?? "*"} ${opts?.labelSelector ?? ""}|${opts?.fieldSelector ?? ""}`);
      return port.list(kind, namespace, opts);
    },
    get: (kind, namespace, name) => port.get(kind, namespace, name),
    podLogs: (namespace, pod, container, opts) => port.podLogs(namespace, pod, container, opts),
    events: (ref) => {
      eventReads.push(`${ref.kind}/${ref.namespace ?? ""}/${ref.name}`);
      return port.events(ref);
    },
  };
}

const workloadKinds = ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"];

describe("scoped read for an alert's object", () => {
  const scenarios = loadScenarios();

  it.each(scenarios.map((s) => [s.id, s] as const))(
    "%s: the scoped diagnosis equals the whole-namespace diagnosis for every pod and workload",
    async (id, scenario) => {
      let api: ApiServer | undefined;
      let informers: WatchCache | undefined;
      try {
        api = await startApiServer({ port: 0 });
        seedSnapshot(api, scenario.snapshot);
        const kubeconfig = join(dir, `${id}.kubeconfig`);
        api.writeKubeconfig(kubeconfig);
        const port = kubeClusterPort({ kubeconfig });
        informers = new WatchCache(port);
        const items = (scenario.snapshot as { items: KubeObject[] }).items;
        const targets = items.filter((o) => workloadKinds.includes(o.kind) && o.metadata.namespace);
        for (const obj of targets) {
          const namespace = obj.metadata.namespace!;
          const target = { namespace, kind: obj.kind, name: obj.metadata.name };
          const full = await snapshotFromCluster(port, { namespace, events: "all" });
          const scoped = await snapshotFromCluster(port, { namespace, target });
          // The same read answered by informers (list + watch, selectors applied in memory).
          const informed = await snapshotFromCluster(port, { namespace, target, cache: informers });
          const a = diagnoseIncident(new ClusterView(full.list.items, full.logs), "i", "Alert", target);
          const b = diagnoseIncident(new ClusterView(scoped.list.items, scoped.logs), "i", "Alert", target);
          const c = diagnoseIncident(
            new ClusterView(informed.list.items, informed.logs),
            "i",
            "Alert",
            target,
          );
          expect(b, `${id} ${obj.kind}/${namespace}/${obj.metadata.name}`).toEqual(a);
          expect(c, `${id} ${obj.kind}/${namespace}/${obj.metadata.name} from informers`).toEqual(a);
        }
      } finally {
        informers?.close();
        await api?.close();
      }
    },
    60_000,
  );

  it("lists the workload's pods by its selector and only Warning events; reads the events of a pod back from an OOM kill", async () => {
    const api = await startApiServer({ port: 0 });
    try {
      const deployment = (name: string, app: string): KubeObject => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "shop", uid: `uid-${name}` },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: { containers: [{ name: app, image: `${app}:1` }] },
          },
        },
      });
      const replicaSet = (name: string, app: string, owner: string): KubeObject => ({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name,
          namespace: "shop",
          uid: `uid-${name}`,
          labels: { app, "pod-template-hash": "abc" },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name: owner, uid: `uid-${owner}`, controller: true },
          ],
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app, "pod-template-hash": "abc" } },
          template: {
            metadata: { labels: { app, "pod-template-hash": "abc" } },
            spec: { containers: [{ name: app, image: `${app}:1` }] },
          },
        },
      });
      const pod = (name: string, app: string, rs: string, status: unknown): KubeObject => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: "shop",
          labels: { app, "pod-template-hash": "abc" },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `uid-${rs}`, controller: true },
          ],
        },
        spec: {
          nodeName: "node-1",
          containers: [{ name: app, image: `${app}:1`, resources: { limits: { memory: "256Mi" } } }],
        },
        status,
      });
      const oomStatus = {
        phase: "Running",
        containerStatuses: [
          {
            name: "cart",
            ready: true,
            restartCount: 3,
            state: { running: { startedAt: "2026-11-22T09:10:00Z" } },
            lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } },
          },
        ],
      };
      const healthy = {
        phase: "Running",
        containerStatuses: [{ name: "web", ready: true, restartCount: 0, state: { running: {} } }],
      };
      const event = (name: string, podName: string, type: string, reason: string): KubeObject =>
        ({
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace: "shop" },
          involvedObject: {
            kind: "Pod",
            namespace: "shop",
            name: podName,
            fieldPath: "spec.containers{cart}",
          },
          type,
          reason,
          message: `${reason} ${podName}`,
          lastTimestamp: "2026-11-22T09:10:00Z",
        }) as KubeObject;
      seedSnapshot(api, {
        items: [
          deployment("cart", "cart"),
          replicaSet("cart-abc", "cart", "cart"),
          pod("cart-abc-1", "cart", "cart-abc", oomStatus),
          deployment("web", "web"),
          replicaSet("web-abc", "web", "web"),
          pod("web-abc-1", "web", "web-abc", healthy),
          event("e1", "cart-abc-1", "Normal", "Started"),
          event("e2", "web-abc-1", "Normal", "Started"),
        ],
      });
      const kubeconfig = join(dir, "shop.kubeconfig");
      api.writeKubeconfig(kubeconfig);
      const port = recording(kubeClusterPort({ kubeconfig }));
      const target = { namespace: "shop", kind: "Pod", name: "cart-abc-1" };
      const snap = await snapshotFromCluster(port, { namespace: "shop", target });
      expect(port.lists).toContain("Pod shop app=cart|");
      expect(port.lists).toContain("ReplicaSet shop app=cart|");
      expect(port.lists).toContain("Event shop |type=Warning");
      expect(port.eventReads).toEqual(["Pod/shop/cart-abc-1"]);
      const pods = snap.list.items.filter((o) => o.kind === "Pod").map((o) => o.metadata.name);
      expect(pods).toEqual(["cart-abc-1"]);
      const d = diagnoseIncident(new ClusterView(snap.list.items, snap.logs), "i", "KubePodOOM", target);
      expect(d.rootCause).toMatchObject({ name: "cart-abc-1", reason: "OOMKilled" });

      // A pod that is gone: the namespace is read whole, and the diagnosis says what is missing.
      port.lists.length = 0;
      const gone = { namespace: "shop", kind: "Pod", name: "cart-abc-9" };
      const snap2 = await snapshotFromCluster(port, { namespace: "shop", target: gone });
      expect(port.lists).toContain("Pod shop |");
      const d2 = diagnoseIncident(new ClusterView(snap2.list.items, snap2.logs), "i", "KubePodOOM", gone);
      expect(d2.scope).toMatchObject({ basis: "namespace", missing: "Pod shop/cart-abc-9" });
    } finally {
      await api.close();
    }
  });

  it("keeps connections alive: a diagnosis' reads share a few sockets instead of one each", async () => {
    const api = await startApiServer({ port: 0 });
    // A TCP relay in front of the API server counts the connections the port opens.
    let connections = 0;
    const open = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      connections++;
      open.add(client);
      client.on("close", () => open.delete(client));
      const upstream = net.connect(api.port, "127.0.0.1");
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const relayPort = (relay.address() as net.AddressInfo).port;
      const kubeconfig = join(dir, "relay.kubeconfig");
      api.writeKubeconfig(kubeconfig);
      writeFileSync(
        kubeconfig,
        readFileSync(kubeconfig, "utf8").replace(`127.0.0.1:${api.port}`, `127.0.0.1:${relayPort}`),
      );
      expect(readFileSync(kubeconfig, "utf8")).toContain(`127.0.0.1:${relayPort}`);
      const port = kubeClusterPort({ kubeconfig });
      for (let round = 0; round < 3; round++)
        await snapshotFromCluster(port, { namespace: "default", target: { kind: "Pod", name: "none" } });
      // Three rounds of ~25 concurrent reads: without keep-alive that is ~75 connections.
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThanOrEqual(16);
    } finally {
      for (const c of open) c.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await api.close();
    }
  });

  it("writes label selectors in the API's syntax", () => {
    expect(
      selectorString({
        matchLabels: { app: "cart" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["web", "api"] },
          { key: "canary", operator: "DoesNotExist" },
          { key: "zone", operator: "NotIn", values: ["a"] },
          { key: "team", operator: "Exists" },
        ],
      }),
    ).toBe("app=cart,tier in (web,api),!canary,zone notin (a),team");
    expect(selectorString({})).toBeUndefined();
    expect(selectorString({ matchExpressions: [{ key: "x", operator: "Weird" }] })).toBeUndefined();
  });
});
