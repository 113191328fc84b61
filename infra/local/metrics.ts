import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { InvocationObserver } from "../../shared/invocation/invoke.js";

export interface HostMetrics {
  registry: Registry;
  observer: InvocationObserver;
}

export function createHostMetrics(): HostMetrics {
  const registry = new Registry();
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
