import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restartPod } from "../../shared/remediation/actions/restart-pod.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const podOf = async (s: ActionSandbox, ns: string, app: string) =>
  (await s.port.list("Pod", ns)).filter((p) => p.metadata.labels?.app === app);

describe("restart_pod on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a missing pod, a bare pod, and the only ready pod of its controller", async () => {
    expect(restartPod.params.safeParse({ grace: 0 }).success).toBe(false);
    expect(await restartPod.check(s.ctx, { kind: "Pod", namespace: "shop", name: "nope" }, {})).toMatchObject(
      {
        ok: false,
        failure: "target_missing",
      },
    );
    await s.port.create!("Pod", "shop", {
      kind: "Pod",
      metadata: { name: "debug-shell", namespace: "shop" },
      spec: { containers: [{ name: "sh", image: "busybox:1.36" }] },
    });
    const bare = await restartPod.check(s.ctx, { kind: "Pod", namespace: "shop", name: "debug-shell" }, {});
    expect(bare).toMatchObject({ ok: false, failure: "precondition" });
    expect(bare.ok || bare.detail).toContain("would not come back");
    const [only] = await podOf(s, "shop", "recommender");
    const single = await restartPod.check(
      s.ctx,
      { kind: "Pod", namespace: "shop", name: only!.metadata.name },
      {},
    );
    expect(single).toMatchObject({ ok: false, failure: "blast_radius" });
  });

  it("deletes a cart pod and verifies once its replacement is ready", async () => {
    const [victim] = await podOf(s, "shop", "cart");
    const t = { kind: "Pod", namespace: "shop", name: victim!.metadata.name };
    expect(await restartPod.check(s.ctx, t, {})).toMatchObject({ ok: true });
    const result = await restartPod.execute(s.ctx, t, {});
    expect(result.changes[0]).toContain(`deleted Pod shop/${t.name}`);
    expect(restartPod.undo).toBeUndefined();
    expect(await restartPod.verify(s.ctx, t, {}, result)).toMatchObject({ ok: false });
    s.advance(30);
    const verified = await restartPod.verify(s.ctx, t, {}, result);
    expect(verified).toMatchObject({ ok: true });
    const now = await podOf(s, "shop", "cart");
    expect(now).toHaveLength(2);
    expect(now.map((p) => p.metadata.name)).not.toContain(t.name);
  });
});
