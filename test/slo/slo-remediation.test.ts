// How SLO alerts meet the remediation planner and the diagnosis, on the sandbox: the
// RecentRollout finding (a rollout just before the alert, nothing else wrong), the rollback it
// leads to only when the SLOViolation allows it, and the `scale` action's HPA step within its cap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recentRollout } from "../../shared/diagnosis/recent-change.js";
import { viewFromCluster } from "../../shared/kube/snapshot.js";
import type { DecisionInput } from "../../shared/remediation/decision.js";
import { planWithRules } from "../../shared/remediation/planner.js";
import { startActionSandbox, type ActionSandbox } from "../remediation/support.js";

let s: ActionSandbox;
beforeAll(async () => {
  s = await startActionSandbox({ seed: 2 });
});
afterAll(async () => {
  await s?.close();
});

const sloLabels = (actions: string, extra: Record<string, string> = {}) => ({
  alertname: "FrontendErrorBudgetBurn",
  sloth_id: "frontend-availability",
  namespace: "shop",
  deployment: "frontend",
  prophet_slo_actions: actions,
  ...extra,
});

function input(labels: Record<string, string>, rootCause: DecisionInput["rootCause"]): DecisionInput {
  return {
    incidentId: "inc-1",
    alertname: labels.alertname!,
    severity: "critical",
    labels,
    rootCause,
    findings: rootCause ? [rootCause] : [],
    history: [],
  };
}

describe("SLO alerts in diagnosis and planning", () => {
  it("finds nothing before a rollout, then RecentRollout naming the revision and the image change", async () => {
    const target = { kind: "Deployment", namespace: "shop", name: "frontend" };
    const before = await viewFromCluster(s.port, { namespace: "shop" });
    expect(recentRollout(before, target, s.sb.clock.now().toISOString())).toBeUndefined();
    s.sb.inject({ kind: "bad-rollout", target: "shop/frontend" });
    s.advance(120);
    const view = await viewFromCluster(s.port, { namespace: "shop" });
    const f = recentRollout(view, target, s.sb.clock.now().toISOString())!;
    expect(f).toMatchObject({
      kind: "Deployment",
      namespace: "shop",
      name: "frontend",
      reason: "RecentRollout",
    });
    expect(f.message).toMatch(
      /rolled out revision 2 \(image ghcr.io\/prophet-demo\/frontend:1.8.2 → .*-bad\) \d+s before the alert started; revision 1/,
    );
    // An alert that started two hours after the rollout is not tied to it.
    const later = new Date(s.sb.clock.now().getTime() + 2 * 3600_000).toISOString();
    expect(recentRollout(view, target, later)).toBeUndefined();
  });

  it("rolls back after a rollout when the SLO allows rollback, below autonomous confidence", async () => {
    const view = await viewFromCluster(s.port, { namespace: "shop" });
    const f = recentRollout(
      view,
      { kind: "Deployment", namespace: "shop", name: "frontend" },
      s.sb.clock.now().toISOString(),
    )!;
    const d = await planWithRules(input(sloLabels("alert,rollback"), f), s.port);
    expect(d.action).toMatchObject({
      name: "rollback_deployment",
      target: { kind: "Deployment", name: "frontend" },
    });
    expect(d.confidence).toBeLessThan(0.8);
    // Without rollback among the SLO's actions, it only tells a human.
    const noRollback = await planWithRules(input(sloLabels("alert"), f), s.port);
    expect(noRollback.action?.name).toBe("notify_only");
  });

  it("scale: the HPA's bounds rise by the step, never past the SLO's cap", async () => {
    const hpa = await s.port.get("HorizontalPodAutoscaler", "shop", "frontend");
    const { minReplicas, maxReplicas } = hpa!.spec as { minReplicas: number; maxReplicas: number };
    const labels = sloLabels("alert,scale", { prophet_slo_hpa: "frontend", prophet_slo_hpa_step: "2" });
    const d = await planWithRules(input(labels, null), s.port);
    expect(d.action).toMatchObject({
      name: "update_hpa",
      target: { kind: "HorizontalPodAutoscaler", namespace: "shop", name: "frontend" },
      params: { minReplicas: minReplicas + 2, maxReplicas: maxReplicas + 2 },
    });
    const capped = await planWithRules(
      input({ ...labels, prophet_slo_hpa_max: String(maxReplicas + 1) }, null),
      s.port,
    );
    expect(capped.action?.params).toEqual({ minReplicas: minReplicas + 2, maxReplicas: maxReplicas + 1 });
    // At the cap only the floor can still rise; with both at the cap there is nothing to do.
    const atCap = await planWithRules(
      input({ ...labels, prophet_slo_hpa_max: String(maxReplicas) }, null),
      s.port,
    );
    expect(atCap.action?.params).toEqual({ minReplicas: minReplicas + 2, maxReplicas });
    const full = await planWithRules(
      input({ ...labels, prophet_slo_hpa_max: String(minReplicas) }, null),
      s.port,
    );
    expect(full.action).toBeNull();
    // A cap below the current ceiling never lowers it.
    const low = await planWithRules(
      input({ ...labels, prophet_slo_hpa_max: String(minReplicas + 1) }, null),
      s.port,
    );
    expect(low.action?.params).toEqual({ minReplicas: minReplicas + 1, maxReplicas });
    // Not an SLO alert (no sloth_id): the labels mean nothing to the planner.
    const { sloth_id: _, ...plain } = labels;
    expect((await planWithRules(input(plain, null), s.port)).action).toBeNull();
  });
});
