// slo-check: every minute, evaluates every SLO (Sloth files and PrometheusServiceLevel objects,
// OpenSLO, SLOViolation) through the metrics port: burn rates over Sloth's windows, the budget
// left, the four multiwindow tiers, time to exhaustion. A firing tier raises an alert (→ incident
// → diagnosis → remediation, where rollbacks are proposed); a spent budget freezes deploys when
// the SLOViolation asks for it; the status goes back to the object.
import {
  AlertFiring,
  AlertResolved,
  ScheduleTick,
  SloEvaluated,
  SloViolated,
  isEvent,
} from "../../shared/events/catalog.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { checkSlos } from "../../shared/slo/check.js";

const name = "slo-check";

export const sloCheck = defineFunction({
  name,
  description:
    "Evaluates SLOs: error budgets, multiwindow burn rates, time to exhaustion; alerts and enforces.",
  accepts: [ScheduleTick.type],
  schedules: [{ name: "slo-check", cron: "* * * * *" }],
  emits: [SloEvaluated.type, SloViolated.type, AlertFiring.type, AlertResolved.type],
  async handle(event, deps) {
    if (!isEvent(event, ScheduleTick) || event.data.schedule !== "slo-check") return [];
    const report = await checkSlos(
      { deps, source: functionSource(name), actor: `function:${name}` },
      event,
      deps.slo,
    );
    deps.log.info(
      { evaluated: report.evaluated, invalid: report.invalid.length, requests: report.requests },
      "SLOs evaluated",
    );
    return report.events;
  },
});
