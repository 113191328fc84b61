import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateWorkload } from "../../shared/remediation/actions/migrate-workload.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const nodeOf = (p: { spec?: unknown }) => (p.spec as { nodeName?: string }).nodeName ?? "";

describe("migrate_workload on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const podsOf = async (ns: string, app: string) =>
    (await s.port.list("Pod", ns)).filter((p) => p.metadata.labels?.app === app);

  it("refuses a missing node, a node without the workload's pods, and evicting every replica", async () => {
    const t = { kind: "Deployment", namespace: "shop", name: "cart" };
    expect(migrateWorkload.params.safeParse({}).success).toBe(false);
    expect(await migrateWorkload.check(s.ctx, t, { fromNode: "ip-0-0-0-0" })).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    const [grafana] = await podsOf("monitoring", "grafana");
    expect(await migrateWorkload.check(s.ctx, t, { fromNode: nodeOf(grafana!) })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    // Both cart pods share one node: evicting them would leave none.
    const carts = await podsOf("shop", "cart");
    expect(new Set(carts.map(nodeOf)).size).toBe(1);
    const all = await migrateWorkload.check(s.ctx, t, { fromNode: nodeOf(carts[0]!) });
    expect(all).toMatchObject({ ok: false, failure: "blast_radius" });
  });

  it("evicts the frontend pods from one node; evicted pods are replaced and verify says where they landed", async () => {
    const t = { kind: "Deployment", namespace: "shop", name: "frontend" };
    const pods = await podsOf("shop", "frontend");
    const counts = new Map<string, number>();
    for (const p of pods) counts.set(nodeOf(p), (counts.get(nodeOf(p)) ?? 0) + 1);
    const [fromNode] = [...counts.entries()].sort((a, b) => a[1] - b[1])[0]!;
    const p = { fromNode };
    expect(await migrateWorkload.check(s.ctx, t, p)).toMatchObject({ ok: true });
    const result = await migrateWorkload.execute(s.ctx, t, p);
    expect(result.changes.every((c) => c.startsWith("evicted Pod"))).toBe(true);
    s.advance(60);
    const verified = await migrateWorkload.verify(s.ctx, t, p, result);
    expect(verified.detail).not.toContain("still exists");
    const after = await podsOf("shop", "frontend");
    expect(after.filter((x) => (result.undo?.evicted as string[]).includes(x.metadata.uid ?? ""))).toEqual(
      [],
    );
    expect(after.filter((x) => (x.status as { phase?: string }).phase === "Running")).toHaveLength(
      pods.length,
    );
    // The node stays schedulable: the sandbox scheduler (most free capacity) may put replacements
    // back on it, which verify reports instead of calling the migration done.
    if (!verified.ok) expect(verified.detail).toContain(`scheduled onto ${fromNode} again`);
  });

  it("stops at a PodDisruptionBudget refusal and reports it", async () => {
    const t = { kind: "Deployment", namespace: "shop", name: "frontend" };
    await s.port.patch!("PodDisruptionBudget", "shop", "frontend", { spec: { minAvailable: "100%" } });
    const [pod] = await podsOf("shop", "frontend");
    const p = { fromNode: nodeOf(pod!) };
    const loose = { ...s.ctx, limits: { ...s.ctx.limits, minHealthyReplicas: 0 } };
    const result = await migrateWorkload.execute(loose, t, p);
    expect(result.changes[0]).toContain("refused by a PodDisruptionBudget");
    expect(await migrateWorkload.verify(s.ctx, t, p, result)).toMatchObject({ ok: false });
  });
});
