import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { InvocationObserver } from "../../shared/invocation/invoke.js";
import type { Sql } from "../../shared/ports/store.js";
import { listSloStates } from "../../shared/slo/state.js";

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

export function createHostMetrics(store?: Sql): HostMetrics {
  const registry = new Registry();
  if (store) sloGauges(registry, store);
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
