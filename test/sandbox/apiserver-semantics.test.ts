// API server semantics over plain HTTP: discovery, selectors, optimistic concurrency, generation,
// strategic-merge directives, dry runs, cascading deletion, watch resume, tables, logs and bindings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type ApiServer, type KubeObject } from "../../infra/sandbox/apiserver/index.js";
import { readyPod } from "./apiserver-harness.js";

let server: ApiServer;

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
  accept?: string,
) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": contentType } : {}),
      ...(accept ? { Accept: accept } : {}),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json, text };
}

const names = (list: Record<string, unknown>) => (list.items as KubeObject[]).map((i) => i.metadata.name);

function deployment(name: string, labels: Record<string, string> = { app: name }): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "app",
              image: "app:1",
              ports: [
                { containerPort: 80, name: "http" },
                { containerPort: 9090, name: "metrics" },
              ],
              volumeMounts: [
                { name: "data", mountPath: "/data" },
                { name: "tmp", mountPath: "/tmp" },
              ],
              resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } },
            },
          ],
          volumes: [
            { name: "data", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}

beforeAll(async () => {
  server = await startApiServer({
    bookmarkIntervalMs: 30,
    logs: { read: (pod, container) => `${pod.metadata.name}/${container} line 1\nline 2\nline 3\n` },
  });
});

afterAll(async () => {
  await server?.close();
});

describe("discovery", () => {
  it("lists groups, resources and subresources the way clients look for them", async () => {
    const core = await call("GET", "/api/v1");
    const resources = core.json.resources as {
      name: string;
      group?: string;
      version?: string;
      kind: string;
      shortNames?: string[];
    }[];
    expect(resources.find((r) => r.name === "pods")).toMatchObject({ kind: "Pod", shortNames: ["po"] });
    expect(resources.find((r) => r.name === "pods/eviction")).toMatchObject({
      group: "policy",
      version: "v1",
      kind: "Eviction",
    });
    const apps = await call("GET", "/apis/apps/v1");
    expect(
      (apps.json.resources as { name: string; group?: string }[]).find((r) => r.name === "deployments/scale"),
    ).toMatchObject({ group: "autoscaling" });
    const groups = (await call("GET", "/apis")).json.groups as { name: string }[];
    expect(groups.map((g) => g.name)).toEqual(
      expect.arrayContaining([
        "apps",
        "batch",
        "autoscaling",
        "networking.k8s.io",
        "discovery.k8s.io",
        "policy",
        "storage.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
      ]),
    );
    expect((await call("GET", "/version")).json.minor).toBe("32");
    expect((await call("GET", "/apis/nope.example/v1")).status).toBe(404);
    const oa = await call("GET", "/openapi/v3");
    expect(Object.keys(oa.json.paths as object)).toContain("apis/apps/v1");
    expect((await call("GET", "/openapi/v2")).status).toBe(404);
  });
});

describe("writes", () => {
  it("sets uid, creationTimestamp, resourceVersion and generation; bumps generation only for spec changes", async () => {
    const created = await call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("gen"));
    expect(created.status).toBe(201);
    const meta = (created.json as KubeObject).metadata;
    expect(meta).toMatchObject({ generation: 1, namespace: "default" });
    expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const labelled = await call(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/gen",
      { metadata: { labels: { x: "1" } } },
      "application/merge-patch+json",
    );
    expect((labelled.json as KubeObject).metadata.generation).toBe(1);
    expect(Number((labelled.json as KubeObject).metadata.resourceVersion)).toBeGreaterThan(
      Number(meta.resourceVersion),
    );
    const status = await call(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/gen/status",
      { status: { readyReplicas: 1 }, spec: { replicas: 9 } },
      "application/merge-patch+json",
    );
    expect(status.json).toMatchObject({
      metadata: { generation: 1 },
      spec: { replicas: 1 },
      status: { readyReplicas: 1 },
    });
    const spec = await call(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/gen",
      { spec: { replicas: 3 }, status: { readyReplicas: 7 } },
      "application/merge-patch+json",
    );
    expect(spec.json).toMatchObject({
      metadata: { generation: 2 },
      spec: { replicas: 3 },
      status: { readyReplicas: 1 },
    });
    const same = await call(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/gen",
      { spec: { replicas: 3 } },
      "application/merge-patch+json",
    );
    expect((same.json as KubeObject).metadata.resourceVersion).toBe(
      (spec.json as KubeObject).metadata.resourceVersion,
    );
  });

  it("returns Status errors with the right codes", async () => {
    const dup = await call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("gen"));
    expect(dup.json).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "AlreadyExists",
      code: 409,
      details: { name: "gen", group: "apps", kind: "deployments" },
    });
    const bad = deployment("bad");
    (bad.spec as { selector: unknown }).selector = { matchLabels: { app: "other" } };
    const invalid = await call("POST", "/apis/apps/v1/namespaces/default/deployments", bad);
    expect(invalid.status).toBe(422);
    expect(invalid.json).toMatchObject({ reason: "Invalid" });
    expect(String(invalid.json.message)).toContain("`selector` does not match template `labels`");
    const noNs = await call("POST", "/api/v1/namespaces/missing/configmaps", { metadata: { name: "x" } });
    expect(noNs.json).toMatchObject({ code: 404, message: 'namespaces "missing" not found' });
    const stale = await call("PUT", "/apis/apps/v1/namespaces/default/deployments/gen", {
      ...deployment("gen"),
      metadata: { name: "gen", resourceVersion: "1" },
    });
    expect(stale.json).toMatchObject({ code: 409, reason: "Conflict" });
    expect((await call("GET", "/api/v1/pods?labelSelector=a%20in%20(")).status).toBe(400);
    expect((await call("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx")).json).toMatchObject({
      code: 400,
      message: "field label not supported: spec.bogus",
    });
    expect(
      (await call("PATCH", "/api/v1/namespaces/default/configmaps/none", {}, "application/merge-patch+json"))
        .status,
    ).toBe(404);
    expect(
      (await call("GET", "/api/v1/nodes", undefined, undefined, "application/vnd.kubernetes.protobuf"))
        .status,
    ).toBe(406);
  });

  it("does not persist dryRun=All writes", async () => {
    const dry = await call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", {
      metadata: { name: "dry" },
      data: { a: "1" },
    });
    expect(dry.status).toBe(201);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/dry")).status).toBe(404);
    await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { name: "real" },
      data: { a: "1" },
    });
    await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/real?dryRun=All",
      { data: { a: "2" } },
      "application/merge-patch+json",
    );
    await call("DELETE", "/api/v1/namespaces/default/configmaps/real?dryRun=All");
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/real")).json).toMatchObject({
      data: { a: "1" },
    });
  });

  it("applies strategic merge patch keys and directives as Kubernetes does", async () => {
    const path = "/apis/apps/v1/namespaces/default/deployments/gen";
    const smp = "application/strategic-merge-patch+json";
    const r = await call(
      "PATCH",
      path,
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "app",
                  ports: [
                    { containerPort: 9090, $patch: "delete" },
                    { containerPort: 8443, name: "https" },
                  ],
                  volumeMounts: [{ mountPath: "/tmp", readOnly: true }],
                  resources: { $retainKeys: ["limits"], limits: { cpu: "2" } },
                },
                { name: "sidecar", image: "proxy:1" },
              ],
              $setElementOrder: undefined,
              "$setElementOrder/containers": [{ name: "sidecar" }, { name: "app" }],
              volumes: [{ name: "tmp", $patch: "delete" }],
            },
          },
        },
      },
      smp,
    );
    expect(r.status, r.text).toBe(200);
    const podSpec = (
      r.json as {
        spec: { template: { spec: { containers: Record<string, unknown>[]; volumes: unknown[] } } };
      }
    ).spec.template.spec;
    expect(podSpec.containers.map((c) => c.name)).toEqual(["sidecar", "app"]);
    const app = podSpec.containers[1] as { ports: unknown[]; volumeMounts: unknown[]; resources: unknown };
    expect(app.ports).toEqual([
      { containerPort: 80, name: "http", protocol: "TCP" },
      { containerPort: 8443, name: "https", protocol: "TCP" },
    ]);
    expect(app.volumeMounts).toEqual([
      { name: "data", mountPath: "/data" },
      { name: "tmp", mountPath: "/tmp", readOnly: true },
    ]);
    expect(app.resources).toEqual({ limits: { cpu: "2", memory: "1Gi" } });
    expect(podSpec.volumes).toEqual([{ name: "data", emptyDir: {} }]);
    const replaced = await call("PATCH", path, { metadata: { finalizers: ["a"] } }, smp);
    expect((replaced.json as KubeObject).metadata.finalizers).toEqual(["a"]);
    const unioned = await call(
      "PATCH",
      path,
      { metadata: { finalizers: ["b"], "$deleteFromPrimitiveList/finalizers": ["a"] } },
      smp,
    );
    expect((unioned.json as KubeObject).metadata.finalizers).toEqual(["b"]);
  });
});

