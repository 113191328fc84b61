// A Prophet function is a value. Runtime adapters (infra/) turn it into a Functions Framework
// target, a Lambda handler, an Azure Functions registration or a local bus subscriber.
import type { ProphetEvent } from "./events/envelope.js";
import type { Clock } from "./ports/clock.js";
import type { ClusterPort } from "./ports/cluster.js";
import type { LlmPort } from "./ports/llm.js";
import type { Logger } from "./ports/log.js";
import type { MetricsPort } from "./ports/metrics.js";
import type { Notifier } from "./ports/notify.js";
import type { Store } from "./ports/store.js";
import type { SloSettings } from "./slo/check.js";
import type { FlowSettings } from "./flows/settings.js";
import type { AnomalyTriggerSettings } from "./anomaly/trigger/trigger.js";
import type { RemediationSettings } from "./remediation/settings.js";

/**
 * The clusters one deployment serves besides its default one (the cluster registry,
 * shared/clusters): the invocation gives a function the ports of the cluster its event names.
 */
export interface ClusterDirectory {
  /** The registered cluster names, sorted. */
  names(): string[];
  /** The ports of a registered cluster; undefined when no cluster of that name is registered. */
  ports(name: string): { kube?: ClusterPort; metrics?: MetricsPort } | undefined;
}

export interface Deps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** The cluster the deployment serves when an event names none. */
  cluster: string;
  /** The Kubernetes cluster to read; absent when none is configured (functions must cope). */
  kube?: ClusterPort;
  /**
   * More clusters (PROPHET_CLUSTERS_FILE): with a directory, an event naming a cluster runs with
   * that cluster's ports and name, and an event naming an unknown cluster is refused. Without one,
   * the deployment serves one cluster, whatever name its events give it.
   */
  clusters?: ClusterDirectory;
  /**
   * The deployment's own (management) cluster when the event is about another one: where global
   * policies (AutonomousActions) live. Set by the invocation; absent when serving the home cluster.
   */
  home?: ClusterPort;
  /** PromQL over the cluster's Prometheus (or Thanos, Mimir, the sandbox's); absent when none is
   * configured, so functions must cope without metrics. */
  metrics?: MetricsPort;
  /** An OpenAI-compatible model, always behind masking; absent means rule-based explanations. */
  llm?: LlmPort;
  /** Where incident notifications go (Slack, a JSON webhook); absent or empty means nowhere. */
  notify?: readonly Notifier[];
  /** Remediation wiring (approval links, default mode, stabilization window); defaults when absent. */
  remediation?: RemediationSettings;
  /** Where slo-check finds SLO specs besides the cluster (files), and its options. */
  slo?: SloSettings;
  /** Where anomaly-trigger finds AnomalyActions besides the cluster (files), and its options. */
  anomaly?: AnomalyTriggerSettings;
  /** Where hubble-quarantine pulls flows from, how long it learns, what a detection does. */
  flows?: FlowSettings;
}

export interface Schedule {
  /** Stable name; becomes io.prophet.schedule.tick data.schedule. */
  name: string;
  /** Five-field cron expression, UTC. */
  cron: string;
}

export interface ProphetFunction {
  name: string;
  description: string;
  accepts: readonly string[];
  /** Timers this function wants; every runtime's scheduler delivers them as schedule.tick. */
  schedules?: readonly Schedule[];
  /** Types it may emit (checked in tests against what it does emit). */
  emits: readonly string[];
  handle(event: ProphetEvent, deps: Deps): Promise<ProphetEvent[]>;
}

export function defineFunction(fn: ProphetFunction): ProphetFunction {
  return fn;
}

/** The CloudEvents source of everything a function emits. */
export function functionSource(name: string): string {
  return `/prophet/functions/${name}`;
}
