// cordon_node, uncordon_node and drain_node on the sandbox's default cluster: two tainted system
// nodes and two general nodes running the shop (shop/frontend has a PDB with minAvailable 2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ActionContext } from "../../shared/remediation/action.js";
import { cordonNode } from "../../shared/remediation/actions/cordon-node.js";
import { drainNode, podsToEvict } from "../../shared/remediation/actions/drain-node.js";
import { uncordonNode } from "../../shared/remediation/actions/uncordon-node.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const node = (name: string) => ({ kind: "Node", namespace: "", name });
const unschedulable = (n: KubeObject | undefined) => (n?.spec as { unschedulable?: boolean })?.unschedulable;

describe("cordon_node and uncordon_node on the sandbox", () => {
  let s: ActionSandbox;
  let general: string[];
  let all: string[];
  beforeAll(async () => {
    s = await startActionSandbox();
    const nodes = await s.port.list("Node");
    all = nodes.map((n) => n.metadata.name).sort();
    general = nodes
      .filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "general")
      .map((n) => n.metadata.name)
      .sort();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("takes no parameters", () => {
    expect(cordonNode.params.safeParse({}).success).toBe(true);
    expect(cordonNode.params.safeParse({ force: true }).success).toBe(false);
    expect(uncordonNode.params.safeParse({ grace: 0 }).success).toBe(false);
  });

  it("cordons, verifies, refuses a second Prophet-cordoned node, and undoes", async () => {
    const [a, b] = general as [string, string];
    expect(await cordonNode.check(s.ctx, node("nope"), {})).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await uncordonNode.check(s.ctx, node(a), {})).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    expect(await cordonNode.check(s.ctx, node(a), {})).toMatchObject({ ok: true });
    const result = await cordonNode.execute(s.ctx, node(a), {});
    expect(result.changes[0]).toContain(`Node ${a} cordoned`);
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    const cordoned = await s.port.get("Node", undefined, a);
    expect(unschedulable(cordoned)).toBe(true);
    expect(cordoned?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("cordon_node");
    expect(await cordonNode.verify(s.ctx, node(a), {}, result)).toMatchObject({ ok: true });
    expect(await cordonNode.check(s.ctx, node(a), {})).toMatchObject({ ok: false, failure: "precondition" });
    // maxNodesDrained is 1: a second node would be one too many.
    const second = await cordonNode.check(s.ctx, node(b), {});
    expect(second).toMatchObject({ ok: false, failure: "blast_radius" });
    expect(second.ok ? "" : second.detail).toContain(a);
    expect(await drainNode.check(s.ctx, node(b), {})).toMatchObject({ ok: false, failure: "blast_radius" });
    await cordonNode.undo!(s.ctx, node(a), result);
    expect(unschedulable(await s.port.get("Node", undefined, a))).toBeUndefined();
    expect(await cordonNode.verify(s.ctx, node(a), {}, result)).toMatchObject({ ok: false });
    expect(await cordonNode.check(s.ctx, node(b), {})).toMatchObject({ ok: true });
  });

  it("uncordons a cordoned node and undoes that", async () => {
    const a = general[0]!;
    await cordonNode.execute(s.ctx, node(a), {});
    expect(await uncordonNode.check(s.ctx, node(a), {})).toMatchObject({ ok: true });
    const result = await uncordonNode.execute(s.ctx, node(a), {});
    expect(await uncordonNode.verify(s.ctx, node(a), {}, result)).toMatchObject({ ok: true });
    await uncordonNode.undo!(s.ctx, node(a), result);
    expect(unschedulable(await s.port.get("Node", undefined, a))).toBe(true);
    await uncordonNode.execute(s.ctx, node(a), {});
    expect(unschedulable(await s.port.get("Node", undefined, a))).toBeUndefined();
  });

  it("never cordons the last schedulable node, whatever the limit", async () => {
    const ctx: ActionContext = { ...s.ctx, limits: { ...s.ctx.limits, maxNodesDrained: 100 } };
    const [last, ...rest] = all as [string, ...string[]];
    for (const n of rest) await cordonNode.execute(ctx, node(n), {});
    const refused = await cordonNode.check(ctx, node(last), {});
    expect(refused).toMatchObject({ ok: false, failure: "blast_radius" });
    expect(refused.ok ? "" : refused.detail).toContain("last schedulable node");
    for (const n of rest) await uncordonNode.execute(ctx, node(n), {});
    expect(await cordonNode.check(ctx, node(last), {})).toMatchObject({ ok: true });
  });
});

describe("drain_node on the sandbox", () => {
  let s: ActionSandbox;
  let ctx: ActionContext;
  beforeAll(async () => {
    s = await startActionSandbox({ limits: { maxNodesDrained: 2 } });
    ctx = s.ctx;
  });
  afterAll(async () => {
    await s?.close();
  });

  const frontendOn = (pods: KubeObject[], n: string) =>
    pods.filter(
      (p) => p.metadata.name.startsWith("frontend-") && (p.spec as { nodeName?: string }).nodeName === n,
    );

  it("evicts all but DaemonSet pods, reports PDB-blocked evictions, and finishes when run again", async () => {
    const pods = await s.port.list("Pod");
    const general = (await s.port.list("Node"))
      .filter((n) => n.metadata.labels?.["karpenter.sh/nodepool"] === "general")
      .map((n) => n.metadata.name);
    // Drain the node with fewer frontend pods first, so the second drain runs into the budget.
    const [first, second] = general.sort(
      (x, y) => frontendOn(pods, x).length - frontendOn(pods, y).length,
    ) as [string, string];
    expect(frontendOn(pods, second).length).toBeGreaterThanOrEqual(2);

    const r1 = await drainNode.execute(ctx, node(first), {});
    expect(r1.changes).toContain(`Node ${first} cordoned (spec.unschedulable=true)`);
    expect(r1.changes.filter((c) => c.startsWith("blocked"))).toEqual([]);
    expect(await drainNode.verify(ctx, node(first), {}, r1)).toMatchObject({ ok: true });
    const left = (await s.port.list("Pod")).filter(
      (p) => (p.spec as { nodeName?: string }).nodeName === first,
    );
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((p) => p.metadata.ownerReferences?.[0]?.kind === "DaemonSet")).toBe(true);

    // No time passes: the replacements are not ready, so the frontend budget allows one more eviction.
    expect(await drainNode.check(ctx, node(second), {})).toMatchObject({ ok: true });
    const r2 = await drainNode.execute(ctx, node(second), {});
    const blocked = r2.changes.filter((c) => c.startsWith("blocked: pod shop/frontend-"));
    expect(blocked.length).toBe(frontendOn(pods, second).length - 1);
    // shop/checkout's budget (minAvailable 1) may block too: every blocked pod is listed.
    const allBlocked = r2.changes.filter((c) => c.startsWith("blocked:"));
    expect((r2.undo?.blocked as string[]).length).toBe(allBlocked.length);
    const v = await drainNode.verify(ctx, node(second), {}, r2);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain("shop/frontend-");

    // Retrying later is the caller's job: Karpenter brings a node, replacements get ready.
    let result = r2;
    for (let i = 0; i < 10 && !(await drainNode.verify(ctx, node(second), {}, result)).ok; i++) {
      s.advance(60);
      result = await drainNode.execute(ctx, node(second), {});
    }
    expect(await drainNode.verify(ctx, node(second), {}, result)).toMatchObject({ ok: true });
    expect(podsToEvict(await s.port.list("Pod"), second)).toEqual([]);
  });

  it("undo uncordons the node it cordoned", async () => {
    const n = (await s.port.list("Node")).find(
      (x) =>
        unschedulable(x) && x.metadata.annotations?.["aiops.prophet.io/remediation-action"] === "drain_node",
    );
    expect(n).toBeDefined();
    await drainNode.undo!(ctx, node(n!.metadata.name), { changes: [], undo: { wasUnschedulable: false } });
    expect(unschedulable(await s.port.get("Node", undefined, n!.metadata.name))).toBeUndefined();
  });
});
