// Two controller behaviours remediation relies on: a ReplicaSet releases a pod relabelled out of
// its selector and replaces it; a DaemonSet rolls its pods, one at a time, when its template changes.
import { afterEach, describe, expect, it } from "vitest";
import { arr, deployment, rec, smallScenario, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("rollout semantics", () => {
  it("a pod relabelled out of its ReplicaSet's selector is orphaned and replaced", async () => {
    h = await startSim();
    h.create(deployment("web", { replicas: 2 }));
    h.advance(10);
    const store = h.sb.api.store;
    const podRt = store.resource("pods");
    const [pod] = h.podsOf("shop", "web");
    if (!pod) throw new Error("no web pod");
    store.update(podRt, { ...pod, metadata: { ...pod.metadata, labels: { quarantined: "true" } } });
    h.advance(10);
    const released = h.pod("shop", pod.metadata.name ?? "");
    expect(released?.metadata.ownerReferences ?? []).toEqual([]);
    const serving = h.podsOf("shop", "web");
    expect(serving).toHaveLength(2);
    expect(serving.map((p) => p.metadata.name)).not.toContain(pod.metadata.name);
  });

  it("a DaemonSet template change replaces its pods one at a time", async () => {
    h = await startSim(
      smallScenario({
        workloads: [
          { kind: "DaemonSet", namespace: "shop", name: "agent", image: "fluent/fluent-bit:3.1", cpu: "50m" },
        ],
      }),
    );
    h.advance(30);
    const store = h.sb.api.store;
    const rt = store.resource("daemonsets.apps");
    const before = h.podsOf("shop", "agent").map((p) => p.metadata.name);
    expect(before.length).toBeGreaterThan(1);
    const ds = h.get("daemonsets.apps", "shop", "agent");
    if (!ds) throw new Error("no agent DaemonSet");
    const tpl = rec(rec(ds.spec).template);
    const containers = arr(rec(tpl.spec).containers).map((c) => ({ ...c, image: "fluent/fluent-bit:3.2" }));
    store.update(rt, {
      ...ds,
      spec: { ...rec(ds.spec), template: { ...tpl, spec: { ...rec(tpl.spec), containers } } },
    });
    h.advance(1);
    const midway = h.podsOf("shop", "agent").map((p) => p.metadata.name);
    expect(midway.filter((n) => !before.includes(n)).length).toBeLessThanOrEqual(1);
    h.advance(60);
    const after = h.podsOf("shop", "agent");
    expect(after).toHaveLength(before.length);
    expect(after.every((p) => !before.includes(p.metadata.name))).toBe(true);
    expect(after.every((p) => arr(rec(p.spec).containers)[0]?.image === "fluent/fluent-bit:3.2")).toBe(true);
    const status = rec(h.get("daemonsets.apps", "shop", "agent")?.status);
    expect(status.updatedNumberScheduled).toBe(before.length);
    expect(status.numberReady).toBe(before.length);
  });
});
