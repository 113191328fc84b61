// A diagnosis' findings go in as one statement (a storm's diagnosis has dozens); what comes back is
// each finding as it went in, in order, with its evidence, owner and the root-cause mark; a re-run
// of the same diagnosis adds nothing. On PostgreSQL when installed (required under CI), else PGlite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Finding } from "../../shared/diagnosis/finding.js";
import { findingsOfIncident, recordDiagnosis } from "../../shared/diagnosis/store.js";
import type { Store } from "../../shared/ports/store.js";
import { freshPgliteStore, freshPostgresStore } from "../support/stores.js";

const stores: { name: string; store: Store; cleanup: () => Promise<void> }[] = [];
beforeAll(async () => {
  const pg = await freshPostgresStore();
  if (pg) stores.push({ name: "postgres", store: pg, cleanup: () => pg.close() });
  else if (process.env.CI === "true") throw new Error("CI=true needs PostgreSQL for the store tests");
  const lite = await freshPgliteStore();
  stores.push({ name: "pglite", ...lite });
});
afterAll(async () => {
  for (const s of stores) await s.cleanup();
});

const finding = (i: number, extra: Partial<Finding> = {}): Finding => ({
  kind: "Pod",
  namespace: "shop",
  name: `cart-7d9f8b6c5-${i}`,
  reason: "CrashLoopBackOff",
  message: `container app of Pod shop/cart-7d9f8b6c5-${i} exits with code 1 — "quotes", ünïcödé, \\ and $1`,
  evidence: {
    events: [`BackOff: Back-off restarting failed container (x${i + 1})`],
    logs: ["panic: missing CART_DB_URL"],
    metrics: { restarts: i + 3 },
  },
  parent: "Deployment/shop/cart",
  ...extra,
});

describe("findings of a diagnosis", () => {
  it("stores every finding in order with its evidence, once", async () => {
    for (const { name, store } of stores) await storesEveryFinding(name, store);
  });

  it("stores a diagnosis without findings", async () => {
    for (const { store } of stores) await storesNoFindings(store);
  });
});

async function storesEveryFinding(storeName: string, store: Store): Promise<void> {
  const findings = Array.from({ length: 40 }, (_, i) => finding(i));
  findings.push(finding(40, { kind: "Node", namespace: "", name: "node-a", parent: undefined }));
  const rootCause = findings[3]!;
  const record = {
    id: "diag-findings-1",
    incidentId: "inc-findings-1",
    cluster: "test",
    status: "ProblemDetected" as const,
    summary: "cart crash-loops",
    rootCause,
    findings,
    at: new Date("2026-11-23T08:00:00Z"),
  };
  await store.transaction((tx) => recordDiagnosis(tx, record));
  expect(await store.transaction((tx) => recordDiagnosis(tx, record))).toBe(false);

  const { rows } = await store.query<{
    position: number;
    kind: string;
    namespace: string;
    name: string;
    reason: string;
    message: string;
    parent: string | null;
    evidence: unknown;
    root_cause: boolean;
    cluster: string;
  }>("SELECT * FROM findings WHERE diagnosis_id = $1 ORDER BY position", [record.id]);
  expect(rows).toHaveLength(findings.length);
  rows.forEach((r, i) => {
    const f = findings[i]!;
    expect(r).toMatchObject({
      position: i,
      cluster: "test",
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      reason: f.reason,
      message: f.message,
      parent: f.parent ?? null,
      root_cause: i === 3,
    });
    expect(r.evidence).toEqual(f.evidence);
  });
  const viaIncident = await findingsOfIncident(store, "inc-findings-1");
  expect(viaIncident.map((f) => f.name)).toEqual(findings.map((f) => f.name));
  expect(
    viaIncident.filter((f) => f.root_cause).map((f) => f.name),
    storeName,
  ).toEqual([rootCause.name]);
}

async function storesNoFindings(store: Store): Promise<void> {
  const ok = await store.transaction((tx) =>
    recordDiagnosis(tx, {
      id: "diag-findings-2",
      incidentId: "inc-findings-2",
      cluster: "test",
      status: "OK",
      summary: "nothing wrong",
      rootCause: null,
      findings: [],
      at: new Date("2026-11-23T08:00:00Z"),
    }),
  );
  expect(ok).toBe(true);
  expect(await findingsOfIncident(store, "inc-findings-2")).toEqual([]);
}
