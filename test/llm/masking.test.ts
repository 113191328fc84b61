// Masking as a specification: names become keyed, deterministic tokens; the answer comes back
// with the names; credentials are scrubbed and never restored.
import { describe, expect, it } from "vitest";
import { createMasker, mapStrings, scrubSecrets } from "../../shared/llm/masking.js";

const key = "test-mask-key-0123456789abcdef";

describe("masking", () => {
  it("gives a name the same token for the same key, and another under another key", () => {
    const a = createMasker(key);
    const b = createMasker(key);
    const other = createMasker("another-key-0123456789abcdef");
    expect(a.token("Namespace", "shop")).toMatch(/^ns-[0-9a-f]{6}$/);
    expect(a.token("Namespace", "shop")).toBe(b.token("Namespace", "shop"));
    expect(other.token("Namespace", "shop")).not.toBe(a.token("Namespace", "shop"));
    expect(a.token("Pod", "cart-7d9f-abcde")).toMatch(/^pod-[0-9a-f]{6}$/);
  });

  it("masks names it knows and names it recognises by shape, and unmasks them", () => {
    const m = createMasker(key);
    m.token("Namespace", "shop");
    m.token("Deployment", "cart");
    const text =
      "Back-off restarting failed container cart-api in pod cart-7d9f6c-x2x9z_shop(5f0c1b2e-9a4e-4c1e-8f1e-3b2a1c0d9e8f); " +
      "image registry.shop.example:5000/team/cart:1.4.2 on node ip-10-0-3-17.eu-west-1.compute.internal (10.0.3.17), " +
      'selector app=cart-web, Deployment/shop/cart, secret "db-credentials" not found, host fe80::1c2b:3aff:fe4d:5e6f';
    const masked = m.maskText(text);
    for (const name of [
      "cart-api",
      "cart-7d9f6c-x2x9z",
      "shop",
      "cart",
      "5f0c1b2e-9a4e-4c1e-8f1e-3b2a1c0d9e8f",
      "registry.shop.example",
      "team/cart",
      "ip-10-0-3-17",
      "10.0.3.17",
      "cart-web",
      "db-credentials",
      "fe80::1c2b",
    ])
      expect(masked).not.toContain(name);
    expect(masked).toContain("Back-off restarting failed container ctr-");
    expect(masked).toContain(`Deployment/${m.token("Namespace", "shop")}/${m.token("Deployment", "cart")}`);
    expect(m.unmaskText(masked)).toBe(text);
  });

  it("masks long names rather than scrubbing them as if they were keys", () => {
    const m = createMasker(key);
    const pod = "cert-manager-cainjector-7d9f8b5c6d-x2x9z-canary-eu-west";
    const masked = m.maskText(`pod ${pod} restarted; secret: dGhpcyBpcyBhIHNlY3JldCBrZXkgZm9yIHRlc3Rz1`);
    expect(masked).toMatch(/^pod pod-[0-9a-f]{6} restarted; secret: \[redacted\]$/);
    expect(m.unmaskText(masked)).toContain(pod);
  });

  it("keeps the vocabulary a model needs: reasons, quantities, well-known keys", () => {
    const m = createMasker(key);
    const text =
      "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, " +
      "2 Insufficient memory; OOMKilled at 512Mi (limit 2Gi), exit code 137, restarted 22 times (x300); spec.ingressClassName is unset";
    expect(m.maskText(text)).toBe(text);
  });

  it("scrubs credentials before masking, and never restores them", () => {
    const lines = [
      "connecting to postgres://orders:hunter2@db:5432/orders",
      "password=s3cr3t-Pa55 token: 9f8e7d6c5b4a",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
      'api_key="sk-proj-abcdefghijklmnopqrstuv" aws AKIAIOSFODNN7EXAMPLE',
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
      "export DB_PASSWORD='correct horse' && run --api-key abc123xyz --client-secret=q9w8e7",
    ];
    const m = createMasker(key);
    const out = lines.map((l) => m.unmaskText(m.maskText(l))).join("\n");
    for (const secret of [
      "hunter2",
      "s3cr3t-Pa55",
      "9f8e7d6c5b4a",
      "eyJhbGciOiJIUzI1NiJ9",
      "sk-proj-",
      "AKIAIOSFODNN7EXAMPLE",
      "MIIEowIBAAKCAQEA",
      "horse",
      "abc123xyz",
      "q9w8e7",
    ])
      expect(out).not.toContain(secret);
    expect(scrubSecrets("password=hunter2")).toBe("password=[redacted]");
  });

  it("unmasks every string of an answer, and leaves tokens it did not issue alone", () => {
    const m = createMasker(key);
    const ns = m.token("Namespace", "shop");
    const answer = {
      summary: `all of ${ns} and ns-abcdef`,
      steps: [{ check: `look at ${ns}`, findings: [0] }],
    };
    expect(mapStrings(answer, m.unmaskText)).toEqual({
      summary: "all of shop and ns-abcdef",
      steps: [{ check: "look at shop", findings: [0] }],
    });
  });

  it("sends the caller's own snake_case words as they are, and no plain word that could be a name", () => {
    const m = createMasker(key, ["scale_deployment", "get_logs", "shop"]);
    m.token("Namespace", "shop");
    expect(m.maskText("run scale_deployment or get_logs in shop, not rotate_secrets")).toBe(
      `run scale_deployment or get_logs in ${m.token("Namespace", "shop")}, not ${m.maskText("rotate_secrets")}`,
    );
    expect(m.maskText("rotate_secrets")).not.toContain("rotate");
  });
});
