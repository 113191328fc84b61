// notify_only: change nothing; the pipeline's notifier sends the message.
import { z } from "zod";
import { defineAction } from "../action.js";

const params = z.strictObject({
  message: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .describe(
      "what to tell the on-call people: the problem, why nothing is changed automatically, what to check",
    ),
});

type Params = z.infer<typeof params>;

export const notifyOnly = defineAction<Params>({
  name: "notify_only",
  description:
    'Read-only: changes nothing in the cluster and only notifies people with a message (the pipeline\'s notifier sends it). Accepts any target kind (targetKinds ["*"]).',
  whenToUse:
    "No safe automatic remediation exists, the evidence is too weak or the blast radius too large, or a human decision is needed (capacity purchases, code fixes, external dependencies).",
  whenNotToUse:
    "A listed action fits the finding and its preconditions hold (run it and notify through the pipeline).",
  targetKinds: ["*"],
  scope: "observe",
  requiresApproval: false,
  readOnly: true,
  params,
  async check() {
    return { ok: true };
  },
  async execute(_ctx, _t, p) {
    return { changes: [`notified: ${p.message}`] };
  },
  async verify(_ctx, _t, p, result) {
    return result.changes.includes(`notified: ${p.message}`)
      ? { ok: true, detail: "notification handed to the pipeline" }
      : { ok: false, detail: "no notification line in the result" };
  },
});