describe("lists", () => {
  beforeAll(async () => {
    await call("POST", "/api/v1/namespaces", { metadata: { name: "sel" } });
    const pods: [string, Record<string, string>, string][] = [
      ["a", { app: "web", tier: "front" }, "Running"],
      ["b", { app: "web", tier: "back" }, "Pending"],
      ["c", { app: "db" }, "Running"],
      ["d", {}, "Failed"],
    ];
    for (const [name, labels, phase] of pods) {
      const pod = readyPod(name, { namespace: "sel", labels, node: name === "c" ? "node-1" : undefined });
      server.store.create(server.store.resource("pods"), {
        ...pod,
        status: { ...(pod.status as object), phase },
      });
    }
  });

  it.each([
    ["app=web", ["a", "b"]],
    ["app==web", ["a", "b"]],
    ["app!=web", ["c", "d"]],
    ["tier in (front,middle)", ["a"]],
    ["tier notin (front)", ["b", "c", "d"]],
    ["tier", ["a", "b"]],
    ["!tier", ["c", "d"]],
    ["app=web,tier!=front", ["b"]],
  ])("labelSelector %s", async (selector, expected) => {
    const r = await call("GET", `/api/v1/namespaces/sel/pods?labelSelector=${encodeURIComponent(selector)}`);
    expect(names(r.json)).toEqual(expected);
  });

  it.each([
    ["metadata.name=b", ["b"]],
    ["metadata.namespace=sel,status.phase!=Running", ["b", "d"]],
    ["spec.nodeName=node-1", ["c"]],
    ["spec.nodeName=", ["a", "b", "d"]],
  ])("fieldSelector %s", async (selector, expected) => {
    const r = await call("GET", `/api/v1/pods?fieldSelector=${encodeURIComponent(selector)}`);
    expect(names(r.json)).toEqual(expected);
  });

  it("pages with limit and continue", async () => {
    const first = await call("GET", "/api/v1/namespaces/sel/pods?limit=3");
    expect(names(first.json)).toEqual(["a", "b", "c"]);
    const meta = first.json.metadata as { continue: string; remainingItemCount: number };
    expect(meta.remainingItemCount).toBe(1);
    const rest = await call("GET", `/api/v1/namespaces/sel/pods?limit=3&continue=${meta.continue}`);
    expect(names(rest.json)).toEqual(["d"]);
    expect((rest.json.metadata as { continue?: string }).continue).toBeUndefined();
  });

  it("answers Table requests with kubectl's columns", async () => {
    const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    const r = await call("GET", "/api/v1/namespaces/sel/pods", undefined, undefined, accept);
    expect(r.json.kind).toBe("Table");
    expect((r.json.columnDefinitions as { name: string }[]).map((c) => c.name).slice(0, 5)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
    ]);
    const rows = r.json.rows as { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[];
    expect(rows[1]?.cells.slice(0, 4)).toEqual(["b", "1/1", "Pending", "0"]);
    expect(rows[1]?.object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "b" } });
  });

  it("stores events.k8s.io/v1 Events as core/v1 Events", async () => {
    const ev = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e1" },
      eventTime: "2025-01-01T00:00:00.000000Z",
      regarding: { kind: "Pod", name: "a", namespace: "sel" },
      reason: "FailedScheduling",
      note: "0/3 nodes are available",
      type: "Warning",
      action: "Scheduling",
      reportingController: "default-scheduler",
      reportingInstance: "default-scheduler-1",
    };
    expect((await call("POST", "/apis/events.k8s.io/v1/namespaces/sel/events", ev)).status).toBe(201);
    const core = await call("GET", "/api/v1/namespaces/sel/events?fieldSelector=involvedObject.name%3Da");
    expect(core.json.items).toEqual([
      expect.objectContaining({
        apiVersion: "v1",
        message: "0/3 nodes are available",
        involvedObject: ev.regarding,
      }),
    ]);
    const back = await call("GET", "/apis/events.k8s.io/v1/namespaces/sel/events/e1");
    expect(back.json).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      note: ev.note,
      regarding: ev.regarding,
    });
  });
});

