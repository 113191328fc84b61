import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROTATES, rotateSecrets } from "../../shared/remediation/actions/rotate-secrets.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "Deployment", namespace: "shop", name: "cart" };
const secretRef = async (s: ActionSandbox) =>
  JSON.stringify((await s.port.get("Deployment", "shop", "cart"))?.spec).match(
    /"secretKeyRef":\{"name":"([^"]+)"/,
  )?.[1];

describe("rotate_secrets on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a Secret the workload does not use, and a rotation with no new version", async () => {
    expect(rotateSecrets.requiresApproval).toBe(true);
    expect(rotateSecrets.params.safeParse({ secret: "cart-secret", value: "hunter2" }).success).toBe(false);
    const unused = await rotateSecrets.check(s.ctx, t, { secret: "checkout-secret" });
    expect(unused).toMatchObject({ ok: false, failure: "precondition" });
    expect(unused.detail).toContain("does not reference Secret checkout-secret");
    const none = await rotateSecrets.check(s.ctx, t, { secret: "cart-secret" });
    expect(none).toMatchObject({ ok: false, failure: "precondition" });
    expect(none.detail).toContain(`${ROTATES}=cart-secret`);
  });

  it("repoints cart to the newest labelled version, rolls out, verifies and undoes", async () => {
    const version = (name: string) => ({
      kind: "Secret",
      metadata: { name, namespace: "shop", labels: { [ROTATES]: "cart-secret" } },
      type: "Opaque",
      data: { password: Buffer.from(`${name}-pw`).toString("base64") },
    });
    await s.port.create!("Secret", "shop", version("cart-secret-v2"));
    s.advance(5);
    await s.port.create!("Secret", "shop", version("cart-secret-v3"));
    const p = { secret: "cart-secret" };
    const check = await rotateSecrets.check(s.ctx, t, p);
    expect(check).toMatchObject({ ok: true, detail: "1 reference(s) cart-secret → cart-secret-v3" });
    const result = await rotateSecrets.execute(s.ctx, t, p);
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    expect(await secretRef(s)).toBe("cart-secret-v3");
    s.advance(90);
    expect(await rotateSecrets.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    await rotateSecrets.undo!(s.ctx, t, result);
    expect(await secretRef(s)).toBe("cart-secret");
    expect(await rotateSecrets.verify(s.ctx, t, p, result)).toMatchObject({ ok: false });
  });
});
