// cleanup_storage: run the operator's cleanup procedure (a Job from a declared CronJob).
import { z } from "zod";
import { declaredJobAction, declaredJobNote } from "./job-from-template.js";

export const cleanupStorage = declaredJobAction({
  name: "cleanup_storage",
  description: `Frees space on a volume by running the operator's cleanup Job (old logs, temp files, expired data). ${declaredJobNote}`,
  whenToUse:
    "A volume filling up with data that can be deleted (logs, caches, expired partitions) and the target declares a cleanup CronJob (aiops.prophet.io/cleanup-storage-cronjob).",
  whenNotToUse:
    "The data is legitimately growing (use expand_pvc); no cleanup CronJob is declared; the volume is full because of a bug writing data (fix or stop the writer first).",
  targetKinds: ["PersistentVolumeClaim", "StatefulSet", "Deployment"],
  scope: "storage",
  params: z.strictObject({}),
});
