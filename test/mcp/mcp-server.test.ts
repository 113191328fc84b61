// The MCP server against a local host on the sandbox: a crash loop becomes an incident, and an
// agent (the SDK's Client over streamable HTTP) reads it through every tool, proposes a fix that
// waits for a person even under an autonomous policy, and cannot leave its token's clusters.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mcpTokensSchema } from "../../shared/mcp/access.js";
import { createNameMask } from "../../shared/mcp/mask.js";
import { getRemediation } from "../../shared/remediation/store.js";
import { listAudit } from "../../shared/store/audit.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";
import { connect, startEndpoint, type McpClient } from "./support.js";

const tokens = {
  ops: "ops-token-0123456789abcdef",
  teamA: "team-a-token-0123456789abcdef",
  teamB: "team-b-token-0123456789abcdef",
};
const tokenEnv = `ops:${tokens.ops}=*,team-a:${tokens.teamA}=local,team-b:${tokens.teamB}=other`;
const sandboxSlos = fileURLToPath(new URL("../../manifests/slos/sandbox.yaml", import.meta.url));

describe("the MCP server on the local host", () => {
  let p: Pipeline;
  let mcpUrl: string;
  let ops: McpClient;
  let incidentId: string;
  const clients: McpClient[] = [];
  const open = async (url: string, token?: string) => {
    const c = await connect(url, token);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // Autonomous, and scale_deployment needs no approval under it: the gate alone would execute.
    p = await startPipeline({
      seed: 21,
      policies: [autonomousPolicy({ allowedActions: ["scale_deployment"], cooldownSeconds: 0 })],
      env: { PROPHET_MCP_TOKENS: tokenEnv, PROPHET_SLO_FILES: sandboxSlos },
      ticks: ["remediation-assess", "slo-check", "hubble-quarantine"],
    });
    p.host.deps.flows = { ...p.host.deps.flows!, flowsUrl: `${p.sb.url}/sandbox/flows` };
    mcpUrl = `${p.host.url}/mcp`;
    p.sb.inject({ kind: "crash-loop", target: "shop/cart" });
    const took = await p.advanceUntil(900, async () => {
      const firing = await listIncidents(p.host.deps.store, { status: "firing" });
      for (const i of firing.filter((x) => x.namespace === "shop")) {
        const { rows } = await p.host.deps.store.query(
          "SELECT 1 FROM findings f JOIN diagnoses d ON d.id = f.diagnosis_id WHERE d.incident_id = $1 AND f.parent = 'Deployment/shop/cart'",
          [i.id],
        );
        if (rows.length > 0) {
          incidentId = i.id;
          return true;
        }
      }
      return false;
    });
    expect(took).toBeDefined();
    ops = await open(mcpUrl, tokens.ops);
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await p?.close();
  });

  it("refuses requests without a valid bearer token (401)", async () => {
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(mcpUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers,
        },
        body: JSON.stringify(init),
      });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/bearer token/);
    const wrong = await post({ authorization: "Bearer not-a-token-of-this-host-000" });
    expect(wrong.status).toBe(401);
    await expect(connect(mcpUrl, "wrong-token-0123456789abcdef")).rejects.toThrow();
  });

  it("lists its twelve tools with JSON Schemas", async () => {
    const { tools } = await ops.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "diagnose",
        "forecast",
        "get_audit",
        "get_incident",
        "list_actions",
        "list_clusters",
        "list_incidents",
        "list_proposals",
        "network_map",
        "propose_remediation",
        "query_metrics",
        "slo_status",
      ].sort(),
    );
    const propose = tools.find((t) => t.name === "propose_remediation")!;
    expect(propose.inputSchema.required).toEqual(expect.arrayContaining(["incidentId", "action", "target"]));
    expect(propose.annotations?.readOnlyHint).toBe(false);
  });

  it("reads clusters, incidents and one incident with its diagnosis", async () => {
    const clusters = await ops.call("list_clusters");
    expect(clusters.json.items!.map((c) => c.cluster)).toContain("local");

    const firing = await ops.call("list_incidents", { status: "firing", namespace: "shop" });
    expect(firing.json.items!.map((i) => i.id)).toContain(incidentId);

    const one = await ops.call("get_incident", { incidentId });
    const detail = one.json as {
      incident: { id: string; status: string };
      alerts: unknown[];
      diagnosis: { status: string; summary: string };
      findings: { kind: string; parent?: string; evidence: unknown }[];
      remediations: { status: string }[];
    };
    expect(detail.incident).toMatchObject({ id: incidentId, status: "firing" });
    expect(detail.alerts.length).toBeGreaterThan(0);
    expect(detail.diagnosis.status).toBe("ProblemDetected");
    expect(detail.findings.some((f) => f.parent === "Deployment/shop/cart" && f.evidence)).toBe(true);
    // The pipeline's own decision was not an allowed action: blocked, nothing executed.
    expect(detail.remediations.every((r) => r.status !== "executed")).toBe(true);

    const resources = await ops.client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain(`prophet://incidents/${incidentId}`);
    const res = await ops.client.readResource({ uri: `prophet://incidents/${incidentId}/findings` });
    const findings = JSON.parse((res.contents[0] as { text: string }).text) as { findings: unknown[] };
    expect(findings.findings.length).toBeGreaterThan(0);
    const inc = await ops.client.readResource({ uri: `prophet://incidents/${incidentId}` });
    expect(JSON.parse((inc.contents[0] as { text: string }).text).incident.id).toBe(incidentId);
  });

  it("diagnoses an object and an incident on the live cluster", async () => {
    const obj = await ops.call("diagnose", { namespace: "shop", kind: "Deployment", name: "cart" });
    expect(obj.isError).toBe(false);
    expect(obj.json.status).toBe("ProblemDetected");
    expect(JSON.stringify(obj.json.findings)).toContain("Deployment/shop/cart");
    const byIncident = await ops.call("diagnose", { incidentId });
    expect(byIncident.json.status).toBe("ProblemDetected");
    const ns = await ops.call("diagnose", { namespace: "shop" });
    expect(Number(ns.json.problems)).toBeGreaterThan(0);
  });

  it("queries metrics and forecasts a series, within bounds", async () => {
    const instant = await ops.call("query_metrics", {
      promql: 'sum by (pod) (kube_pod_container_status_restarts_total{namespace="shop"})',
    });
    expect(Number(instant.json.series)).toBeGreaterThan(0);
    const range = await ops.call("query_metrics", {
      promql: 'sum(rate(http_requests_total{namespace="shop"}[5m]))',
      range: "30m",
      step: "1m",
    });
    const points = (range.json.result as { points: unknown[] }[])[0]!.points;
    expect(points.length).toBeGreaterThanOrEqual(5); // the sandbox has minutes of history here
    const tooMany = await ops.call("query_metrics", { promql: "up", range: "7d", step: "1s" });
    expect(tooMany.isError).toBe(true);
    expect(tooMany.text).toMatch(/step/);
    const badQuery = await ops.call("query_metrics", { promql: "sum(" });
    expect(badQuery.isError).toBe(true);

    const fc = await ops.call("forecast", {
      promql: 'sum(rate(http_requests_total{namespace="shop"}[5m]))',
      history: "1h",
      step: "1m",
      horizon: "15m",
    });
    expect(fc.isError).toBe(false);
    const series = fc.json.series as { forecast: { mean: number; lower95: number; upper95: number }[] }[];
    expect(series[0]!.forecast).toHaveLength(15);
    expect(series[0]!.forecast[0]!.upper95).toBeGreaterThanOrEqual(series[0]!.forecast[0]!.lower95);
  });

  it("reports SLOs, the network map and the action catalogue", async () => {
    const slos = await ops.call("slo_status");
    expect(Number(slos.json.count)).toBeGreaterThan(0);
    expect(slos.json.items![0]).toHaveProperty("phase");

    const map = await ops.call("network_map", { namespace: "shop" });
    expect(map.json.learned).toBe(true);
    expect((map.json.edges as unknown[]).length).toBeGreaterThan(0);

    const actions = await ops.call("list_actions");
    expect(Number(actions.json.count)).toBe(28);
    expect(actions.json.items!.find((a) => a.name === "scale_deployment")).toMatchObject({
      targetKinds: ["Deployment"],
    });
  });

  it("proposes through the gate and never executes, even under an autonomous policy", async () => {
    const before = (await p.host.deps.kube!.get("Deployment", "shop", "cart"))!;
    const replicas = (before.spec as { replicas: number }).replicas;
    const r = await ops.call("propose_remediation", {
      incidentId,
      action: "scale_deployment",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      params: { replicas: replicas + 1 },
      rationale: "more replicas while the crash loop is investigated",
      confidence: 0.95,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.json.status).toBe("proposed");
    const id = (r.json.remediation as { id: string }).id;
    expect(r.text).not.toMatch(/token=/);

    // Time passes, the assessor ticks: the proposal still waits and the cluster is unchanged.
    await p.advance(120);
    const row = (await getRemediation(p.host.deps.store, id))!;
    expect(row.status).toBe("proposed");
    expect(row.decider).toBe("mcp:ops");
    expect(row.mode).toBe("autonomous");
    const after = (await p.host.deps.kube!.get("Deployment", "shop", "cart"))!;
    expect((after.spec as { replicas: number }).replicas).toBe(replicas);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    // The gate itself would have executed it: only the agent rule made it a proposal.
    const gated = await listAudit(p.host.deps.store, { remediationId: id });
    const g = gated.find((a) => a.action === "remediation.gated")!;
    expect(g.actor).toBe("mcp:ops");
    expect(g.details).toMatchObject({ gateVerdict: "execute", verdict: "propose" });

    const waiting = await ops.call("list_proposals");
    expect(waiting.json.items!.map((x) => x.id)).toContain(id);

    // A second proposal for the same owner is blocked by the gate (one in flight per owner).
    const again = await ops.call("propose_remediation", {
      incidentId,
      action: "scale_deployment",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      params: { replicas: replicas + 2 },
      rationale: "even more replicas, proposed twice",
    });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/duplicate_in_progress/);

    // Outside the incident: refused before the gate.
    const outside = await ops.call("propose_remediation", {
      incidentId,
      action: "scale_deployment",
      target: { kind: "Deployment", namespace: "payments", name: "checkout" },
      params: { replicas: 3 },
      rationale: "not this incident's object at all",
    });
    expect(outside.isError).toBe(true);
    expect(outside.text).toMatch(/not one of incident/);

    // A person approves it (the operator API behind `prophet approvals approve`): the gate runs
    // again and the action executes, as for any proposal.
    const approved = await fetch(`${p.host.url}/api/approvals/${id}/approve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ actor: "user:alice" }),
    });
    expect(approved.status, await approved.text()).toBeLessThan(300);
    const done = (await getRemediation(p.host.deps.store, id))!;
    expect(done.status).toBe("executed");
    expect(done.decidedBy).toBe("user:alice");
    const scaled = (await p.host.deps.kube!.get("Deployment", "shop", "cart"))!;
    expect((scaled.spec as { replicas: number }).replicas).toBe(replicas + 1);
  });

  it("keeps a token to its clusters", async () => {
    const b = await open(mcpUrl, tokens.teamB);
    const asked = await b.call("list_incidents", { cluster: "local" });
    expect(asked.isError).toBe(true);
    expect(asked.text).toMatch(/forbidden: mcp:team-b may not use cluster "local" \(its clusters: other\)/);
    const one = await b.call("get_incident", { incidentId });
    expect(one.isError).toBe(true);
    expect(one.text).toMatch(/forbidden/);
    const diag = await b.call("diagnose", { namespace: "shop" });
    expect(diag.isError).toBe(true);
    const mine = await b.call("list_incidents");
    expect(mine.json.count).toBe(0);
    const audit = await b.call("get_audit");
    expect(audit.json.items!.every((x) => x.cluster === "other")).toBe(true);

    const a = await open(mcpUrl, tokens.teamA);
    expect((await a.call("list_incidents")).json.items!.map((i) => i.id)).toContain(incidentId);
    const other = await a.call("query_metrics", { cluster: "other", promql: "up" });
    expect(other.isError).toBe(true);
    expect(other.text).toMatch(/may not use cluster "other"/);
  });

  it("names the field of a bad argument", async () => {
    const wrongType = await ops.call("diagnose", { namespace: 5 });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.text).toMatch(/invalid arguments for diagnose: namespace:/);
    const tooBig = await ops.call("list_incidents", { limit: 1000 });
    expect(tooBig.text).toMatch(/limit:/);
    const typo = await ops.call("list_incidents", { namespce: "shop" });
    expect(typo.text).toMatch(/namespce/);
    const params = await ops.call("propose_remediation", {
      incidentId,
      action: "scale_deployment",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      params: { replicas: "many" },
      rationale: "a wrong parameter type on purpose",
    });
    expect(params.text).toMatch(/params\.replicas/);
    const action = await ops.call("propose_remediation", {
      incidentId,
      action: "delete_everything",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      rationale: "an action that does not exist",
    });
    expect(action.text).toMatch(/delete_everything is not a registered action/);
  });

  it("is read-only, bounded and masked when configured", async () => {
    const parsed = mcpTokensSchema.parse(`ops:${tokens.ops}=*`);
    const maskKey = "mcp-spec-mask-key-0123456789";
    const readOnly = await startEndpoint(p.host.deps, {
      readOnly: true,
      maxOutputChars: 2_000,
      tokens: parsed,
    });
    const masked = await startEndpoint(p.host.deps, {
      readOnly: false,
      maxOutputChars: 200_000,
      maskKey,
      mask: createNameMask(maskKey, { keep: ["scale_deployment"] }),
      tokens: parsed,
    });
    try {
      const ro = await open(readOnly.url, tokens.ops);
      const refused = await ro.call("propose_remediation", {
        incidentId,
        action: "scale_deployment",
        target: { kind: "Deployment", namespace: "shop", name: "cart" },
        params: { replicas: 5 },
        rationale: "read-only mode must refuse this",
      });
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/read-only/);
      const big = await ro.call("list_actions");
      expect(big.text.length).toBeLessThanOrEqual(2_000);
      expect(big.text).toMatch(/truncated/);
      expect(() => JSON.parse(big.text) as unknown).not.toThrow();

      const m = await open(masked.url, tokens.ops);
      const pods = await p.host.deps.kube!.list("Pod", "shop");
      const names = ["shop", "cart", ...pods.map((x) => x.metadata.name)];
      const outputs = [
        await m.call("list_incidents"),
        await m.call("get_incident", { incidentId }),
        await m.call("diagnose", { namespace: "shop", kind: "Deployment", name: "cart" }),
        await m.call("list_proposals"),
        await m.call("get_audit", { limit: 100 }),
        await m.call("network_map", { namespace: "shop" }),
        await m.call("query_metrics", {
          promql: 'kube_pod_container_status_restarts_total{namespace="shop"}',
        }),
      ];
      for (const o of outputs) {
        expect(o.isError, o.text).toBe(false);
        for (const n of names)
          expect(o.text, n).not.toMatch(new RegExp(`(?<![A-Za-z0-9-])${n}(?![A-Za-z0-9-])`));
      }
      // A token an output gave is a name again on the way in.
      const inc = outputs[1]!.json as { incident: { namespace: string } };
      expect(inc.incident.namespace).toMatch(/^ns-[0-9a-f]{6,}$/);
      const again = await m.call("diagnose", { namespace: inc.incident.namespace });
      expect(again.json.status).toBe("ProblemDetected");
    } finally {
      await readOnly.close();
      await masked.close();
    }
  });

  it("audits every tool call with the token's id, never the token", async () => {
    const rows = await listAudit(p.host.deps.store, { limit: 5_000 });
    const toolRows = rows.filter((r) => r.action.startsWith("mcp.tool."));
    const byActor = (id: string) => toolRows.filter((r) => r.actor === `mcp:${id}`).length;
    const opsCalls = clients.filter((_, i) => i === 0 || i >= 3).reduce((n, c) => n + c.calls, 0);
    expect(byActor("ops")).toBe(opsCalls);
    expect(byActor("team-b")).toBe(clients[1]!.calls);
    expect(byActor("team-a")).toBe(clients[2]!.calls);
    expect(toolRows.some((r) => r.details.outcome === "error" && r.details.error === "forbidden")).toBe(true);
    expect(toolRows.some((r) => r.details.outcome === "error" && r.details.error === "bad_request")).toBe(
      true,
    );
    const text = JSON.stringify(rows);
    for (const t of Object.values(tokens)) expect(text).not.toContain(t);
  });
});
