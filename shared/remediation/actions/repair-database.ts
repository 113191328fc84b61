// repair_database: run the operator's repair procedure (a Job from a declared CronJob).
import { z } from "zod";
import { declaredJobAction, declaredJobNote } from "./job-from-template.js";

export const repairDatabase = declaredJobAction({
  name: "repair_database",
  description: `Repairs a database by running the operator's repair Job (reindex, consistency check and fix, rebuilding a broken replica). ${declaredJobNote}`,
  whenToUse:
    "Corruption, broken indexes or a replica that cannot rejoin, reported by the database's logs or checks, on a target that declares a repair CronJob (aiops.prophet.io/repair-database-cronjob).",
  whenNotToUse:
    "The database is down for infrastructure reasons (node, volume, network: fix those); before a backup exists (run backup_data first); no repair CronJob is declared.",
  targetKinds: ["StatefulSet", "Deployment"],
  scope: "data",
  params: z.strictObject({}),
});
