// anomaly-trigger: every minute, evaluates every AnomalyAction per series of its PromQL — the
// learned streaming detector (with a trend view and the projected time to the memory limit) or a
// threshold — with each series' detector state kept in the store, so a cold start does not forget.
// An anomalous series emits io.prophet.anomaly.detected and an alert (→ incident → diagnosis →
// remediation, where the AnomalyAction's remediation is preferred and requireApproval proposes);
// the status goes back to the object.
import {
  AlertFiring,
  AlertResolved,
  AnomalyDetected,
  ScheduleTick,
  isEvent,
} from "../../shared/events/catalog.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { runAnomalyTrigger } from "../../shared/anomaly/trigger/trigger.js";

const name = "anomaly-trigger";

export const anomalyTrigger = defineFunction({
  name,
  description:
    "Evaluates AnomalyActions per series (learned detector, trend, projected OOM, thresholds); raises anomalies as alerts for remediation.",
  accepts: [ScheduleTick.type],
  schedules: [{ name: "anomaly-trigger", cron: "* * * * *" }],
  emits: [AnomalyDetected.type, AlertFiring.type, AlertResolved.type],
  async handle(event, deps) {
    if (!isEvent(event, ScheduleTick) || event.data.schedule !== "anomaly-trigger") return [];
    const report = await runAnomalyTrigger(
      { deps, source: functionSource(name), actor: `function:${name}` },
      event,
      deps.anomaly,
    );
    deps.log.info(
      {
        actions: report.actions,
        series: report.series,
        detections: report.detections,
        invalid: report.invalid.length,
        requests: report.requests,
      },
      "AnomalyActions evaluated",
    );
    return report.events;
  },
});