describe("deletion", () => {
  it("cascades in the background through ownerReferences, and orphans when asked", async () => {
    const store = server.store;
    const d = store.create(store.resource("deployments.apps"), {
      ...deployment("owner"),
      metadata: { name: "owner", namespace: "default" },
    });
    const ref = (o: KubeObject) => [
      {
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name ?? "",
        uid: o.metadata.uid ?? "",
        controller: true,
      },
    ];
    const rs = store.create(store.resource("replicasets.apps"), {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "owner-1", namespace: "default", ownerReferences: ref(d) },
      spec: d.spec as object,
    });
    store.create(store.resource("pods"), {
      ...readyPod("owner-1-x", {}),
      metadata: { name: "owner-1-x", namespace: "default", ownerReferences: ref(rs) },
    });
    const del = await call("DELETE", "/apis/apps/v1/namespaces/default/deployments/owner", {
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: "Background",
    });
    expect(del.status).toBe(200);
    expect(store.get(store.resource("replicasets.apps"), "default", "owner-1")).toBeUndefined();
    expect(store.get(store.resource("pods"), "default", "owner-1-x")).toBeUndefined();

    const cm = store.create(store.resource("configmaps"), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "parent", namespace: "default" },
    });
    store.create(store.resource("secrets"), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "child", namespace: "default", ownerReferences: ref(cm) },
    });
    await call("DELETE", "/api/v1/namespaces/default/configmaps/parent?propagationPolicy=Orphan");
    expect(store.mustGet(store.resource("secrets"), "default", "child").metadata.ownerReferences).toEqual([]);
  });

  it("keeps objects with finalizers until the finalizers are removed", async () => {
    await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { name: "fin", finalizers: ["example.com/hold"] },
    });
    const marked = await call("DELETE", "/api/v1/namespaces/default/configmaps/fin");
    expect(marked.status).toBe(202);
    expect((marked.json as KubeObject).metadata.deletionTimestamp).toBeDefined();
    await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/fin",
      { metadata: { finalizers: null } },
      "application/merge-patch+json",
    );
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/fin")).status).toBe(404);
  });

  it("deletes a namespace with everything in it", async () => {
    await call("POST", "/api/v1/namespaces", { metadata: { name: "doomed" } });
    await call("POST", "/api/v1/namespaces/doomed/configmaps", { metadata: { name: "x" } });
    await call("DELETE", "/api/v1/namespaces/doomed");
    expect((await call("GET", "/api/v1/namespaces/doomed/configmaps/x")).status).toBe(404);
  });
});

