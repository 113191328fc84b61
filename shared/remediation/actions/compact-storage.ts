// compact_storage: run the operator's compaction procedure (a Job from a declared CronJob).
import { z } from "zod";
import { declaredJobAction, declaredJobNote } from "./job-from-template.js";

export const compactStorage = declaredJobAction({
  name: "compact_storage",
  description: `Reclaims space inside a datastore by running the operator's compaction Job (VACUUM, etcd/Prometheus compaction, segment merge). ${declaredJobNote}`,
  whenToUse:
    "Storage or query latency degraded by fragmentation, tombstones or bloat in a datastore whose target declares a compaction CronJob (aiops.prophet.io/compact-storage-cronjob).",
  whenNotToUse:
    "The volume is almost full (compaction often needs free space first: expand_pvc); during peak load (compaction is I/O heavy); no compaction CronJob is declared.",
  targetKinds: ["StatefulSet", "PersistentVolumeClaim", "Deployment"],
  scope: "storage",
  params: z.strictObject({}),
});
