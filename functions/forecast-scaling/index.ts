// forecast-scaling: every minute, for each PredictiveScale that is due, forecasts its demand from
// Prometheus history and holds Karpenter capacity ahead of it (a CapacityBuffer, balloon pods a
// real pod preempts, or a static NodePool's size), so pods do not wait for nodes; or, with
// action recommend, only reports what it would hold. See shared/capacity/.
import { CapacityChanged, ForecastComputed, ScheduleTick, isEvent } from "../../shared/events/catalog.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { runForecastScaling } from "../../shared/capacity/scale.js";

const name = "forecast-scaling";

export const forecastScaling = defineFunction({
  name,
  description:
    "Forecasts each PredictiveScale's demand and provisions Karpenter capacity before it is needed.",
  accepts: [ScheduleTick.type],
  schedules: [{ name: "forecast-scaling", cron: "* * * * *" }],
  emits: [ForecastComputed.type, CapacityChanged.type],
  async handle(event, deps) {
    if (!isEvent(event, ScheduleTick) || event.data.schedule !== "forecast-scaling") return [];
    const report = await runForecastScaling(
      { deps, source: functionSource(name), actor: `function:${name}` },
      event,
    );
    deps.log.info(
      {
        evaluated: report.outcomes.length,
        skipped: report.skipped,
        problems: report.outcomes.filter((o) => o.reason).map((o) => `${o.key}: ${o.reason}`),
      },
      "PredictiveScales evaluated",
    );
    return report.events;
  },
});
