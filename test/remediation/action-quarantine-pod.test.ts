import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  QUARANTINE_POLICY,
  QUARANTINED,
  quarantinePod,
} from "../../shared/remediation/actions/quarantine-pod.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

describe("quarantine_pod on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const cartPods = async () =>
    (await s.port.list("Pod", "shop")).filter((p) => p.metadata.labels?.app === "cart");

  it("refuses a missing pod", async () => {
    expect(quarantinePod.params.safeParse({ reason: "scan", delete: true }).success).toBe(false);
    expect(
      await quarantinePod.check(s.ctx, { kind: "Pod", namespace: "shop", name: "nope" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
  });

  it("takes one cart pod out of its Service, isolates only it, gets a replacement, and undoes", async () => {
    const [victim, other] = await cartPods();
    const t = { kind: "Pod", namespace: "shop", name: victim!.metadata.name };
    const check = await quarantinePod.check(s.ctx, t, {});
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain("Service(s) cart");
    const result = await quarantinePod.execute(s.ctx, t, { reason: "outbound scan" });
    expect(result.created).toEqual([`NetworkPolicy/shop/${QUARANTINE_POLICY}`]);
    s.advance(10);
    expect(await quarantinePod.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    const pod = await s.port.get("Pod", "shop", t.name);
    expect(pod?.metadata.labels).toMatchObject({ [QUARANTINED]: "true" });
    expect(pod?.metadata.labels?.app).toBeUndefined();
    // Blast radius: the policy selects only quarantined pods; the sibling keeps serving.
    const policy = await s.port.get("NetworkPolicy", "shop", QUARANTINE_POLICY);
    expect(policy?.spec).toEqual({
      podSelector: { matchLabels: { [QUARANTINED]: "true" } },
      policyTypes: ["Ingress", "Egress"],
    });
    const serving = await cartPods();
    expect(serving).toHaveLength(2);
    expect(serving.map((p) => p.metadata.name)).toContain(other!.metadata.name);
    expect(serving.every((p) => p.metadata.labels?.[QUARANTINED] === undefined)).toBe(true);
    const slices = await s.port.list("EndpointSlice", "shop");
    expect(JSON.stringify(slices)).not.toContain(t.name);
    expect(await quarantinePod.check(s.ctx, t, {})).toMatchObject({ ok: false, failure: "precondition" });
    await quarantinePod.undo!(s.ctx, t, result);
    const restored = await s.port.get("Pod", "shop", t.name);
    expect(restored?.metadata.labels?.app).toBe("cart");
    expect(restored?.metadata.labels?.[QUARANTINED]).toBeUndefined();
    expect(await s.port.get("NetworkPolicy", "shop", QUARANTINE_POLICY)).toBeUndefined();
  });
});
