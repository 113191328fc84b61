// The same store behaviour on real PostgreSQL 15 and on PGlite: migrations, idempotency records,
// the hash-chained audit log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../shared/ports/store.js";
import { appendAudit, auditHash, recordAudit, verifyAudit } from "../../shared/store/audit.js";
import {
  claimEvent,
  completeEvent,
  markDelivered,
  releaseEvent,
  undeliveredOutputs,
} from "../../shared/store/idempotency.js";
import { migrate, migrations } from "../../shared/store/migrations.js";
import { freshPgliteStore, freshPostgresStore } from "../support/stores.js";

const backends: Array<[string, () => Promise<{ store: Store; cleanup(): Promise<void> } | undefined>]> = [
  [
    "PostgreSQL",
    async () => {
      const store = await freshPostgresStore();
      return store && { store, cleanup: () => store.close() };
    },
  ],
  ["PGlite", freshPgliteStore],
];

describe.each(backends)("store on %s", (_name, open) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => {};
  let available = true;
  beforeAll(async () => {
    const s = await open();
    if (!s) {
      available = false;
      return;
    }
    store = s.store;
    cleanup = s.cleanup;
  });
  afterAll(() => cleanup());
  const t0 = new Date("2026-11-22T10:00:00Z");
  const entry = (i: number) => ({
    at: new Date(t0.getTime() + i * 1000),
    cluster: "c1",
    actor: "function:test",
    action: "test.did",
    subject: `obj-${i}`,
    details: { i, nested: { b: 2, a: [1, "x"] } },
  });

  it("applies migrations once; running them again changes nothing", async (ctx) => {
    if (!available) ctx.skip();
    expect(await migrate(store)).toEqual([]);
    const { rows } = await store.query<{ version: number }>("SELECT version FROM schema_migrations");
    expect(rows.map((r) => Number(r.version))).toEqual(migrations.map((m) => m.version));
  });

  it("chains audit rows and verifies the chain", async (ctx) => {
    if (!available) ctx.skip();
    for (let i = 0; i < 5; i++) await recordAudit(store, entry(i));
    const v = await verifyAudit(store);
    expect(v).toMatchObject({ ok: true, rows: 5, firstBadSeq: null });
  });

  it("hashes non-ASCII text and newlines the way the verifier does (the hash is computed in SQL)", async (ctx) => {
    if (!available) ctx.skip();
    const before = (await verifyAudit(store)).rows;
    const row = await recordAudit(store, {
      ...entry(20),
      subject: "café/ünïcode—✓",
      details: { note: "line 1\nline 2 \u00e9 \ud83d\ude80", quote: '"' },
    });
    expect(row.hash).toBe(auditHash(row.prevHash, row));
    expect(await verifyAudit(store)).toMatchObject({ ok: true, rows: before + 1 });
  });

  it("returns the first row again for a repeated dedupe key instead of appending", async (ctx) => {
    if (!available) ctx.skip();
    const a = await recordAudit(store, { ...entry(10), dedupeKey: "k-1" });
    const b = await recordAudit(store, { ...entry(11), dedupeKey: "k-1" });
    expect(b.seq).toBe(a.seq);
    expect((await verifyAudit(store)).rows).toBe(7);
  });

  it("refuses UPDATE and DELETE on the audit log", async (ctx) => {
    if (!available) ctx.skip();
    await expect(store.query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow(
      /append-only/,
    );
    await expect(store.query("DELETE FROM audit_log WHERE seq = 2")).rejects.toThrow(/append-only/);
  });

  it("detects a changed row and names it", async (ctx) => {
    if (!available) ctx.skip();
    const { rows } = await store.query<{ seq: string }>("SELECT seq FROM audit_log ORDER BY seq LIMIT 3");
    const third = Number(rows[2]?.seq);
    await store.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only");
    await store.query(`UPDATE audit_log SET details = '{"i": 99}'::jsonb WHERE seq = ${third}`);
    await store.query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only");
    const v = await verifyAudit(store);
    expect(v).toMatchObject({ ok: false, firstBadSeq: third, rows: 2 });
    expect(v.reason).toMatch(/changed/);
  });

  it("walks the chain in pages", async (ctx) => {
    if (!available) ctx.skip();
    const v = await verifyAudit(store, 2);
    expect(v.ok).toBe(false);
    expect(v.rows).toBe(2);
  });

  describe("idempotency records", () => {
    const key = { functionName: "fn", source: "/src", id: "evt-1" };
    const out = [
      {
        specversion: "1.0" as const,
        id: "o1",
        source: "/fn",
        type: "io.prophet.schedule.tick",
        time: t0.toISOString(),
        datacontenttype: "application/json" as const,
        data: {},
      },
    ];

    it("claims a new event, then treats a concurrent attempt as in progress", async (ctx) => {
      if (!available) ctx.skip();
      expect(await claimEvent(store, key, "t", t0, 60_000)).toEqual({ kind: "claimed", attempt: 1 });
      expect((await claimEvent(store, key, "t", new Date(t0.getTime() + 1000), 60_000)).kind).toBe(
        "in_progress",
      );
    });

    it("lets a new attempt take over once the lease expired (the first attempt crashed)", async (ctx) => {
      if (!available) ctx.skip();
      expect(await claimEvent(store, key, "t", new Date(t0.getTime() + 61_000), 60_000)).toEqual({
        kind: "claimed",
        attempt: 2,
      });
    });

    it("keeps outputs until delivered, then reports duplicates", async (ctx) => {
      if (!available) ctx.skip();
      await completeEvent(store, key, out, t0);
      const claim = await claimEvent(store, key, "t", t0, 60_000);
      expect(claim).toMatchObject({ kind: "undelivered", outputs: [{ id: "o1" }] });
      expect((await undeliveredOutputs(store)).map((u) => u.key.id)).toContain("evt-1");
      await markDelivered(store, key);
      expect(await claimEvent(store, key, "t", t0, 60_000)).toEqual({ kind: "duplicate" });
      expect((await undeliveredOutputs(store)).map((u) => u.key.id)).not.toContain("evt-1");
    });

    it("gives a failed attempt's event back", async (ctx) => {
      if (!available) ctx.skip();
      const k2 = { ...key, id: "evt-2" };
      await claimEvent(store, k2, "t", t0, 60_000);
      await releaseEvent(store, k2);
      expect(await claimEvent(store, k2, "t", t0, 60_000)).toEqual({ kind: "claimed", attempt: 1 });
    });
  });
});

describe("audit log under concurrent writers (PostgreSQL)", () => {
  it("stays one linear chain when many transactions append at once", async (ctx) => {
    const store = await freshPostgresStore();
    if (!store) return ctx.skip();
    try {
      const at = new Date("2026-11-22T10:00:00Z");
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.transaction((tx) =>
            appendAudit(tx, { at, cluster: "c", actor: "a", action: "x", subject: `s${i}`, details: { i } }),
          ),
        ),
      );
      expect(await verifyAudit(store)).toMatchObject({ ok: true, rows: 40 });
    } finally {
      await store.close();
    }
  });
});
