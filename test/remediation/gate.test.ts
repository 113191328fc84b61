// The policy gate as a matrix: each check blocks with its own reason, in order, against a real
// store and the live sandbox objects (the action's own check reads them).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../shared/ports/store.js";
import type { Decision } from "../../shared/remediation/decision.js";
import { runGate, type GateInput } from "../../shared/remediation/gate.js";
import { defaultPolicy, type RemediationPolicy } from "../../shared/remediation/policy.js";
import { insertRemediation, lockTarget, type RemediationStatus } from "../../shared/remediation/store.js";
import { freshPgliteStore, freshPostgresStore } from "../support/stores.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const owner = "Deployment/shop/catalog";
const target = { kind: "Deployment", namespace: "shop", name: "catalog" };

function decision(
  over: Partial<Decision> = {},
  action: Partial<NonNullable<Decision["action"]>> = {},
): Decision {
  return {
    decider: "rules",
    rootCause: "test",
    confidence: 0.9,
    action: { name: "scale_deployment", target, params: { replicas: 3 }, rationale: "test", ...action },
    alternatives: [],
    actionable: true,
    ...over,
  };
}

const autonomous = (over: Partial<RemediationPolicy> = {}): RemediationPolicy => ({
  ...defaultPolicy("autonomous"),
  id: "shop/auto",
  cooldownSeconds: 300,
  ...over,
});

let s: ActionSandbox;
let store: Store;
let cleanup: () => Promise<void> = async () => {};
let seq = 0;

beforeAll(async () => {
  s = await startActionSandbox();
  const pg = await freshPostgresStore();
  if (pg) {
    store = pg;
    cleanup = () => pg.close();
  } else {
    const lite = await freshPgliteStore();
    store = lite.store;
    cleanup = lite.cleanup;
  }
});
afterAll(async () => {
  await cleanup();
  await s?.close();
});
beforeEach(async () => {
  await store.query("DELETE FROM remediations");
  await store.query("DELETE FROM remediation_locks");
});

/** A past remediation of the same owner, in a given state. */
async function past(
  status: RemediationStatus,
  opts: { executedSecondsAgo?: number; score?: number; action?: string; ownerKey?: string } = {},
) {
  const now = s.sb.clock.now();
  const id = `past-${++seq}`;
  await insertRemediation(store, {
    id,
    cluster: "test",
    incidentId: `inc-${seq}`,
    diagnosisId: null,
    ownerKey: opts.ownerKey ?? owner,
    targetKey: owner,
    decision: decision({}, { name: opts.action ?? "scale_deployment" }),
    policyId: "shop/auto",
    mode: "autonomous",
    status,
    reason: null,
    gate: { verdict: "execute", reason: "ok", detail: "", checks: [], approvalReasons: [] },
    expiresAt: null,
    pattern: "p",
    embedding: new Array(64).fill(0),
    at: new Date(now.getTime() - (opts.executedSecondsAgo ?? 0) * 1000 - 1000),
  });
  if (opts.executedSecondsAgo !== undefined)
    await store.query(
      "UPDATE remediations SET executed_at = $2, score = $3, assessed_at = $4 WHERE id = $1",
      [
        id,
        new Date(now.getTime() - opts.executedSecondsAgo * 1000),
        opts.score ?? null,
        opts.score !== undefined ? now : null,
      ],
    );
  return id;
}

function gate(over: Partial<GateInput> = {}) {
  return runGate({
    db: store,
    cluster: "test",
    now: s.sb.clock.now(),
    policy: autonomous(),
    incident: { id: "inc-now", status: "firing", namespace: "shop" },
    decision: decision(),
    ownerKey: owner,
    remediationId: "rem-now",
    actionCtx: s.ctx,
    stage: "decide",
    ...over,
  });
}

