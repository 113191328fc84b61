// slo_status: what slo-check last evaluated per SLO (table slo_state): phase, budget, burn rates,
// the alerts it raised.
import { z } from "zod";
import { listSloStates } from "../../slo/state.js";
import { rowFilter } from "../context.js";
import { clusterArg, defineTool } from "./tool.js";

export const sloStatus = defineTool({
  name: "slo_status",
  description:
    "Every SLO slo-check evaluates: phase (Monitoring, Violated, Remediating, Resolved), error budget left, burn rates per window, time to exhaustion, the page/ticket alerts firing.",
  input: z.strictObject({
    cluster: clusterArg,
    slo: z.string().min(1).max(300).optional().describe("only SLOs whose id contains this"),
    violatedOnly: z.boolean().default(false),
  }),
  async run(ctx, args) {
    const keep = rowFilter(ctx, args.cluster);
    const states = (await listSloStates(ctx.deps.store)).filter(
      (s) =>
        keep(s.cluster) &&
        (!args.slo || s.sloId.includes(args.slo)) &&
        (!args.violatedOnly || s.phase === "Violated"),
    );
    return {
      count: states.length,
      items: states.map((s) => ({
        cluster: s.cluster,
        slo: s.sloId,
        phase: s.phase,
        firing: Object.keys(s.firing),
        violations: s.violationCount,
        lastViolated: s.lastViolated,
        evaluatedAt: s.evaluatedAt,
        evaluation: s.evaluation,
      })),
    };
  },
});
