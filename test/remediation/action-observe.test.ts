// The read-only actions on the sandbox: collect_diagnostics, audit_logs and notify_only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLogs } from "../../shared/remediation/actions/audit-logs.js";
import { collectDiagnostics } from "../../shared/remediation/actions/collect-diagnostics.js";
import { notifyOnly } from "../../shared/remediation/actions/notify-only.js";
import { ArtifactBudget, artifactBudgetBytes } from "../../shared/remediation/actions/observation.js";
import { scaleDeployment } from "../../shared/remediation/actions/scale-deployment.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const cart = { kind: "Deployment", namespace: "shop", name: "cart" };
const size = (a: { name: string; content: string }[] = []) =>
  a.reduce((n, x) => n + Buffer.byteLength(x.name) + Buffer.byteLength(x.content), 0);

describe("read-only actions on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
    s.sb.inject({ kind: "crash-loop", target: "shop/cart" });
    s.advance(120);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("are marked read-only and need no approval", () => {
    for (const a of [auditLogs, collectDiagnostics, notifyOnly]) {
      expect(a.readOnly).toBe(true);
      expect(a.requiresApproval).toBe(false);
      expect(a.undo).toBeUndefined();
    }
    expect(notifyOnly.targetKinds).toEqual(["*"]);
  });

  it("collect_diagnostics gathers describe, events and current and previous logs of a crashing workload", async () => {
    expect(
      await collectDiagnostics.check(s.ctx, { ...cart, name: "nope" }, collectDiagnostics.params.parse({})),
    ).toMatchObject({ ok: false, failure: "target_missing" });
    expect(collectDiagnostics.params.safeParse({ tailLines: 100000 }).success).toBe(false);
    const p = collectDiagnostics.params.parse({ tailLines: 20 });
    expect(await collectDiagnostics.check(s.ctx, cart, p)).toMatchObject({ ok: true });
    const before = await s.port.get("Deployment", "shop", "cart");
    const r = await collectDiagnostics.execute(s.ctx, cart, p);
    const names = (r.artifacts ?? []).map((a) => a.name);
    expect(names).toContain("describe.txt");
    expect(names).toContain("events.txt");
    expect(names.some((n) => /^logs\/cart-.*\/cart\.previous\.log$/.test(n))).toBe(true);
    const describeTxt = r.artifacts!.find((a) => a.name === "describe.txt")!.content;
    expect(describeTxt).toContain("Deployment shop/cart");
    expect(describeTxt).toMatch(/Pod shop\/cart-/);
    expect(describeTxt).toMatch(/restarts [1-9]/);
    expect(r.artifacts!.find((a) => a.name === "events.txt")!.content).toMatch(
      /BackOff|Unhealthy|Killing|Started/,
    );
    for (const a of r.artifacts!.filter((x) => x.name.endsWith(".log")))
      expect(a.content.trimEnd().split("\n").length).toBeLessThanOrEqual(20);
    expect(size(r.artifacts)).toBeLessThanOrEqual(artifactBudgetBytes);
    expect(await collectDiagnostics.verify(s.ctx, cart, p, r)).toMatchObject({ ok: true });
    // Nothing changed.
    expect((await s.port.get("Deployment", "shop", "cart"))?.metadata).toEqual(before?.metadata);
  });

  it("collect_diagnostics never includes Secret data", async () => {
    const r = await collectDiagnostics.execute(s.ctx, cart, collectDiagnostics.params.parse({}));
    const store = s.sb.api.store;
    const stored = store.get(store.resource("secrets"), "shop", "cart-secret");
    const encoded = String((stored?.data as Record<string, string>).password);
    const text = r.artifacts!.map((a) => a.content).join("\n");
    expect(text).not.toContain(encoded);
    expect(text).not.toContain(Buffer.from(encoded, "base64").toString());
  });

  it("keeps artifacts within the byte budget, keeping the end of the text", () => {
    const b = new ArtifactBudget(4096);
    expect(b.add("a.txt", "x".repeat(1000))).toBe(true);
    expect(b.add("b.log", `${"old\n".repeat(2000)}newest line`)).toBe(false);
    expect(b.truncated).toBe(true);
    expect(b.used).toBeLessThanOrEqual(4096);
    expect(b.artifacts[1]?.content).toMatch(/truncated[\s\S]*newest line$/);
    expect(b.add("c.txt", "more")).toBe(false);
  });

  it("audit_logs puts revisions, Prophet's changes and events on one timeline", async () => {
    const frontend = { kind: "Deployment", namespace: "shop", name: "catalog" };
    await scaleDeployment.execute({ ...s.ctx, remediationId: "rem-audit" }, frontend, {
      replicas: 3,
      allowZero: false,
    });
    await s.port.patch!(
      "Deployment",
      "shop",
      "catalog",
      {
        spec: {
          template: {
            spec: { containers: [{ name: "catalog", image: "ghcr.io/prophet-demo/catalog:1.4.2" }] },
          },
        },
      },
      { type: "strategic" },
    );
    s.advance(120);
    const p = auditLogs.params.parse({});
    expect(await auditLogs.check(s.ctx, frontend, p)).toMatchObject({ ok: true });
    expect(
      await auditLogs.check(s.ctx, { kind: "ConfigMap", namespace: "shop", name: "x" }, p),
    ).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    const r = await auditLogs.execute(s.ctx, frontend, p);
    const text = r.artifacts?.find((a) => a.name === "audit.txt")?.content ?? "";
    expect(text).toContain("aiops.prophet.io/remediation-id=rem-audit");
    expect(text).toMatch(/revision 1 ReplicaSet\/catalog-.*catalog:1\.4\.1/);
    expect(text).toMatch(/revision 2 ReplicaSet\/catalog-.*catalog:1\.4\.2/);
    expect(text).toMatch(/Pod\/catalog-.* Scheduled: Successfully assigned/);
    const times = text
      .split("\n")
      .filter((l) => /^\d{4}-/.test(l))
      .map((l) => l.split(" ")[0]!);
    expect(times.length).toBeGreaterThan(2);
    expect([...times].sort()).toEqual(times);
    expect(await auditLogs.verify(s.ctx, frontend, p, r)).toMatchObject({ ok: true });
    // A short window leaves the warm-up rollout out.
    const recent = await auditLogs.execute(s.ctx, frontend, auditLogs.params.parse({ sinceMinutes: 1 }));
    expect(recent.artifacts?.[0]?.content).not.toMatch(/revision 1 ReplicaSet/);
  });

  it("audit_logs shows a restart recorded on the pod template", async () => {
    const t = { kind: "DaemonSet", namespace: "monitoring", name: "node-exporter" };
    await s.port.patch!("DaemonSet", "monitoring", "node-exporter", {
      spec: {
        template: {
          metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-01-05T08:10:00Z" } },
        },
      },
    });
    const r = await auditLogs.execute(s.ctx, t, auditLogs.params.parse({}));
    const text = r.artifacts?.[0]?.content ?? "";
    expect(text).toContain("template kubectl.kubernetes.io/restartedAt=2026-01-05T08:10:00Z");
  });

  it("notify_only changes nothing and returns the notification line", async () => {
    expect(notifyOnly.params.safeParse({ message: "" }).success).toBe(false);
    expect(notifyOnly.params.safeParse({ message: "x".repeat(501) }).success).toBe(false);
    expect(notifyOnly.params.safeParse({ message: "hi", channel: "#ops" }).success).toBe(false);
    const p = notifyOnly.params.parse({
      message: "shop/cart crash-loops since 08:02; config change suspected",
    });
    const t = { kind: "Deployment", namespace: "shop", name: "cart" };
    expect(await notifyOnly.check(s.ctx, t, p)).toEqual({ ok: true });
    const r = await notifyOnly.execute(s.ctx, t, p);
    expect(r.changes).toEqual(["notified: shop/cart crash-loops since 08:02; config change suspected"]);
    expect(r.specHashBefore).toBeUndefined();
    expect(await notifyOnly.verify(s.ctx, t, p, r)).toMatchObject({ ok: true });
  });
});
