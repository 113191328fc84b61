// @kubernetes/client-node 1.4 against the API server emulator through a kubeconfig, exactly as the
// product reaches a real cluster: typed APIs, all three patch types, custom objects, watch, informer.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyPod, startSandbox, type Sandbox } from "./apiserver-harness.js";

function podBody(name: string, labels: Record<string, string> = {}): k8s.V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      containers: [
        {
          name: "app",
          image: "registry.example/app:1.0",
          env: [{ name: "A", value: "1" }],
          ports: [{ containerPort: 8080 }],
        },
        { name: "proxy", image: "envoy:1.30" },
      ],
    },
  };
}

function apiCode(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? (err.code as number) : undefined;
}

function statusBody(err: unknown): { kind?: string; reason?: string; code?: number; message?: string } {
  const body = (err as k8s.ApiException<unknown>).body;
  return (typeof body === "string" ? JSON.parse(body) : body) as { kind?: string; reason?: string };
}

/** Resolves when `count` events satisfying `predicate` have been seen. */
function collector<T>(predicate: (e: T) => boolean, count = 1, timeoutMs = 10_000) {
  const seen: T[] = [];
  let resolve!: (v: T[]) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<T[]>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`timed out; saw ${JSON.stringify(seen)}`)), timeoutMs);
  return {
    push(e: T) {
      seen.push(e);
      if (seen.filter(predicate).length >= count) {
        clearTimeout(timer);
        resolve(seen);
      }
    },
    done,
  };
}

