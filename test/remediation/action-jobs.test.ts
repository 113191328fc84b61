// The operator-declared Job actions (cleanup_storage, backup_data, compact_storage,
// failover_database, repair_database) on the sandbox: payments/postgres annotated with
// aiops.prophet.io/<action>-cronjob naming suspended CronJobs the sandbox's Job controller runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ActionContext, ActionDefinition } from "../../shared/remediation/action.js";
import { backupData } from "../../shared/remediation/actions/backup-data.js";
import { cleanupStorage } from "../../shared/remediation/actions/cleanup-storage.js";
import { compactStorage } from "../../shared/remediation/actions/compact-storage.js";
import { failoverDatabase } from "../../shared/remediation/actions/failover-database.js";
import { cronJobAnnotation, prophetName } from "../../shared/remediation/actions/job-from-template.js";
import { repairDatabase } from "../../shared/remediation/actions/repair-database.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const sts = { kind: "StatefulSet", namespace: "payments", name: "postgres" };
const pvc = { kind: "PersistentVolumeClaim", namespace: "payments", name: "data-postgres-0" };

function cronJob(name: string, script: string, backoffLimit = 2): KubeObject {
  return {
    kind: "CronJob",
    metadata: { name, namespace: "payments" },
    spec: {
      schedule: "0 3 * * *",
      suspend: true,
      jobTemplate: {
        metadata: { labels: { task: name }, annotations: { "example.com/owner": "dba" } },
        spec: {
          backoffLimit,
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "task", image: "postgres:16.4", command: ["sh", "-c", script] }],
            },
          },
        },
      },
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jobActions: [ActionDefinition<any>, string][] = [
  [cleanupStorage, "cleanup-storage"],
  [backupData, "backup-data"],
  [compactStorage, "compact-storage"],
  [failoverDatabase, "failover-database"],
  [repairDatabase, "repair-database"],
];

describe("operator-declared Job actions on the sandbox", () => {
  let s: ActionSandbox;
  const ctxFor = (remediationId: string): ActionContext => ({ ...s.ctx, remediationId });
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("are data actions that need approval, take strict parameters and say there is no undo", () => {
    for (const [a, kebab] of jobActions) {
      expect(a.requiresApproval).toBe(true);
      expect(a.readOnly).toBe(false);
      expect(a.undo).toBeUndefined();
      expect(a.description).toContain("No undo");
      expect(cronJobAnnotation(a.name)).toBe(`aiops.prophet.io/${kebab}-cronjob`);
      expect(a.params.safeParse({ image: "evil" }).success).toBe(false);
    }
    expect(backupData.params.parse({})).toEqual({ method: "job" });
    expect(backupData.params.safeParse({ method: "rsync" }).success).toBe(false);
  });

  it("report unsupported, naming the annotation, when the target declares nothing", async () => {
    for (const [a, kebab] of jobActions) {
      const r = await a.check(s.ctx, sts, a.params.parse({}));
      expect(r).toMatchObject({ ok: false, failure: "unsupported" });
      expect(r.ok ? "" : r.detail).toContain(`aiops.prophet.io/${kebab}-cronjob`);
    }
    expect(await cleanupStorage.check(s.ctx, { ...sts, name: "nope" }, {})).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    await s.port.patch!("StatefulSet", "payments", "postgres", {
      metadata: { annotations: { [cronJobAnnotation("repair_database")]: "pg-repair-missing" } },
    });
    const r = await repairDatabase.check(s.ctx, sts, {});
    expect(r).toMatchObject({ ok: false, failure: "unsupported" });
    expect(r.ok ? "" : r.detail).toContain("CronJob payments/pg-repair-missing");
  });

  it("create a Job from the CronJob like kubectl create job --from, once per remediation", async () => {
    const cj = await s.port.create!("CronJob", "payments", cronJob("pg-backup", "pg_dumpall && sleep 10"));
    await s.port.patch!("StatefulSet", "payments", "postgres", {
      metadata: { annotations: { [cronJobAnnotation("backup_data")]: "pg-backup" } },
    });
    const ctx = ctxFor("rem-backup-1");
    const p = backupData.params.parse({});
    expect(await backupData.check(ctx, sts, p)).toMatchObject({ ok: true });
    const result = await backupData.execute(ctx, sts, p);
    const name = prophetName("pg-backup", "rem-backup-1");
    expect(name).toMatch(/^pg-backup-prophet-[0-9a-f]{6}$/);
    expect(result.created).toEqual([`Job/payments/${name}`]);
    const job = await s.port.get("Job", "payments", name);
    expect(job?.metadata.annotations).toMatchObject({
      "cronjob.kubernetes.io/instantiate": "manual",
      "example.com/owner": "dba",
      "aiops.prophet.io/remediation-action": "backup_data",
      "aiops.prophet.io/remediation-id": "rem-backup-1",
    });
    expect(job?.metadata.labels?.task).toBe("pg-backup");
    expect(job?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CronJob",
      name: "pg-backup",
      uid: cj.metadata.uid,
      controller: true,
    });
    expect(await backupData.verify(ctx, sts, p, result)).toMatchObject({ ok: false });
    const again = await backupData.execute(ctx, sts, p);
    expect(again.changes[0]).toContain("already created");
    expect(
      (await s.port.list("Job", "payments")).filter((j) => j.metadata.name.startsWith("pg-backup-")),
    ).toHaveLength(1);
    s.advance(30);
    expect(await backupData.verify(ctx, sts, p, result)).toMatchObject({ ok: true });
  });

  it("run each declared procedure to completion, and report a failed one", async () => {
    const declared: [ActionDefinition<Record<string, never>>, string, string][] = [
      [cleanupStorage, "pg-cleanup", "rm -rf /var/lib/postgresql/data/pg_log/old && sleep 5"],
      [compactStorage, "pg-vacuum", "vacuumdb --all && sleep 5"],
      [failoverDatabase, "pg-failover", "patronictl failover --force && sleep 5"],
      [repairDatabase, "pg-repair", "reindexdb --all && sleep 5"],
    ];
    for (const [a, cj, script] of declared) {
      await s.port.create!("CronJob", "payments", cronJob(cj, script));
      await s.port.patch!("StatefulSet", "payments", "postgres", {
        metadata: { annotations: { [cronJobAnnotation(a.name)]: cj } },
      });
    }
    const results = [];
    for (const [a] of declared) {
      expect(await a.check(s.ctx, sts, {})).toMatchObject({ ok: true });
      results.push(await a.execute(ctx(), sts, {}));
    }
    s.advance(30);
    for (const [i, [a]] of declared.entries())
      expect(await a.verify(ctx(), sts, {}, results[i]!)).toMatchObject({ ok: true });

    await s.port.create!("CronJob", "payments", cronJob("pg-broken", "exit 1", 0));
    await s.port.patch!("PersistentVolumeClaim", "payments", "data-postgres-0", {
      metadata: { annotations: { [cronJobAnnotation("cleanup_storage")]: "pg-broken" } },
    });
    const failed = await cleanupStorage.execute(ctx(), pvc, {});
    s.advance(30);
    const v = await cleanupStorage.verify(ctx(), pvc, {}, failed);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain("failed");

    function ctx() {
      return ctxFor("rem-procedures");
    }
  });
});

