// failover_database: run the operator's failover procedure (a Job from a declared CronJob).
import { z } from "zod";
import { declaredJobAction, declaredJobNote } from "./job-from-template.js";

export const failoverDatabase = declaredJobAction({
  name: "failover_database",
  description: `Promotes a replica of a database by running the operator's failover Job (e.g. patronictl failover, a managed-service API call). ${declaredJobNote}`,
  whenToUse:
    "The database primary is down or unhealthy (crash loop, node lost, replication stuck on it) while a healthy replica exists, and the target declares a failover CronJob (aiops.prophet.io/failover-database-cronjob).",
  whenNotToUse:
    "The primary is only slow or briefly restarting (a failover costs a reconnect storm and maybe data); replicas are lagging far behind; the database's own operator (Patroni, CloudNativePG) is already failing over; no failover CronJob is declared.",
  targetKinds: ["StatefulSet", "Deployment"],
  scope: "data",
  params: z.strictObject({}),
});
