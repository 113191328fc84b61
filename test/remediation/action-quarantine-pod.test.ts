// quarantine_pod on the sandbox: with Cilium's CRDs (the sandbox installs them) a clusterwide deny
// policy; owner scope; the ttl annotation; without the CRDs the NetworkPolicy fallback and its
// warning; undo in each case.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NP_LEAK_WARNING,
  QUARANTINE_EXPIRES,
  QUARANTINE_MODE,
  QUARANTINE_POLICY,
  QUARANTINED,
  STRICT_QUARANTINE_POLICY,
  quarantinePod,
} from "../../shared/remediation/actions/quarantine-pod.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const CCNP = "CiliumClusterwideNetworkPolicy";
const params = (p: Record<string, unknown> = {}) => quarantinePod.params.parse(p);

describe("quarantine_pod on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const podsOf = async (app: string) =>
    (await s.port.list("Pod", "shop")).filter((p) => p.metadata.labels?.app === app);

  it("validates its parameters and refuses a missing pod", async () => {
    expect(quarantinePod.params.safeParse({ reason: "scan", delete: true }).success).toBe(false);
    expect(params()).toEqual({ scope: "pod", preserveProbes: true });
    expect(quarantinePod.params.safeParse({ ttl: "4h" }).success).toBe(true);
    expect(quarantinePod.params.safeParse({ ttl: "4 hours" }).success).toBe(false);
    expect(quarantinePod.params.safeParse({ ttl: "90d" }).success).toBe(false);
    expect(quarantinePod.params.safeParse({ scope: "namespace" }).success).toBe(false);
    expect(
      await quarantinePod.check(s.ctx, { kind: "Pod", namespace: "shop", name: "nope" }, params()),
    ).toMatchObject({ ok: false, failure: "target_missing" });
  });

  it("with Cilium: takes one cart pod out of its Service under a clusterwide deny policy, with a ttl, and undoes", async () => {
    const [victim, other] = await podsOf("cart");
    const t = { kind: "Pod", namespace: "shop", name: victim!.metadata.name };
    const p = params({ reason: "outbound scan", ttl: "4h" });
    const check = await quarantinePod.check(s.ctx, t, p);
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain("Service(s) cart");
    expect(check.detail).toContain(`${CCNP} ${QUARANTINE_POLICY} (deny rules)`);
    const now = s.ctx.clock.now().getTime();
    const result = await quarantinePod.execute(s.ctx, t, p);
    expect(result.created).toEqual([`${CCNP}/${QUARANTINE_POLICY}`]);
    expect(result.changes.join("\n")).not.toContain("warning");
    s.advance(10);
    expect(await quarantinePod.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });

    const pod = await s.port.get("Pod", "shop", t.name);
    expect(pod?.metadata.labels).toMatchObject({ [QUARANTINED]: "true" });
    expect(pod?.metadata.labels?.app).toBeUndefined();
    expect(pod?.metadata.labels?.[QUARANTINE_MODE]).toBeUndefined();
    expect(pod?.metadata.annotations).toMatchObject({
      "aiops.prophet.io/quarantine-reason": "outbound scan",
      "aiops.prophet.io/quarantine-labels": JSON.stringify({ app: "cart" }),
      [QUARANTINE_EXPIRES]: new Date(now + 4 * 3600_000).toISOString(),
    });

    // Deny rules for the label; the node (probes) and kube-dns (DNS) are kept.
    const policy = await s.port.get(CCNP, undefined, QUARANTINE_POLICY);
    expect(policy?.apiVersion).toBe("cilium.io/v2");
    expect(policy?.metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "prophet" });
    const spec = policy?.spec as Record<string, unknown>;
    expect(spec.endpointSelector).toEqual({ matchLabels: { [`k8s:${QUARANTINED}`]: "true" } });
    expect(JSON.stringify(spec.ingressDeny)).not.toContain('"host"');
    expect(spec.ingressDeny).toContainEqual({ fromEntities: ["world", "remote-node"] });
    expect(spec.egressDeny).toContainEqual({
      toEntities: ["world", "host", "remote-node", "kube-apiserver"],
    });
    expect(spec.ingress).toEqual([{ fromEntities: ["host"] }]);
    expect(JSON.stringify(spec.egress)).toContain("kube-dns");
    expect(await s.port.get("NetworkPolicy", "shop", QUARANTINE_POLICY)).toBeUndefined();

    // Blast radius: the sibling keeps serving, the quarantined pod left the endpoints.
    const serving = await podsOf("cart");
    expect(serving).toHaveLength(2);
    expect(serving.map((p) => p.metadata.name)).toContain(other!.metadata.name);
    expect(serving.every((p) => p.metadata.labels?.[QUARANTINED] === undefined)).toBe(true);
    expect(JSON.stringify(await s.port.list("EndpointSlice", "shop"))).not.toContain(t.name);
    expect(await quarantinePod.check(s.ctx, t, p)).toMatchObject({ ok: false, failure: "precondition" });

    await quarantinePod.undo!(s.ctx, t, result);
    const restored = await s.port.get("Pod", "shop", t.name);
    expect(restored?.metadata.labels?.app).toBe("cart");
    expect(restored?.metadata.labels?.[QUARANTINED]).toBeUndefined();
    expect(restored?.metadata.annotations?.[QUARANTINE_EXPIRES]).toBeUndefined();
    expect(await s.port.get(CCNP, undefined, QUARANTINE_POLICY)).toBeUndefined();
  });

  it("with scope owner and preserveProbes false: every pod of the workload under a strict deny-all", async () => {
    const before = await podsOf("catalog");
    expect(before.length).toBeGreaterThan(1);
    const t = { kind: "Pod", namespace: "shop", name: before[0]!.metadata.name };
    const p = params({ scope: "owner", preserveProbes: false });
    expect((await quarantinePod.check(s.ctx, t, p)).detail).toContain(
      `${before.length} pods of the workload quarantined`,
    );
    const result = await quarantinePod.execute(s.ctx, t, p);
    expect(result.created).toEqual([`${CCNP}/${STRICT_QUARANTINE_POLICY}`]);
    expect(result.changes.filter((c) => c.startsWith("Pod "))).toHaveLength(before.length);
    const strict = await s.port.get(CCNP, undefined, STRICT_QUARANTINE_POLICY);
    expect(strict?.spec).toEqual({
      endpointSelector: {
        matchLabels: { [`k8s:${QUARANTINED}`]: "true", [`k8s:${QUARANTINE_MODE}`]: "strict" },
      },
      ingressDeny: [{ fromEntities: ["all"] }],
      egressDeny: [{ toEntities: ["all"] }],
    });
    s.advance(10);
    expect(await quarantinePod.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    for (const old of before) {
      const pod = await s.port.get("Pod", "shop", old.metadata.name);
      expect(pod?.metadata.labels).toMatchObject({ [QUARANTINED]: "true", [QUARANTINE_MODE]: "strict" });
    }
    // The Deployment replaced them all; none of the replacements is quarantined.
    const serving = await podsOf("catalog");
    expect(serving).toHaveLength(before.length);
    expect(serving.some((p) => before.some((b) => b.metadata.name === p.metadata.name))).toBe(false);

    await quarantinePod.undo!(s.ctx, t, result);
    for (const old of before) {
      const pod = await s.port.get("Pod", "shop", old.metadata.name);
      expect(pod?.metadata.labels?.app).toBe("catalog");
      expect(pod?.metadata.labels?.[QUARANTINED]).toBeUndefined();
      expect(pod?.metadata.labels?.[QUARANTINE_MODE]).toBeUndefined();
    }
    expect(await s.port.get(CCNP, undefined, STRICT_QUARANTINE_POLICY)).toBeUndefined();
  });

  it("keeps the shared policy while another pod is still quarantined", async () => {
    const [a, b] = await podsOf("frontend");
    const ta = { kind: "Pod", namespace: "shop", name: a!.metadata.name };
    const tb = { kind: "Pod", namespace: "shop", name: b!.metadata.name };
    const ra = await quarantinePod.execute(s.ctx, ta, params());
    const rb = await quarantinePod.execute(s.ctx, tb, params());
    expect(rb.created).toEqual([]);
    await quarantinePod.undo!(s.ctx, ta, ra);
    expect(await s.port.get(CCNP, undefined, QUARANTINE_POLICY)).toBeDefined();
    await quarantinePod.undo!(s.ctx, tb, rb);
    expect(await s.port.get(CCNP, undefined, QUARANTINE_POLICY)).toBeUndefined();
  });

  it("releases from the pod's own annotation when the remediation's result is lost", async () => {
    const [victim] = await podsOf("cart");
    const t = { kind: "Pod", namespace: "shop", name: victim!.metadata.name };
    await quarantinePod.execute(s.ctx, t, params({ ttl: "1h" }));
    const released = await quarantinePod.undo!(s.ctx, t, { changes: [] });
    expect(released.changes).toEqual([
      `Pod shop/${t.name} released, labels restored`,
      `deleted ${CCNP} ${QUARANTINE_POLICY}`,
    ]);
    const pod = await s.port.get("Pod", "shop", t.name);
    expect(pod?.metadata.labels?.app).toBe("cart");
    expect(pod?.metadata.annotations?.[QUARANTINE_EXPIRES]).toBeUndefined();
    expect((await quarantinePod.undo!(s.ctx, t, { changes: [] })).changes).toEqual([]);
  });

  it("without Cilium: falls back to a NetworkPolicy, says allows can leak, and undoes", async () => {
    expect(
      await s.port.delete!(
        "CustomResourceDefinition",
        undefined,
        "ciliumclusterwidenetworkpolicies.cilium.io",
      ),
    ).toBe(true);
    const [victim] = await podsOf("cart");
    const t = { kind: "Pod", namespace: "shop", name: victim!.metadata.name };
    const p = params();
    const check = await quarantinePod.check(s.ctx, t, p);
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain(NP_LEAK_WARNING);
    const result = await quarantinePod.execute(s.ctx, t, p);
    expect(result.created).toEqual([`NetworkPolicy/shop/${QUARANTINE_POLICY}`]);
    expect(result.changes).toContain(
      `warning: no Cilium CRDs, fell back to a NetworkPolicy; ${NP_LEAK_WARNING}`,
    );
    const policy = await s.port.get("NetworkPolicy", "shop", QUARANTINE_POLICY);
    expect(policy?.spec).toEqual({
      podSelector: {
        matchLabels: { [QUARANTINED]: "true" },
        matchExpressions: [{ key: QUARANTINE_MODE, operator: "DoesNotExist" }],
      },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
    s.advance(10);
    const verified = await quarantinePod.verify(s.ctx, t, p, result);
    expect(verified).toMatchObject({ ok: true });
    expect(verified.detail).toContain(NP_LEAK_WARNING);
    await quarantinePod.undo!(s.ctx, t, result);
    expect((await s.port.get("Pod", "shop", t.name))?.metadata.labels?.app).toBe("cart");
    expect(await s.port.get("NetworkPolicy", "shop", QUARANTINE_POLICY)).toBeUndefined();
  });
});
