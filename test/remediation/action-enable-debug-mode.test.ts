import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEBUG_EXPIRES_AT,
  enableDebugMode,
  expiredDebugModes,
} from "../../shared/remediation/actions/enable-debug-mode.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "Deployment", namespace: "shop", name: "catalog" };
const env = async (s: ActionSandbox) =>
  (
    (await s.port.get("Deployment", "shop", "catalog"))?.spec as {
      template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } };
    }
  ).template.spec.containers[0]!.env ?? [];

describe("enable_debug_mode on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const parse = (p: unknown) => enableDebugMode.params.parse(p);

  it("caps the TTL and validates the variable name", () => {
    expect(parse({})).toEqual({ env: "DEBUG", value: "true", ttlSeconds: 1800 });
    expect(enableDebugMode.params.safeParse({ ttlSeconds: 86_401 }).success).toBe(false);
    expect(enableDebugMode.params.safeParse({ env: "BAD NAME" }).success).toBe(false);
  });

  it("refuses a missing container", async () => {
    expect(await enableDebugMode.check(s.ctx, t, parse({ container: "sidecar" }))).toMatchObject({
      ok: false,
      failure: "precondition",
    });
  });

  it("sets DEBUG=true with an expiry; expiredDebugModes finds it once the TTL passed; undo removes it", async () => {
    const p = parse({ ttlSeconds: 600 });
    const result = await enableDebugMode.execute(s.ctx, t, p);
    expect(await env(s)).toContainEqual({ name: "DEBUG", value: "true" });
    const d = await s.port.get("Deployment", "shop", "catalog");
    const expires = d?.metadata.annotations?.[DEBUG_EXPIRES_AT];
    expect(Date.parse(expires ?? "") - s.ctx.clock.now().getTime()).toBe(600_000);
    expect(await enableDebugMode.check(s.ctx, t, p)).toMatchObject({ ok: false, failure: "precondition" });
    s.advance(60);
    expect(await enableDebugMode.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    expect(await expiredDebugModes(s.ctx, "shop")).toEqual([]);
    s.advance(600);
    const expired = await expiredDebugModes(s.ctx);
    expect(expired.map((e) => e.target)).toEqual([t]);
    await enableDebugMode.undo!(s.ctx, expired[0]!.target, expired[0]!.result);
    expect((await env(s)).map((e) => e.name)).not.toContain("DEBUG");
    expect(
      (await s.port.get("Deployment", "shop", "catalog"))?.metadata.annotations?.[DEBUG_EXPIRES_AT],
    ).toBeUndefined();
    expect(await expiredDebugModes(s.ctx)).toEqual([]);
  });

  it("overrides an env var read from a ConfigMap and restores it on undo", async () => {
    const cart = { kind: "Deployment", namespace: "shop", name: "cart" };
    const p = parse({ env: "LOG_LEVEL", value: "debug" });
    const result = await enableDebugMode.execute(s.ctx, cart, p);
    const logLevel = async () =>
      JSON.stringify((await s.port.get("Deployment", "shop", "cart"))?.spec).match(
        /\{"name":"LOG_LEVEL"[^}]*\}+/,
      )?.[0];
    expect(await logLevel()).toBe('{"name":"LOG_LEVEL","value":"debug"}');
    await enableDebugMode.undo!(s.ctx, cart, result);
    expect(await logLevel()).toContain("configMapKeyRef");
    expect(await logLevel()).not.toContain("debug");
  });
});
