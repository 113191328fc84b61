import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { InvocationObserver } from "../../shared/invocation/invoke.js";
import type { Sql } from "../../shared/ports/store.js";
import { listSloStates } from "../../shared/slo/state.js";
import { listForecastStates } from "../../shared/capacity/state.js";

export interface HostMetrics {
  registry: Registry;
  observer: InvocationObserver;
}

/**
 * slo-check's results as gauges for Grafana (manifests/grafana/slo-burn.json), read from the
 * store at scrape time: the function itself is stateless and may not be running when scraped.
 * Labels are Sloth's, so they join with its recording rules.
 */
function sloGauges(registry: Registry, store: Sql): void {
  const labelNames = ["cluster", "sloth_id", "sloth_service", "sloth_slo"] as const;
  const states = () => listSloStates(store).catch(() => []);
  const labelsOf = (s: Awaited<ReturnType<typeof listSloStates>>[number]) => ({
    cluster: s.cluster,
    sloth_id: s.sloId,
    sloth_service: s.evaluation?.service ?? "",
    sloth_slo: s.evaluation?.slo ?? "",
  });
  new Gauge({
    name: "prophet_slo_error_budget_remaining_ratio",
    help: "Share of the SLO period's error budget left at the last evaluation (negative: overspent).",
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await states()) {
        const v = s.evaluation?.budgetRemaining;
        if (typeof v === "number") this.set(labelsOf(s), v);
      }
    },
  });
  new Gauge({
    name: "prophet_slo_time_to_exhaustion_seconds",
    help: "Projected seconds until the error budget is spent (0: spent); absent when not within the period.",
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await states()) {
        const t = s.evaluation?.timeToExhaustion as { seconds?: number | null } | null | undefined;
        if (typeof t?.seconds === "number") this.set(labelsOf(s), t.seconds);
      }
    },
  });
}

/**
 * forecast-scaling's last evaluation per PredictiveScale (manifests/grafana/capacity-forecast.json):
 * demand now, what was forecast for now one lead time ago (mean and 95 % band), what the capacity
 * is sized for, the reserve, lead time and forecast coverage. Read from the store at scrape time.
 */
function capacityGauges(registry: Registry, store: Sql): void {
  const labelNames = ["cluster", "namespace", "predictivescale", "nodepool"] as const;
  const gauge = (name: string, help: string, pick: (last: Record<string, unknown>) => unknown) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await listForecastStates(store).catch(() => [])) {
          const last = s.state.last;
          const v = last ? pick(last) : undefined;
          if (typeof v !== "number" || !Number.isFinite(v)) continue;
          const [namespace = "", predictivescale = ""] = s.key.split("/");
          this.set(
            { cluster: s.cluster, namespace, predictivescale, nodepool: String(last?.nodePool ?? "") },
            v,
          );
        }
      },
    });
  const forNow = (l: Record<string, unknown>) => (l.forNow ?? {}) as Record<string, unknown>;
  const acc = (l: Record<string, unknown>) => (l.accuracy ?? {}) as Record<string, unknown>;
  gauge(
    "prophet_forecast_demand",
    "Demand observed at the last evaluation (the forecastQuery's unit).",
    (l) => l.current,
  );
  gauge(
    "prophet_forecast_expected",
    "Mean forecast made one window earlier for the moment of the last evaluation.",
    (l) => forNow(l).mean,
  );
  gauge("prophet_forecast_expected_lower95", "Lower 95 % bound of that forecast.", (l) => forNow(l).lower95);
  gauge("prophet_forecast_expected_upper95", "Upper 95 % bound of that forecast.", (l) => forNow(l).upper95);
  gauge(
    "prophet_forecast_target",
    "Demand the capacity is sized for over the node lead time (headroom included).",
    (l) => l.target,
  );
  gauge(
    "prophet_forecast_predicted_peak",
    "Highest point of the mean forecast over the horizon.",
    (l) => (l.predictedPeak as { value?: number } | undefined)?.value,
  );
  gauge(
    "prophet_capacity_buffer_replicas",
    "Pods of the workload's shape held in reserve.",
    (l) => l.bufferReplicas,
  );
  gauge(
    "prophet_capacity_desired_replicas",
    "Reserve the forecast asked for before hysteresis.",
    (l) => l.desiredReplicas,
  );
  gauge(
    "prophet_capacity_new_nodes",
    "Nodes the reserve needs beyond the pool's free room (estimate).",
    (l) => l.newNodes,
  );
  gauge(
    "prophet_capacity_lead_time_seconds",
    "Node lead time used (measured launch-to-Ready, or configured).",
    (l) => l.leadTimeSeconds,
  );
  gauge(
    "prophet_forecast_coverage_ratio",
    "Share of scored forecasts whose provisioned demand covered what came.",
    (l) => acc(l).coverage,
  );
  gauge(
    "prophet_forecast_mape_ratio",
    "Mean absolute percentage error of the mean forecast.",
    (l) => acc(l).mape,
  );
}

export function createHostMetrics(store?: Sql): HostMetrics {
  const registry = new Registry();
  if (store) {
    sloGauges(registry, store);
    capacityGauges(registry, store);
  }
  collectDefaultMetrics({ register: registry, prefix: "prophet_process_" });
  const labels = ["function", "type"] as const;
  const received = new Counter({
    name: "prophet_events_received_total",
    help: "Events offered to a function",
    labelNames: labels,
    registers: [registry],
  });
  const emitted = new Counter({
    name: "prophet_events_emitted_total",
    help: "Events a function emitted and delivered",
    labelNames: labels,
    registers: [registry],
  });
  const duplicate = new Counter({
    name: "prophet_events_duplicate_total",
    help: "Redelivered events recognised and skipped",
    labelNames: labels,
    registers: [registry],
  });
  const failed = new Counter({
    name: "prophet_events_failed_total",
    help: "Handler or delivery failures",
    labelNames: [...labels, "code"],
    registers: [registry],
  });
  const rejected = new Counter({
    name: "prophet_events_rejected_total",
    help: "Inputs rejected as invalid (4xx)",
    labelNames: [...labels, "code"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "prophet_handler_duration_seconds",
    help: "Handler run time",
    labelNames: labels,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observer: {
      received: (f, t) => received.inc({ function: f, type: t }),
      emitted: (f, t) => emitted.inc({ function: f, type: t }),
      duplicate: (f, t) => duplicate.inc({ function: f, type: t }),
      failed: (f, t, code) => failed.inc({ function: f, type: t, code }),
      rejected: (f, t, code) => rejected.inc({ function: f, type: t, code }),
      duration: (f, t, s) => duration.observe({ function: f, type: t }, s),
    },
  };
}
