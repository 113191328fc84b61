// Builds the ports a function needs from the configuration. Cloud adapters call this once per
// container (cold start) and reuse it across invocations.
import type { Config } from "../../shared/config.js";
import type { SloSettings } from "../../shared/slo/check.js";
import type { RemediationSettings } from "../../shared/remediation/settings.js";
import { flowSettings } from "../../shared/flows/settings.js";
import { ProphetError } from "../../shared/errors.js";
import type { Deps } from "../../shared/function.js";
import { systemClock, type Clock } from "../../shared/ports/clock.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import type { LlmPort } from "../../shared/ports/llm.js";
import type { Logger } from "../../shared/ports/log.js";
import type { MetricsPort } from "../../shared/ports/metrics.js";
import type { Notifier } from "../../shared/ports/notify.js";
import { openStore } from "../../shared/store/open.js";
import { clusterDirectory } from "./clusters.js";
import { createLogger } from "./logger.js";

/** The platform we run on, from the variables each one sets; undefined locally. */
export function cloudPlatform(env: Record<string, string | undefined>): string | undefined {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return "AWS Lambda";
  if (env.FUNCTIONS_WORKER_RUNTIME) return "Azure Functions";
  if (env.K_SERVICE) return "Knative / Cloud Run";
  return undefined;
}

export interface RuntimeDeps extends Deps {
  close(): Promise<void>;
}

/**
 * The cluster to diagnose and act on: an explicit kubeconfig (KUBECONFIG, or the sandbox's that
 * the local host passes), else in-cluster credentials. Never ~/.kube/config implicitly: Prophet
 * must not reach a real cluster nobody pointed it at. client-node loads only when one is set.
 */
async function clusterPort(
  kubeconfig: string | undefined,
  env: Record<string, string | undefined>,
): Promise<ClusterPort | undefined> {
  if (!kubeconfig && !env.KUBERNETES_SERVICE_HOST) return undefined;
  return lazyClusterPort(
    async () => {
      const { kubeClusterPort } = await import("../../shared/kube/cluster-port.js");
      return kubeClusterPort(kubeconfig ? { kubeconfig } : {});
    },
    kubeconfig ? `kubeconfig ${kubeconfig}` : "in-cluster",
  );
}

/**
 * Defers loading @kubernetes/client-node (~100 ms) to the first read, so functions that never
 * touch the cluster do not pay for it at cold start. A bad kubeconfig surfaces on that first read,
 * where alert-diagnosis records the diagnosis as Unavailable with the reason.
 */
export function lazyClusterPort(load: () => Promise<ClusterPort>, provisionalName: string): ClusterPort {
  let loaded: ClusterPort | undefined;
  let pending: Promise<ClusterPort> | undefined;
  const port = async (): Promise<ClusterPort> => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return (loaded ??= await pending);
  };
  const writer = async (): Promise<ClusterPort> => {
    const p = await port();
    if (!p.patch || !p.create || !p.delete || !p.evict)
      throw new ProphetError("invalid_config", `the cluster port of ${p.name} is read-only`);
    return p;
  };
  return {
    get name() {
      return loaded?.name ?? provisionalName;
    },
    list: async (kind, namespace, opts) => (await port()).list(kind, namespace, opts),
    get: async (kind, namespace, name) => (await port()).get(kind, namespace, name),
    // The loaded port (client-node) can always watch.
    listWithVersion: async (kind, namespace, opts) => (await port()).listWithVersion!(kind, namespace, opts),
    watch: async (kind, namespace, opts) => (await port()).watch!(kind, namespace, opts),
    podLogs: async (namespace, pod, container, opts) =>
      (await port()).podLogs(namespace, pod, container, opts),
    events: async (ref) => (await port()).events(ref),
    // Writes: the loaded port (client-node) always has them.
    patch: async (kind, namespace, name, patch, opts) =>
      (await writer()).patch!(kind, namespace, name, patch, opts),
    create: async (kind, namespace, obj) => (await writer()).create!(kind, namespace, obj),
    delete: async (kind, namespace, name) => (await writer()).delete!(kind, namespace, name),
    evict: async (namespace, pod) => (await writer()).evict!(namespace, pod),
  };
}

