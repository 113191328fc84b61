// audit-verify: on a schedule, walks the audit log's hash chain and raises
// io.prophet.audit.tampered when a row was changed, removed or inserted.
import { AuditTampered, AuditVerified, ScheduleTick, isEvent } from "../../shared/events/catalog.js";
import { makeEvent } from "../../shared/events/emit.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { verifyAudit } from "../../shared/store/audit.js";

const name = "audit-verify";

export const auditVerify = defineFunction({
  name,
  description: "Verifies the audit log's hash chain on a schedule; reports tampering.",
  accepts: [ScheduleTick.type],
  schedules: [{ name: "audit-verify", cron: "*/15 * * * *" }],
  emits: [AuditVerified.type, AuditTampered.type],
  async handle(event, deps) {
    if (!isEvent(event, ScheduleTick) || event.data.schedule !== "audit-verify") return [];
    const result = await verifyAudit(deps.store);
    const def = result.ok ? AuditVerified : AuditTampered;
    if (result.ok) deps.log.info({ rows: result.rows }, "audit chain intact");
    else deps.log.error({ firstBadSeq: result.firstBadSeq, reason: result.reason }, "audit chain broken");
    return [
      makeEvent(def, result, {
        cause: event,
        source: functionSource(name),
        subject: "audit_log",
        time: deps.clock.now(),
      }),
    ];
  },
});
