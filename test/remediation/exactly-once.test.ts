// The same diagnosis delivered three times at once to three replicas (three deps, three connection
// pools, one PostgreSQL) executes one action: the idempotency claim lets one invocation in, and
// underneath it the remediation's primary key and conditional status updates hold even when the
// claim is bypassed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { llmRemediation } from "../../functions/llm-remediation/index.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import type { Deps } from "../../shared/function.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { Store } from "../../shared/ports/store.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { openStore } from "../../shared/store/open.js";
import { freshPostgresUrl } from "../support/stores.js";
import { autonomousPolicy } from "./pipeline-harness.js";
import { diagnosisFor } from "./support-events.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

let s: ActionSandbox;
const stores: Store[] = [];

async function replicas(url: string, n: number): Promise<Deps[]> {
  const out: Deps[] = [];
  for (let i = 0; i < n; i++) {
    const store = await openStore({ databaseUrl: url, dataDir: "unused" });
    stores.push(store);
    out.push({
      store,
      clock: s.sb.clock,
      log: silentLogger,
      cluster: "test",
      kube: s.port,
      remediation: {
        defaultMode: "autonomous",
        stabilizationSeconds: 120,
        policies: async () => [autonomousPolicy()],
      },
    });
  }
  return out;
}

const sink = { name: "null", send: async () => {} };

beforeAll(async () => {
  s = await startActionSandbox({ seed: 5 });
  s.sb.inject({ kind: "bad-image", target: "shop/cart" });
  s.advance(120);
});
afterAll(async () => {
  for (const st of stores) await st.close();
  await s?.close();
});

async function revision(): Promise<string | undefined> {
  return (await s.port.get("Deployment", "shop", "cart"))?.metadata.annotations?.[
    "deployment.kubernetes.io/revision"
  ];
}

async function image(app: string): Promise<string> {
  const d = (await s.port.get("Deployment", "shop", app))!.spec as {
    template: { spec: { containers: { image: string }[] } };
  };
  return d.template.spec.containers[0]!.image;
}

async function firstCartPod(): Promise<string> {
  const pods = await s.port.list("Pod", "shop");
  return pods.find(
    (p) => p.metadata.name.startsWith("cart-") && (p.status as { phase?: string }).phase === "Pending",
  )!.metadata.name;
}

describe("exactly once under concurrent redelivery", () => {
  it("three replicas, one event, three deliveries at once: one rollback", async () => {
    const url = await freshPostgresUrl();
    if (!url) throw new Error("this test needs PostgreSQL (the suite's global setup starts it)");
    const deps = await replicas(url, 3);
    const diag = await diagnosisFor(deps[0]!, {
      alertname: "KubePodNotReady",
      namespace: "shop",
      pod: await firstCartPod(),
    });
    const before = await revision();
    const outcomes = await Promise.allSettled(
      deps.map((d) => invokeFunction(llmRemediation, diag, { deps: d, sink })),
    );
    const handled = outcomes.filter((o) => o.status === "fulfilled" && o.value.status === "handled");
    expect(handled).toHaveLength(1);
    // The others saw a duplicate or an in-progress claim (a retryable 409): nothing ran twice.
    const { rows } = await deps[0]!.store.query<{ status: string; action: string }>(
      "SELECT status, action FROM remediations",
    );
    expect(rows).toEqual([{ status: "executed", action: "rollback_deployment" }]);
    const executed = await deps[0]!.store.query(
      "SELECT seq FROM audit_log WHERE action = 'remediation.executed'",
    );
    expect(executed.rows).toHaveLength(1);
    // The sandbox keeps the revision number on a rollback (a real API server bumps it), so the
    // image tells whether the rollback happened, and the audit log that it happened once.
    expect(await revision()).toBe(before);
    expect(await image("cart")).not.toContain("does-not-exist");
  });

  it("with the idempotency claim bypassed, the store still lets one handler act", async () => {
    const url = await freshPostgresUrl();
    if (!url) throw new Error("this test needs PostgreSQL (the suite's global setup starts it)");
    s.sb.inject({ kind: "bad-image", target: "shop/catalog", params: { tag: "9.9.9-missing" } });
    s.advance(120);
    const deps = await replicas(url, 3);
    const pod = (await s.port.list("Pod", "shop")).find(
      (p) => p.metadata.name.startsWith("catalog-") && (p.status as { phase?: string }).phase === "Pending",
    )!.metadata.name;
    const diag = await diagnosisFor(
      deps[0]!,
      { alertname: "KubePodNotReady", namespace: "shop", pod },
      "f00dfeed0002",
    );
    const before = (await s.port.get("Deployment", "shop", "catalog"))?.metadata.annotations?.[
      "deployment.kubernetes.io/revision"
    ];
    const results = await Promise.allSettled(deps.map((d) => llmRemediation.handle(diag as ProphetEvent, d)));
    const emitted = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(emitted.filter((e) => e.type === "io.prophet.remediation.executed")).toHaveLength(1);
    const { rows } = await deps[0]!.store.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'remediation.executed'",
    );
    expect(Number(rows[0]!.n)).toBe(1);
    expect(before).toBeDefined();
    expect(await image("catalog")).not.toContain("9.9.9-missing");
  });
});