/**
 * The LLM, when a model and an endpoint (OPENAI_BASE_URL, or OpenAI itself with OPENAI_API_KEY)
 * are configured; always behind masking. The adapter loads `openai` only on its first call.
 */
export async function llmPort(cfg: Config, log: Logger): Promise<LlmPort | undefined> {
  if (!cfg.OPENAI_BASE_URL && !cfg.OPENAI_API_KEY) return undefined;
  if (!cfg.OPENAI_MODEL) {
    throw new ProphetError(
      "invalid_config",
      "OPENAI_MODEL is required when OPENAI_BASE_URL or OPENAI_API_KEY is set (e.g. gpt-4o-mini, llama3.1:8b)",
      [{ path: "OPENAI_MODEL", message: "required with OPENAI_BASE_URL or OPENAI_API_KEY" }],
    );
  }
  const [{ openAiCompatible }, { maskedLlm }, { randomBytes }] = await Promise.all([
    import("../../shared/llm/openai.js"),
    import("../../shared/llm/masked.js"),
    import("node:crypto"),
  ]);
  if (!cfg.PROPHET_MASK_KEY)
    log.info({}, "PROPHET_MASK_KEY is unset: masked names use a random key for this process only");
  const inner = openAiCompatible({
    ...(cfg.OPENAI_BASE_URL ? { baseURL: cfg.OPENAI_BASE_URL } : {}),
    ...(cfg.OPENAI_API_KEY ? { apiKey: cfg.OPENAI_API_KEY } : {}),
    model: cfg.OPENAI_MODEL,
    timeoutMs: cfg.PROPHET_LLM_TIMEOUT_MS,
    maxTokens: cfg.PROPHET_LLM_MAX_TOKENS,
  });
  return maskedLlm(inner, cfg.PROPHET_MASK_KEY ?? randomBytes(32));
}

/**
 * The metrics port: PROMETHEUS_URL (with PROMETHEUS_BEARER_TOKEN), else the Prometheus API the
 * local host passes (the sandbox's). The token is never sent to that fallback: it belongs to the
 * configured server.
 */
export async function metricsPort(cfg: Config, fallbackUrl?: string): Promise<MetricsPort | undefined> {
  const url = cfg.PROMETHEUS_URL ?? fallbackUrl;
  if (!url) return undefined;
  const { prometheusMetrics } = await import("../../shared/metrics/prometheus.js");
  return prometheusMetrics({
    url,
    ...(cfg.PROMETHEUS_URL && cfg.PROMETHEUS_BEARER_TOKEN
      ? { bearerToken: cfg.PROMETHEUS_BEARER_TOKEN }
      : {}),
  });
}

/** The notification channels configured; none means incident-notify stays silent. */
export async function notifiers(cfg: Config): Promise<Notifier[]> {
  if (!cfg.SLACK_WEBHOOK_URL && !cfg.PROPHET_NOTIFY_WEBHOOK_URL) return [];
  const [{ slackNotifier }, { webhookNotifier }] = await Promise.all([
    import("../../shared/notify/slack.js"),
    import("../../shared/notify/webhook.js"),
  ]);
  return [
    ...(cfg.SLACK_WEBHOOK_URL ? [slackNotifier(cfg.SLACK_WEBHOOK_URL)] : []),
    ...(cfg.PROPHET_NOTIFY_WEBHOOK_URL ? [webhookNotifier(cfg.PROPHET_NOTIFY_WEBHOOK_URL)] : []),
  ];
}