describe("@kubernetes/client-node against the sandbox API server", () => {
  let sb: Sandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;

  beforeAll(async () => {
    sb = await startSandbox({ bookmarkIntervalMs: 50 });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });

  afterAll(async () => {
    await sb?.stop();
  });

  it("creates, reads and lists pods with label and field selectors", async () => {
    const created = await core.createNamespacedPod({
      namespace: "default",
      body: podBody("api-1", { app: "api", tier: "web" }),
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBeDefined();
    expect(created.status?.phase).toBe("Pending");
    await core.createNamespacedPod({ namespace: "default", body: podBody("api-2", { app: "api" }) });
    await core.createNamespacedPod({ namespace: "default", body: podBody("db-1", { app: "db" }) });

    const read = await core.readNamespacedPod({ name: "api-1", namespace: "default" });
    expect(read.spec?.containers.map((c) => c.name)).toEqual(["app", "proxy"]);

    const byLabel = await core.listNamespacedPod({
      namespace: "default",
      labelSelector: "app=api,tier!=web",
    });
    expect(byLabel.items.map((p) => p.metadata?.name)).toEqual(["api-2"]);
    const notIn = await core.listNamespacedPod({
      namespace: "default",
      labelSelector: "app notin (api),!tier",
    });
    expect(notIn.items.map((p) => p.metadata?.name)).toEqual(["db-1"]);
    const byField = await core.listPodForAllNamespaces({
      fieldSelector: "metadata.name=api-2,status.phase=Pending",
    });
    expect(byField.items.map((p) => p.metadata?.name)).toEqual(["api-2"]);
    expect(byField.metadata?.resourceVersion).toBe(sb.server.store.resourceVersion);
  });

  it("patches with merge, JSON and strategic merge patches", async () => {
    const merged = await core.patchNamespacedPod(
      { name: "api-1", namespace: "default", body: { metadata: { labels: { tier: null, release: "v2" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ app: "api", release: "v2" });

    const jsonPatched = await core.patchNamespacedPod(
      {
        name: "api-1",
        namespace: "default",
        body: [
          { op: "test", path: "/metadata/labels/release", value: "v2" },
          { op: "add", path: "/metadata/annotations", value: { owner: "team-a" } },
          { op: "replace", path: "/spec/containers/1/image", value: "envoy:1.31" },
        ],
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.annotations).toEqual({ owner: "team-a" });
    expect(jsonPatched.spec?.containers[1]?.image).toBe("envoy:1.31");

    const failedTest = await core
      .patchNamespacedPod(
        {
          name: "api-1",
          namespace: "default",
          body: [{ op: "test", path: "/metadata/labels/release", value: "v9" }],
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
      )
      .catch((e: unknown) => e);
    expect(apiCode(failedTest)).toBe(422);

    const strategic = await core.patchNamespacedPod(
      {
        name: "api-1",
        namespace: "default",
        body: {
          spec: {
            containers: [
              { name: "app", image: "registry.example/app:2.0", env: [{ name: "B", value: "2" }] },
            ],
          },
        },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
    const [app, proxy] = strategic.spec?.containers ?? [];
    expect(app?.image).toBe("registry.example/app:2.0");
    expect(app?.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    expect(app?.ports).toEqual([{ containerPort: 8080, protocol: "TCP" }]);
    expect(proxy?.image).toBe("envoy:1.31");
  });

  it("answers a stale update with 409 Conflict and a Status body", async () => {
    const pod = await core.readNamespacedPod({ name: "api-2", namespace: "default" });
    await core.replaceNamespacedPod({
      name: "api-2",
      namespace: "default",
      body: { ...pod, metadata: { ...pod.metadata, labels: { app: "api", v: "1" } } },
    });
    const err = await core
      .replaceNamespacedPod({
        name: "api-2",
        namespace: "default",
        body: { ...pod, metadata: { ...pod.metadata, labels: { v: "2" } } },
      })
      .catch((e: unknown) => e);
    expect(apiCode(err)).toBe(409);
    expect(statusBody(err)).toMatchObject({ kind: "Status", reason: "Conflict", code: 409 });
  });

  it("deletes, then reads 404 NotFound", async () => {
    await core.deleteNamespacedPod({ name: "db-1", namespace: "default" });
    const err = await core.readNamespacedPod({ name: "db-1", namespace: "default" }).catch((e: unknown) => e);
    expect(apiCode(err)).toBe(404);
    expect(statusBody(err)).toMatchObject({ reason: "NotFound", message: 'pods "db-1" not found' });
  });

  it("scales a Deployment through the scale subresource", async () => {
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "web" },
        spec: {
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
          },
        },
      },
    });
    const scale = await apps.readNamespacedDeploymentScale({ name: "web", namespace: "default" });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe("app=web");
    await apps.patchNamespacedDeploymentScale(
      { name: "web", namespace: "default", body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const d = await apps.readNamespacedDeployment({ name: "web", namespace: "default" });
    expect(d.spec?.replicas).toBe(4);
    expect(d.metadata?.generation).toBe(2);
  });

  it("serves custom resources once their CRD exists (Karpenter NodePool)", async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: "nodepools.karpenter.sh" },
        spec: {
          group: "karpenter.sh",
          scope: "Cluster",
          names: { plural: "nodepools", singular: "nodepool", kind: "NodePool", listKind: "NodePoolList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
              subresources: { status: {} },
            },
          ],
        },
      },
    });
    const crd = await ext.readCustomResourceDefinition({ name: "nodepools.karpenter.sh" });
    expect(crd.status?.conditions?.find((c) => c.type === "Established")?.status).toBe("True");

    const pool = {
      apiVersion: "karpenter.sh/v1",
      kind: "NodePool",
      metadata: { name: "general" },
      spec: { limits: { cpu: "100" } },
      status: { ignored: true },
    };
    const created = (await custom.createClusterCustomObject({
      group: "karpenter.sh",
      version: "v1",
      plural: "nodepools",
      body: pool,
    })) as k8s.KubernetesObject & { status?: unknown };
    expect(created.metadata?.uid).toBeDefined();
    expect(created.status).toBeUndefined();
    await custom.patchClusterCustomObject(
      {
        group: "karpenter.sh",
        version: "v1",
        plural: "nodepools",
        name: "general",
        body: { spec: { limits: { cpu: "200" } } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const list = (await custom.listClusterCustomObject({
      group: "karpenter.sh",
      version: "v1",
      plural: "nodepools",
    })) as { items: { spec: unknown }[] };
    expect(list.items.map((i) => i.spec)).toEqual([{ limits: { cpu: "200" } }]);

    const smp = await custom
      .patchClusterCustomObject(
        { group: "karpenter.sh", version: "v1", plural: "nodepools", name: "general", body: { spec: {} } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
      )
      .catch((e: unknown) => e);
    expect(apiCode(smp)).toBe(415);

    await ext.deleteCustomResourceDefinition({ name: "nodepools.karpenter.sh" });
    const gone = await custom
      .listClusterCustomObject({ group: "karpenter.sh", version: "v1", plural: "nodepools" })
      .catch((e: unknown) => e);
    expect(apiCode(gone)).toBe(404);
  });

  it("streams watch events, with bookmarks when allowed", async () => {
    const events = collector<{ type: string; name?: string }>((e) => e.type === "DELETED");
    const bookmarks = collector<{ type: string }>((e) => e.type === "BOOKMARK");
    const rv = sb.server.store.resourceVersion;
    const req = await new k8s.Watch(kc).watch(
      "/api/v1/namespaces/default/pods",
      { resourceVersion: rv, allowWatchBookmarks: true, labelSelector: "app=watched" },
      (type, obj: k8s.V1Pod) => {
        events.push({ type, name: obj.metadata?.name });
        bookmarks.push({ type });
      },
      () => undefined,
    );
    try {
      await core.createNamespacedPod({ namespace: "default", body: podBody("w-1", { app: "watched" }) });
      await core.patchNamespacedPod(
        { name: "w-1", namespace: "default", body: { metadata: { labels: { extra: "1" } } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await core.createNamespacedPod({ namespace: "default", body: podBody("unwatched", { app: "other" }) });
      await core.deleteNamespacedPod({ name: "w-1", namespace: "default" });
      const seen = await events.done;
      expect(seen.filter((e) => e.type !== "BOOKMARK")).toEqual([
        { type: "ADDED", name: "w-1" },
        { type: "MODIFIED", name: "w-1" },
        { type: "DELETED", name: "w-1" },
      ]);
      await bookmarks.done;
    } finally {
      req.abort();
    }
  });

  it("keeps an Informer's cache in sync and relists after 410 Gone", async () => {
    const { store } = sb.server;
    const pods = store.resource("pods");
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/informed/pods", () =>
      core.listNamespacedPod({ namespace: "informed" }),
    );
    store.create(store.resource("namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "informed" },
    });
    store.create(pods, readyPod("seed", { namespace: "informed" }));
    const adds = collector<string>((n) => n === "late", 1);
    const updates = collector<string>(() => true);
    const deletes = collector<string>(() => true);
    informer.on("add", (p: k8s.V1Pod) => adds.push(p.metadata?.name ?? ""));
    informer.on("update", (p: k8s.V1Pod) => updates.push(p.metadata?.name ?? ""));
    informer.on("delete", (p: k8s.V1Pod) => deletes.push(p.metadata?.name ?? ""));
    const connected = new Promise<void>((resolve) => informer.on("connect", () => resolve()));
    await informer.start();
    try {
      await connected;
      expect(informer.list("informed").map((p) => p.metadata?.name)).toEqual(["seed"]);
      store.create(pods, readyPod("late", { namespace: "informed" }));
      store.update(pods, {
        ...store.mustGet(pods, "informed", "seed"),
        metadata: { ...store.mustGet(pods, "informed", "seed").metadata, labels: { v: "2" } },
      });
      store.delete(pods, "informed", "late");
      expect(await adds.done).toContain("late");
      expect(await updates.done).toEqual(["seed"]);
      expect(await deletes.done).toEqual(["late"]);
      expect(informer.get("seed", "informed")?.metadata?.labels).toEqual({ v: "2" });
    } finally {
      await informer.stop();
    }
    // A watch resumed from a compacted resourceVersion gets an ERROR event with a 410 Status.
    const oldRv = "1";
    store.compact();
    const errors = collector<{ type: string; code?: number }>((e) => e.type === "ERROR");
    const req = await new k8s.Watch(kc).watch(
      "/api/v1/namespaces/informed/pods",
      { resourceVersion: oldRv },
      (type, obj: { code?: number }) => errors.push({ type, code: obj.code }),
      () => undefined,
    );
    try {
      expect((await errors.done)[0]).toEqual({ type: "ERROR", code: 410 });
    } finally {
      req.abort();
    }
  });

  it("writes pod status through the status subresource and evicts through policy/v1", async () => {
    const { store } = sb.server;
    store.create(store.resource("pods"), readyPod("guarded", { labels: { app: "guarded" } }));
    const policy = kc.makeApiClient(k8s.PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({
      namespace: "default",
      body: {
        metadata: { name: "guarded" },
        spec: { maxUnavailable: 0, selector: { matchLabels: { app: "guarded" } } },
      },
    });
    const refused = await core
      .createNamespacedPodEviction({
        name: "guarded",
        namespace: "default",
        body: { metadata: { name: "guarded" } },
      })
      .catch((e: unknown) => e);
    expect(apiCode(refused)).toBe(429);
    expect(statusBody(refused)).toMatchObject({ reason: "TooManyRequests" });

    const pod = await core.readNamespacedPod({ name: "guarded", namespace: "default" });
    await core.replaceNamespacedPodStatus({
      name: "guarded",
      namespace: "default",
      body: {
        ...pod,
        spec: { containers: [{ name: "changed", image: "x" }] },
        status: { ...pod.status, conditions: [{ type: "Ready", status: "False" }] },
      },
    });
    const after = await core.readNamespacedPod({ name: "guarded", namespace: "default" });
    expect(after.spec?.containers[0]?.name).toBe("app");
    expect(after.status?.conditions).toEqual([{ type: "Ready", status: "False" }]);
    // Unready pods are protected too under the default IfHealthyBudget policy (0 healthy < 1 desired) …
    const stillRefused = await core
      .createNamespacedPodEviction({
        name: "guarded",
        namespace: "default",
        body: { metadata: { name: "guarded" } },
      })
      .catch((e: unknown) => e);
    expect(apiCode(stillRefused)).toBe(429);
    // … and evictable once the budget says AlwaysAllow.
    await policy.patchNamespacedPodDisruptionBudget(
      {
        name: "guarded",
        namespace: "default",
        body: { spec: { unhealthyPodEvictionPolicy: "AlwaysAllow" } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await core.createNamespacedPodEviction({
      name: "guarded",
      namespace: "default",
      body: { metadata: { name: "guarded" } },
    });
    expect(store.get(store.resource("pods"), "default", "guarded")).toBeUndefined();
  });
});