describe("watch", () => {
  async function readEvents(
    path: string,
    until: (events: { type: string; object: KubeObject }[]) => boolean,
  ) {
    const ac = new AbortController();
    const res = await fetch(server.url + path, { signal: ac.signal });
    const events: { type: string; object: KubeObject }[] = [];
    const decoder = new TextDecoder();
    let buf = "";
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    return {
      status: res.status,
      async collect() {
        while (!until(events)) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            events.push(JSON.parse(buf.slice(0, nl)) as { type: string; object: KubeObject });
            buf = buf.slice(nl + 1);
          }
        }
        ac.abort();
        return events;
      },
    };
  }

  it("resumes from a resourceVersion and turns label changes into ADDED/DELETED for selector watches", async () => {
    const start = server.store.resourceVersion;
    await call("POST", "/api/v1/namespaces/default/configmaps", {
      metadata: { name: "w1", labels: { watch: "yes" } },
    });
    await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/w1",
      { metadata: { labels: { watch: "no" } } },
      "application/merge-patch+json",
    );
    await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/w1",
      { metadata: { labels: { watch: "yes" } } },
      "application/merge-patch+json",
    );
    const w = await readEvents(
      `/api/v1/namespaces/default/configmaps?watch=true&labelSelector=watch%3Dyes&resourceVersion=${start}`,
      (e) => e.length >= 3,
    );
    const events = await w.collect();
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "w1"],
      ["DELETED", "w1"],
      ["ADDED", "w1"],
    ]);
  });

  it("starts with the current state, sends bookmarks and the initial-events-end marker", async () => {
    const w = await readEvents(
      "/api/v1/namespaces/sel/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
      (e) => e.filter((x) => x.type === "BOOKMARK").length >= 2,
    );
    const events = await w.collect();
    expect(events.slice(0, 4).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "a"],
      ["ADDED", "b"],
      ["ADDED", "c"],
      ["ADDED", "d"],
    ]);
    expect(events[4]).toMatchObject({
      type: "BOOKMARK",
      object: { metadata: { annotations: { "k8s.io/initial-events-end": "true" } } },
    });
    expect(events[5]?.type).toBe("BOOKMARK");
  });

  it("ends after timeoutSeconds", async () => {
    const res = await fetch(`${server.url}/api/v1/nodes?watch=true&timeoutSeconds=0`);
    expect(await res.text()).toBe("");
  });
});

describe("pod subresources", () => {
  it("binds a pod to a node once, with the PodScheduled condition", async () => {
    server.store.create(server.store.resource("pods"), {
      ...readyPod("unbound", {}),
      status: { phase: "Pending" },
    });
    const bind = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: "unbound" },
      target: { apiVersion: "v1", kind: "Node", name: "node-9" },
    };
    expect((await call("POST", "/api/v1/namespaces/default/pods/unbound/binding", bind)).status).toBe(201);
    const pod = (await call("GET", "/api/v1/namespaces/default/pods/unbound")).json as {
      spec: { nodeName: string };
      status: { conditions: unknown[] };
    };
    expect(pod.spec.nodeName).toBe("node-9");
    expect(pod.status.conditions).toEqual([
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    ]);
    expect((await call("POST", "/api/v1/namespaces/default/pods/unbound/binding", bind)).status).toBe(409);
  });

  it("serves logs from the log source with tailLines", async () => {
    const r = await call("GET", "/api/v1/namespaces/default/pods/unbound/log?tailLines=2");
    expect(r.text).toBe("line 2\nline 3\n");
    expect((await call("GET", "/api/v1/namespaces/default/pods/unbound/log?container=nope")).status).toBe(
      400,
    );
  });
});
