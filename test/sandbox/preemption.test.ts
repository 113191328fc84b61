// Pod priority and preemption on the manual clock: the Priority admission plugin (classes, the
// global default, refusals worded as kube-apiserver words them), and DefaultPreemption — a pod that
// fits nowhere deletes strictly lower-priority pods, is nominated, binds on the next step, and the
// evicted placeholders are recreated and get a node from Karpenter (the "buffer refill").
import { afterEach, describe, expect, it } from "vitest";
import { KubeApiError, type KubeObject } from "../../infra/sandbox/apiserver/index.js";
import { deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function priorityClass(name: string, value: number, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value, ...extra };
}

function pod(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop" },
    spec: { containers: [{ name: "app", image: "nginx:1.27" }], ...spec },
  };
}

/** A Deployment whose pods run at `className`, pinned to a node when `node` is given. */
function workload(
  name: string,
  cpu: string,
  opts: { className?: string; replicas?: number; node?: string } = {},
): KubeObject {
  return deployment(name, {
    cpu,
    replicas: opts.replicas ?? 1,
    extra: {
      ...(opts.className ? { priorityClassName: opts.className } : {}),
      ...(opts.node ? { nodeSelector: { "kubernetes.io/hostname": opts.node } } : {}),
    },
  });
}

function createError(fn: () => unknown): KubeApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
  throw new Error("expected the API server to refuse the write");
}

const generalNodes = (sim: SimHarness) =>
  sim
    .nodes()
    .filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "general")
    .map((n) => n.metadata.name ?? "")
    .sort();

describe("priority admission", () => {
  it("serves the built-in system classes under scheduling.k8s.io/v1", async () => {
    h = await startSim();
    const res = await fetch(`${h.sb.url}/apis/scheduling.k8s.io/v1/priorityclasses`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as { kind: string; items: KubeObject[] };
    expect(list.kind).toBe("PriorityClassList");
    const values = Object.fromEntries(list.items.map((pc) => [pc.metadata.name, pc.value]));
    expect(values).toEqual({ "system-cluster-critical": 2000000000, "system-node-critical": 2000001000 });
    expect(list.items[0]).toMatchObject({ preemptionPolicy: "PreemptLowerPriority" });
  });

  it("sets spec.priority from the pod's class, 0 without one", async () => {
    h = await startSim();
    h.create(priorityClass("high", 1000, { description: "customer traffic" }));
    const high = h.create(pod("high", { priorityClassName: "high" }));
    expect(rec(high.spec)).toMatchObject({ priority: 1000, preemptionPolicy: "PreemptLowerPriority" });
    const plain = h.create(pod("plain"));
    expect(rec(plain.spec).priority).toBe(0);
    expect(rec(plain.spec).priorityClassName).toBeUndefined();
    const critical = h.create(pod("dns", { priorityClassName: "system-cluster-critical" }));
    expect(rec(critical.spec).priority).toBe(2000000000);
  });

  it("refuses a pod naming a missing class with 403 Forbidden, as kube-apiserver words it", async () => {
    h = await startSim();
    const err = createError(() => h?.create(pod("web", { priorityClassName: "nope" })));
    expect(err.code).toBe(403);
    expect(err.reason).toBe("Forbidden");
    expect(err.message).toBe('pods "web" is forbidden: no PriorityClass with name nope was found');
    const res = await fetch(`${h.sb.url}/api/v1/namespaces/shop/pods`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        ...pod("x", { priorityClassName: "nope" }),
        metadata: { generateName: "web-" },
      }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      message: 'pods "web-" is forbidden: no PriorityClass with name nope was found',
    });
  });

  it("refuses a spec.priority that disagrees with the class (the placeholder sample without a class)", async () => {
    h = await startSim();
    const err = createError(() => h?.create(pod("balloon", { priority: -1000 })));
    expect(err.code).toBe(403);
    expect(err.message).toBe(
      'pods "balloon" is forbidden: the integer value of priority (-1000) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
    );
    h.create(priorityClass("balloon", -1000));
    const ok = h.create(pod("balloon", { priority: -1000, priorityClassName: "balloon" }));
    expect(rec(ok.spec).priority).toBe(-1000);
  });

  it("applies the single globalDefault class to pods without one", async () => {
    h = await startSim();
    h.create(priorityClass("standard", 100, { globalDefault: true }));
    const p = h.create(pod("web"));
    expect(rec(p.spec)).toMatchObject({ priority: 100, priorityClassName: "standard" });
    const err = createError(() => h?.create(priorityClass("other", 5, { globalDefault: true })));
    expect(err.code).toBe(403);
    expect(err.message).toBe(
      'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass standard is already marked as default. Only one default can exist',
    );
  });

  it("validates classes: reserved system- names, the user ceiling, immutable value", async () => {
    h = await startSim();
    expect(createError(() => h?.create(priorityClass("system-mine", 10))).message).toBe(
      "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only",
    );
    expect(createError(() => h?.create(priorityClass("huge", 2_000_000_000))).code).toBe(422);
    const pc = h.create(priorityClass("mid", 10));
    const store = h.sb.api.store;
    const rt = store.resource("priorityclasses.scheduling.k8s.io");
    expect(createError(() => store.update(rt, { ...pc, value: 11 })).message).toContain(
      "value: Forbidden: may not be changed in an update.",
    );
  });
});