describe("the policy gate", () => {
  it("executes a confident decision within an autonomous policy, with every check recorded", async () => {
    const g = await gate();
    expect(g).toMatchObject({ verdict: "execute", reason: "ok" });
    expect(g.checks.map((c) => c.name)).toEqual([
      "policy",
      "alert",
      "in_flight",
      "lock",
      "cooldown",
      "failures",
      "effectiveness",
      "concurrency",
      "action_check",
    ]);
    expect(g.checks.every((c) => c.ok)).toBe(true);
  });

  it.each<[string, () => Promise<Partial<GateInput>>, string]>([
    ["no policy covers it", async () => ({ policy: undefined }), "not_opted_in"],
    [
      "the namespace is forbidden",
      async () => ({ policy: autonomous({ forbiddenNamespaces: ["shop"] }) }),
      "forbidden_namespace",
    ],
    [
      "the action is not allowed",
      async () => ({ policy: autonomous({ allowedActions: ["rollout_restart"] }) }),
      "action_not_allowed",
    ],
    [
      "the alert resolved",
      async () => ({ incident: { id: "inc-now", status: "resolved", namespace: "shop" } }),
      "alert_not_firing",
    ],
    [
      "another remediation is in flight for the owner",
      async () => (await past("proposed"), {}),
      "duplicate_in_progress",
    ],
    [
      "the target is locked",
      async () => {
        const now = s.sb.clock.now();
        await lockTarget(store, "test", owner, "other", new Date(now.getTime() + 60_000), now);
        return {};
      },
      "resource_locked",
    ],
    [
      "an action ran within the cooldown",
      async () => (await past("executed", { executedSecondsAgo: 60 }), {}),
      "cooldown",
    ],
    [
      "the last three remediations failed",
      async () => {
        for (const ago of [900, 1200, 1500]) await past("failed", { executedSecondsAgo: ago });
        return {};
      },
      "blocked_after_failures",
    ],
    [
      "too many remediations are executing",
      async () => {
        await past("executing", { ownerKey: "Deployment/shop/other" });
        return { policy: autonomous({ maxConcurrent: 1 }) };
      },
      "max_concurrent",
    ],
    [
      "the action would cross its blast radius",
      async () => ({ decision: decision({}, { params: { replicas: 500 } }) }),
      "blast_radius",
    ],
    [
      "the target does not exist",
      async () => ({ decision: decision({}, { target: { ...target, name: "gone" } }) }),
      "target_missing",
    ],
    [
      "the action is not registered",
      async () => ({ decision: decision({}, { name: "delete_cluster" }) }),
      "unknown_action",
    ],
  ])("blocks when %s", async (_what, setup, reason) => {
    const g = await gate(await setup());
    expect(g.verdict).toBe("block");
    expect(g.reason).toBe(reason);
    expect(g.detail.length).toBeGreaterThan(5);
  });

  it("checks in order: a forbidden namespace wins over a resolved alert and a cooldown", async () => {
    await past("executed", { executedSecondsAgo: 10 });
    const g = await gate({
      policy: autonomous({ forbiddenNamespaces: ["shop"] }),
      incident: { id: "inc-now", status: "resolved", namespace: "shop" },
    });
    expect(g.reason).toBe("forbidden_namespace");
    expect(g.checks).toHaveLength(1);
  });

  it("asks a human for low confidence, human-in-loop, StatefulSets, node actions and an ineffective chain", async () => {
    expect(await gate({ decision: decision({ confidence: 0.6 }) })).toMatchObject({ verdict: "propose" });
    expect(
      (await gate({ policy: autonomous({ approvalMode: "human-in-loop" }) })).approvalReasons[0],
    ).toContain("human-in-loop");
    const sts = await gate({
      decision: decision(
        {},
        {
          name: "scale_statefulset",
          target: { kind: "StatefulSet", namespace: "payments", name: "postgres" },
          params: { replicas: 3 },
        },
      ),
      ownerKey: "StatefulSet/shop/orders-db",
    });
    expect(
      sts.verdict === "propose" || sts.reason === "target_missing" || sts.reason === "precondition",
    ).toBe(true);
    const node = (await s.port.list("Node")).find(
      (n) => !(n.spec as { unschedulable?: boolean })?.unschedulable,
    )!;
    const cordon = await gate({
      decision: decision(
        {},
        {
          name: "cordon_node",
          target: { kind: "Node", namespace: "", name: node.metadata.name },
          params: {},
        },
      ),
      ownerKey: `Node/${node.metadata.name}`,
    });
    expect(cordon).toMatchObject({ verdict: "propose" });
    expect(cordon.approvalReasons.join()).toContain("cordon_node needs approval");
    for (const ago of [600, 1200, 1800]) await past("executed", { executedSecondsAgo: ago, score: 0.1 });
    const chain = await gate();
    expect(chain.verdict).toBe("propose");
    expect(chain.approvalReasons[0]).toContain("ineffective 3 times");
  });

  it("dry-run records what it would do and nothing more", async () => {
    const g = await gate({ policy: autonomous({ approvalMode: "dry-run" }) });
    expect(g).toMatchObject({ verdict: "dry_run", reason: "ok" });
  });

  it("a decision without an action passes through as none", async () => {
    expect(await gate({ decision: decision({ action: null, actionable: false }) })).toMatchObject({
      verdict: "none",
      reason: "no_action",
    });
  });
});