describe("backup_data with method snapshot", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });
  const p = (volumeSnapshotClassName?: string) =>
    backupData.params.parse({ method: "snapshot", volumeSnapshotClassName });

  it("says the cluster does not serve VolumeSnapshot when the CRD is absent", async () => {
    const r = await backupData.check(s.ctx, pvc, p("ebs-snapshots"));
    expect(r).toMatchObject({ ok: false, failure: "unsupported" });
    expect(r.ok ? "" : r.detail).toContain("does not serve snapshot.storage.k8s.io/v1 VolumeSnapshot");
    expect(await backupData.check(s.ctx, sts, p("ebs-snapshots"))).toMatchObject({
      ok: false,
      failure: "precondition",
    });
  });

  it("snapshots the claim once the snapshot API and a class exist", async () => {
    for (const [plural, kind, scope] of [
      ["volumesnapshots", "VolumeSnapshot", "Namespaced"],
      ["volumesnapshotclasses", "VolumeSnapshotClass", "Cluster"],
    ] as const)
      await s.port.create!("CustomResourceDefinition", undefined, {
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.snapshot.storage.k8s.io` },
        spec: {
          group: "snapshot.storage.k8s.io",
          scope,
          names: { plural, kind, singular: kind.toLowerCase() },
          versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} } }],
        },
      });
    expect(await backupData.check(s.ctx, pvc, p())).toMatchObject({ ok: false, failure: "precondition" });
    expect(await backupData.check(s.ctx, pvc, p("ebs-snapshots"))).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    await s.port.create!("VolumeSnapshotClass", undefined, {
      kind: "VolumeSnapshotClass",
      metadata: { name: "ebs-snapshots" },
      driver: "ebs.csi.aws.com",
      deletionPolicy: "Retain",
    });
    await s.port.patch!("PersistentVolumeClaim", "payments", "data-postgres-0", {
      metadata: { annotations: { "aiops.prophet.io/volume-snapshot-class": "ebs-snapshots" } },
    });
    expect(await backupData.check(s.ctx, pvc, p())).toMatchObject({ ok: true });
    const result = await backupData.execute(s.ctx, pvc, p());
    const name = prophetName("data-postgres-0", s.ctx.remediationId);
    expect(result.created).toEqual([`VolumeSnapshot/payments/${name}`]);
    const snap = await s.port.get("VolumeSnapshot", "payments", name);
    expect(snap?.spec).toEqual({
      volumeSnapshotClassName: "ebs-snapshots",
      source: { persistentVolumeClaimName: "data-postgres-0" },
    });
    expect(await backupData.verify(s.ctx, pvc, p(), result)).toMatchObject({ ok: false });
    // The snapshot controller marks it ready.
    await s.port.patch!(
      "VolumeSnapshot",
      "payments",
      name,
      { status: { readyToUse: true } },
      { subresource: "status" },
    );
    expect(await backupData.verify(s.ctx, pvc, p(), result)).toMatchObject({ ok: true });
  });
});
