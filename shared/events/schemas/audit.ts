import { z } from "zod";

/** data of io.prophet.audit.verified and io.prophet.audit.tampered */
export const auditVerificationDataSchema = z.object({
  ok: z.boolean(),
  rows: z.number().int().nonnegative(),
  headHash: z.string().nullable(),
  firstBadSeq: z.number().int().positive().nullable(),
  reason: z.string().nullable(),
});
export type AuditVerificationData = z.infer<typeof auditVerificationDataSchema>;