describe("preemption", () => {
  it("a pending pod preempts a negative-priority placeholder, binds on the next step, and Karpenter refills the buffer", async () => {
    h = await startSim();
    h.create(priorityClass("balloon", -1000, { preemptionPolicy: "Never" }));
    // One 1.5-CPU placeholder per m5.large (1930m allocatable) general node.
    h.create(workload("balloon", "1500m", { className: "balloon", replicas: 2 }));
    h.advance(5);
    const placeholders = h.podsOf("shop", "balloon");
    expect(placeholders.map((p) => rec(p.spec).nodeName).sort()).toEqual(generalNodes(h));

    h.create(workload("web", "1"));
    h.advance(1);
    const [web] = h.podsOf("shop", "web");
    const node = String(rec(web?.status).nominatedNodeName);
    expect(generalNodes(h)).toContain(node);
    expect(rec(web?.spec).nodeName).toBeUndefined();
    // FitError without the PostFilter part: the preemption succeeded.
    expect(h.condition(web, "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message:
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.",
    });
    const victim = placeholders.find((p) => rec(p.spec).nodeName === node);
    expect(h.pod("shop", victim?.metadata.name ?? "")).toBeUndefined();
    const preempted = h.events(victim?.metadata.name, "Preempted");
    expect(preempted).toHaveLength(1);
    expect(preempted[0]).toMatchObject({
      type: "Normal",
      message: `Preempted by pod ${web?.metadata.uid} on node ${node}`,
      source: { component: "default-scheduler" },
    });

    h.advance(1);
    const bound = h.pod("shop", web?.metadata.name ?? "");
    expect(rec(bound?.spec).nodeName).toBe(node);
    expect(rec(bound?.status).nominatedNodeName).toBeUndefined();
    // Karpenter launched nothing for the preemptor, only for the recreated placeholder.
    expect(h.events(web?.metadata.name, "Nominated")).toHaveLength(0);
    const replacement = h.podsOf("shop", "balloon").find((p) => !rec(p.spec).nodeName);
    expect(replacement).toBeDefined();
    expect(rec(replacement?.spec).priority).toBe(-1000);
    expect(String(h.events(replacement?.metadata.name, "Nominated")[0]?.message)).toMatch(
      /^Pod should schedule on: nodeclaim\/burst-/,
    );
    h.advance(40);
    const burst = h.nodes().filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "burst");
    expect(burst).toHaveLength(1);
    expect(rec(h.pod("shop", replacement?.metadata.name ?? "")?.spec).nodeName).toBe(burst[0]?.metadata.name);
    // A node carrying only a placeholder is not empty: consolidation (2m) leaves it alone.
    h.advance(200);
    expect(h.nodes().filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "burst")).toHaveLength(1);
  });

  it("never preempts pods of equal or higher priority: the FitError is unchanged and Karpenter provisions", async () => {
    h = await startSim();
    h.create(priorityClass("critical", 1000));
    h.create(priorityClass("mid", 500));
    const [a, b] = generalNodes(h);
    h.create(workload("filler", "1500m", { className: "mid", node: a }));
    h.create(workload("important", "1500m", { className: "critical", node: b }));
    h.advance(5);
    h.create(workload("web", "1"));
    h.create(workload("api", "1", { className: "mid" }));
    h.advance(1);
    const message =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. " +
      "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    for (const app of ["web", "api"]) {
      const [p] = h.podsOf("shop", app);
      expect(h.condition(p, "PodScheduled")?.message).toBe(message);
      expect(rec(p?.status).nominatedNodeName).toBeUndefined();
    }
    expect(h.events(undefined, "Preempted")).toHaveLength(0);
    expect(h.podsOf("shop", "filler")).toHaveLength(1);
    h.advance(40);
    for (const app of ["web", "api"]) {
      const [p] = h.podsOf("shop", app);
      const node = h.nodes().find((n) => n.metadata.name === rec(p?.spec).nodeName);
      expect(node?.metadata.labels?.["karpenter.sh/nodepool"]).toBe("burst");
    }
  });

  it("a class with preemptionPolicy Never waits for capacity instead of preempting", async () => {
    h = await startSim();
    h.create(priorityClass("balloon", -1000));
    h.create(priorityClass("batch", 1000, { preemptionPolicy: "Never" }));
    h.create(workload("balloon", "1500m", { className: "balloon", replicas: 2 }));
    h.advance(5);
    h.create(workload("report", "1", { className: "batch" }));
    h.advance(1);
    const [p] = h.podsOf("shop", "report");
    expect(rec(p?.spec)).toMatchObject({ priority: 1000, preemptionPolicy: "Never" });
    expect(h.condition(p, "PodScheduled")?.message).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
    );
    expect(h.events(undefined, "Preempted")).toHaveLength(0);
    expect(h.podsOf("shop", "balloon").every((b) => rec(b.spec).nodeName)).toBe(true);
    expect(h.events(p?.metadata.name, "Nominated")).toHaveLength(1); // Karpenter provisions for it
  });

  it("picks the node whose victims have the lowest priority", async () => {
    h = await startSim();
    h.create(priorityClass("low", -10));
    h.create(priorityClass("lowest", -1000));
    const [a, b] = generalNodes(h);
    h.create(workload("keep", "1500m", { className: "low", node: a }));
    h.create(workload("spare", "1500m", { className: "lowest", node: b }));
    h.advance(5);
    h.create(workload("web", "1"));
    h.advance(2);
    const [web] = h.podsOf("shop", "web");
    expect(rec(web?.spec).nodeName).toBe(b);
    const victims = h.events(undefined, "Preempted").map((e) => String(rec(e.involvedObject).name));
    expect(victims).toHaveLength(1);
    expect(victims[0]).toMatch(/^spare-/);
    expect(h.podsOf("shop", "keep").every((p) => rec(p.spec).nodeName === a)).toBe(true);
  });

  it("among equal priorities, picks the node needing the fewest victims and keeps the rest", async () => {
    h = await startSim();
    h.create(priorityClass("balloon", -1000));
    const [a, b] = generalNodes(h);
    h.create(workload("big", "1500m", { className: "balloon", node: a }));
    h.create(workload("small", "500m", { className: "balloon", node: b, replicas: 3 }));
    h.advance(5);
    h.create(workload("web", "1"));
    h.advance(2);
    const [web] = h.podsOf("shop", "web");
    // On b two of the three 500m pods would have to go; on a one pod does.
    expect(rec(web?.spec).nodeName).toBe(a);
    const preempted = h.events(undefined, "Preempted");
    expect(preempted).toHaveLength(1);
    expect(String(rec(preempted[0]?.involvedObject).name)).toMatch(/^big-/);
    expect(preempted[0]?.message).toBe(`Preempted by pod ${web?.metadata.uid} on node ${a}`);
    expect(h.podsOf("shop", "small").filter((p) => rec(p.spec).nodeName === b)).toHaveLength(3);
  });
});