export function remediationSettings(cfg: Config): RemediationSettings {
  const files = cfg.PROPHET_POLICY_FILES?.split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  return {
    defaultMode: cfg.PROPHET_REMEDIATION_MODE,
    publicUrl: cfg.PROPHET_PUBLIC_URL ?? `http://${cfg.HOST}:${cfg.PORT}`,
    ...(cfg.PROPHET_APPROVAL_KEY ? { approvalKey: cfg.PROPHET_APPROVAL_KEY } : {}),
    stabilizationSeconds: cfg.PROPHET_STABILIZATION_SECONDS,
    ...(files?.length
      ? {
          policies: async () => {
            const { loadPolicies } = await import("../../shared/remediation/policy-source.js");
            return (await loadPolicies(files)).policies;
          },
        }
      : {}),
  };
}

/** SLO files besides the cluster's objects (PROPHET_SLO_FILES); read on every evaluation. */
export function sloSettings(cfg: Config): SloSettings {
  const files = cfg.PROPHET_SLO_FILES?.split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  if (!files?.length) return {};
  return {
    specs: async () => {
      const { loadSloFiles } = await import("../../shared/slo/spec/index.js");
      return loadSloFiles(files);
    },
  };
}

export async function createDeps(
  cfg: Config,
  overrides: {
    clock?: Clock;
    log?: Logger;
    kubeconfig?: string;
    prometheusUrl?: string;
    /** The sandbox's /sandbox/flows when the local host runs one. */
    flowsUrl?: string;
  } = {},
): Promise<RuntimeDeps> {
  const log = overrides.log ?? createLogger(cfg.LOG_LEVEL);
  const platform = cloudPlatform(process.env);
  if (platform && !cfg.DATABASE_URL) {
    throw new ProphetError(
      "invalid_config",
      `DATABASE_URL is required on ${platform}: functions are stateless and keep their state in PostgreSQL (PGlite is the local default only)`,
      [{ path: "DATABASE_URL", message: "required in a cloud deployment" }],
    );
  }
  const llm = await llmPort(cfg, log); // before the store: a bad LLM setting must not leak it
  const notify = await notifiers(cfg);
  const metrics = await metricsPort(cfg, overrides.prometheusUrl);
  // before the store, likewise
  const clusters = await clusterDirectory(cfg.PROPHET_CLUSTERS_FILE, { informers: cfg.PROPHET_KUBE_WATCH });
  const store = await openStore({
    ...(cfg.DATABASE_URL ? { databaseUrl: cfg.DATABASE_URL } : {}),
    dataDir: cfg.PROPHET_DATA_DIR,
    pool: { max: cfg.PROPHET_DB_POOL_MAX, warm: cfg.PROPHET_DB_POOL_WARM },
  });
  const kube = await clusterPort(overrides.kubeconfig ?? cfg.KUBECONFIG, process.env);
  if (kube && cfg.PROPHET_KUBE_WATCH) {
    const { enableInformers } = await import("../../shared/kube/snapshot.js");
    enableInformers(kube);
  }
  return {
    store,
    ...(kube ? { kube } : {}),
    ...(clusters ? { clusters } : {}),
    ...(metrics ? { metrics } : {}),
    ...(llm ? { llm } : {}),
    ...(notify.length > 0 ? { notify } : {}),
    clock: overrides.clock ?? systemClock,
    log,
    cluster: cfg.PROPHET_CLUSTER,
    remediation: remediationSettings(cfg),
    slo: sloSettings(cfg),
    flows: flowSettings(cfg, overrides.flowsUrl),
    close: async () => {
      if (cfg.PROPHET_KUBE_WATCH) (await import("../../shared/kube/snapshot.js")).closeInformers();
      await store.close();
    },
  };
}

/** Lazily creates deps once and shares the promise (concurrent cold invocations wait together). */
export function lazyDeps(make: () => Promise<RuntimeDeps>): () => Promise<RuntimeDeps> {
  let pending: Promise<RuntimeDeps> | undefined;
  return () => {
    pending ??= make().catch((err) => {
      pending = undefined; // a failed start (database down) is retried on the next invocation
      throw err;
    });
    return pending;
  };
}
