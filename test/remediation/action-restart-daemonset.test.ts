import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restartDaemonset } from "../../shared/remediation/actions/restart-daemonset.js";
import { isPodReady } from "../../shared/remediation/actions/workload-helpers.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "DaemonSet", namespace: "monitoring", name: "node-exporter" };

describe("restart_daemonset on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const pods = async () =>
    (await s.port.list("Pod", "monitoring")).filter((p) => p.metadata.labels?.app === "node-exporter");

  it("accepts only DaemonSets", async () => {
    expect(
      await restartDaemonset.check(s.ctx, { kind: "Deployment", namespace: "shop", name: "catalog" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await restartDaemonset.check(s.ctx, t, {})).toMatchObject({ ok: true });
  });

  it("replaces the pods node by node, never more than one down at once, then verifies", async () => {
    const before = await pods();
    const result = await restartDaemonset.execute(s.ctx, t, {});
    expect(result.changes[0]).toContain("kubectl.kubernetes.io/restartedAt");
    for (let i = 0; i < 20; i++) {
      s.advance(1);
      const now = await pods();
      expect(now.filter(isPodReady).length).toBeGreaterThanOrEqual(before.length - 1);
    }
    s.advance(60);
    expect(await restartDaemonset.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    const after = await pods();
    expect(after).toHaveLength(before.length);
    expect(after.filter((p) => before.some((b) => b.metadata.uid === p.metadata.uid))).toEqual([]);
  });

  it("refuses an OnDelete DaemonSet (a restart would change nothing)", async () => {
    await s.port.patch!("DaemonSet", "monitoring", "node-exporter", {
      spec: { updateStrategy: { type: "OnDelete", rollingUpdate: null } },
    });
    expect(await restartDaemonset.check(s.ctx, t, {})).toMatchObject({ ok: false, failure: "precondition" });
  });
});
