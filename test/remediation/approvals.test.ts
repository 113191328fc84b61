// Human-in-loop through the local host: a proposal with an expiring, single-use HMAC link; a GET
// only shows it; a wrong token is refused; approving re-checks the gate and executes; the link
// cannot be used twice; an unanswered proposal expires; the operator API signs its own token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalKey, approvalToken } from "../../shared/remediation/approvals.js";
import { getRemediation, type Remediation } from "../../shared/remediation/store.js";
import { freshPostgresUrl } from "../support/stores.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "./pipeline-harness.js";

let p: Pipeline;

beforeAll(async () => {
  const url = await freshPostgresUrl();
  p = await startPipeline({
    seed: 21,
    ...(url ? { databaseUrl: url } : {}),
    policies: [autonomousPolicy({ approvalMode: "human-in-loop", approvalTtlSeconds: 600 })],
  });
});
afterAll(async () => {
  await p?.close();
});

async function proposal(): Promise<Remediation | undefined> {
  return (await p.remediations()).find((r) => r.status === "proposed");
}

async function tokenOf(rem: Remediation): Promise<string> {
  return approvalToken(await approvalKey(p.host.deps.store), rem.id, rem.expiresAt!);
}

const post = (path: string, body: unknown) =>
  fetch(`${p.host.url}${path}`, { method: "POST", body: JSON.stringify(body) });

describe("approvals", () => {
  let rem: Remediation;

  it("proposes instead of acting, with the link in the event", async () => {
    p.sb.inject({ kind: "bad-image", target: "shop/cart" });
    expect(await p.advanceUntil(900, async () => (await proposal()) !== undefined)).toBeDefined();
    rem = (await proposal())!;
    expect(rem.action).toBe("rollback_deployment");
    const { rows } = await p.host.deps.store.query<{
      outputs: { type: string; data: { approval?: { url?: string } } }[];
    }>("SELECT outputs FROM processed_events WHERE function_name = 'llm-remediation'");
    const proposed = rows
      .flatMap((r) => r.outputs ?? [])
      .find((e) => e.type === "io.prophet.remediation.proposed")!;
    expect(proposed.data.approval?.url).toBe(`${p.host.url}/approvals/${rem.id}?token=${await tokenOf(rem)}`);
    const listed = (await (await fetch(`${p.host.url}/api/approvals`)).json()) as { items: { id: string }[] };
    expect(listed.items.map((i) => i.id)).toEqual([rem.id]);
  });

  it("shows the proposal on GET without changing it", async () => {
    const res = await fetch(`${p.host.url}/approvals/${rem.id}?token=${await tokenOf(rem)}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("rollback_deployment");
    expect(html).toContain('name="verdict" value="approve"');
    expect((await getRemediation(p.host.deps.store, rem.id))!.status).toBe("proposed");
  });

  it("refuses a forged token", async () => {
    const res = await post(`/approvals/${rem.id}`, {
      verdict: "approve",
      token: "A".repeat(43),
      actor: "mallory",
    });
    expect(res.status).toBe(403);
    expect((await getRemediation(p.host.deps.store, rem.id))!.status).toBe("proposed");
  });

  it("approves once: the gate is re-checked and the rollback runs; the link is then spent", async () => {
    const token = await tokenOf(rem);
    const res = await post(`/approvals/${rem.id}`, { verdict: "approve", token, actor: "alice" });
    expect(res.status).toBe(200);
    const after = (await getRemediation(p.host.deps.store, rem.id))!;
    expect(after).toMatchObject({ status: "executed", decidedBy: "user:alice" });
    const again = await post(`/approvals/${rem.id}`, { verdict: "reject", token, actor: "bob" });
    expect(again.status).toBe(409);
    const steps = await p.host.deps.store.query<{ action: string; actor: string }>(
      "SELECT action, actor FROM audit_log WHERE details->>'remediationId' = $1 ORDER BY seq",
      [rem.id],
    );
    expect(steps.rows.map((r) => r.action)).toEqual([
      "remediation.decided",
      "remediation.gated",
      "remediation.proposed",
      "remediation.approved",
      "remediation.regated",
      "remediation.executed",
    ]);
    expect(steps.rows.find((r) => r.action === "remediation.approved")!.actor).toBe("user:alice");
  });

  it("expires a proposal nobody answers, and the operator API cannot approve it afterwards", async () => {
    await p.advance(300); // the rollback stabilises; the cart alert resolves
    p.sb.inject({ kind: "bad-image", target: "shop/catalog" });
    expect(
      await p.advanceUntil(900, async () => (await proposal())?.target?.name === "catalog"),
    ).toBeDefined();
    const pending = (await proposal())!;
    await p.advance(660);
    const expired = (await getRemediation(p.host.deps.store, pending.id))!;
    expect(expired).toMatchObject({ status: "expired", reason: "expired" });
    const res = await post(`/api/approvals/${pending.id}/approve`, { actor: "cli:ops" });
    expect(res.status).toBe(409);
  });

  it("the operator API (prophet approvals reject) signs its own token", async () => {
    p.sb.inject({ kind: "bad-image", target: "shop/recommender" });
    expect(
      await p.advanceUntil(900, async () => (await proposal())?.target?.name === "recommender"),
    ).toBeDefined();
    const next = (await proposal())!;
    const res = await post(`/api/approvals/${next.id}/reject`, { actor: "cli:ops", comment: "not now" });
    expect(res.status).toBe(200);
    expect((await getRemediation(p.host.deps.store, next.id))!).toMatchObject({
      status: "rejected",
      decidedBy: "cli:ops",
    });
  });
});
