// Wiring from environment variables, validated once at start-up. A bad value stops start-up with
// a message naming the variable and what it expects; nothing else reads process.env.
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { ProphetError } from "./errors.js";
import { mcpTokensSchema } from "./mcp/access.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "expected true or false" })
  .transform((v) => ["true", "1", "yes"].includes(v));
const url = (what: string) => z.url({ error: `expected a URL (${what})` });

export const configSchema = z.object({
  PORT: z.coerce.number({ error: "expected a port number" }).int().min(1).max(65535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .optional(),
  PROPHET_DATA_DIR: z.string().min(1).default(".prophet"),
  PROPHET_CLUSTER: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-label cluster name")
    .default("local"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  PROPHET_SINK: z.enum(["auto", "bus", "http", "eventbridge", "pubsub", "eventgrid", "none"]).default("auto"),
  K_SINK: url("Knative sink").optional(),
  EVENTBRIDGE_BUS_NAME: z.string().min(1).default("default"),
  AWS_REGION: z.string().optional(),
  PUBSUB_TOPIC: z.string().min(1).optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  EVENTGRID_TOPIC_ENDPOINT: url("Event Grid topic endpoint").optional(),
  EVENTGRID_KEY: z.string().min(1).optional(),
  PROPHET_CRON: bool.default(true),
  /** Informers (list + watch) for the clusters' reads in warm, long-lived instances. */
  PROPHET_KUBE_WATCH: bool.default(false),
  /**
   * PostgreSQL connections per instance: at most, and opened up front. A webhook's alert lanes run
   * side by side, each on a connection; on AWS Lambda (one request per instance, and many
   * instances) the generated functions use 4 and 1 so a burst does not exhaust the database.
   */
  PROPHET_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  PROPHET_DB_POOL_WARM: z.coerce.number().int().min(0).max(200).default(4),
  PROPHET_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(300),
  KUBECONFIG: z.string().optional(),
  /** The cluster registry's file of cluster definitions (no secrets); default ~/.prophet/clusters.json. */
  PROPHET_CLUSTERS_FILE: z.string().min(1).optional(),
  PROPHET_SANDBOX: bool.default(true),
  PROPHET_SANDBOX_SPEED: z.coerce.number({ error: "expected a number" }).positive().max(10_000).default(1),
  /** Prometheus-compatible API, path prefix included (Thanos/Mimir: .../prometheus); user info
   * in it is sent as basic auth. Default with the embedded sandbox: the sandbox's /prometheus. */
  PROMETHEUS_URL: z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL (Prometheus-compatible API)" })
    .optional(),
  /** Bearer token for PROMETHEUS_URL (a credential: never logged). */
  PROMETHEUS_BEARER_TOKEN: z.string().min(1).optional(),
  OPENAI_BASE_URL: url("OpenAI-compatible endpoint").optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_MODEL: z.string().optional(),
  /** HMAC key for masking names sent to the LLM; a random per-process key when unset (ADR 0005). */
  PROPHET_MASK_KEY: z.string().min(16, "expected at least 16 characters").optional(),
  /** Deadline of one LLM call, retries included. */
  PROPHET_LLM_TIMEOUT_MS: z.coerce
    .number({ error: "expected milliseconds" })
    .int()
    .min(100)
    .max(300_000)
    .default(20_000),
  PROPHET_LLM_MAX_TOKENS: z.coerce
    .number({ error: "expected a number" })
    .int()
    .min(64)
    .max(16_384)
    .default(800),
  /** Slack incoming webhook for incident notifications (a credential: never logged). */
  SLACK_WEBHOOK_URL: url("Slack incoming webhook").optional(),
  /** Generic JSON webhook for incident notifications (body in shared/notify/webhook.ts). */
  PROPHET_NOTIFY_WEBHOOK_URL: url("notification webhook").optional(),
  /** Approval mode of the default policy, used only while the cluster has no AutonomousAction. */
  PROPHET_REMEDIATION_MODE: z.enum(["autonomous", "human-in-loop", "dry-run"]).default("human-in-loop"),
  /** Base URL of approval links in notifications (default http://HOST:PORT locally). */
  PROPHET_PUBLIC_URL: url("public base URL").optional(),
  /** HMAC key of approval tokens (a credential); a random key kept in the store when unset. */
  PROPHET_APPROVAL_KEY: z.string().min(16, "expected at least 16 characters").optional(),
  /** Seconds after an action before the assessor scores it. */
  PROPHET_STABILIZATION_SECONDS: z.coerce
    .number({ error: "expected seconds" })
    .int()
    .min(10)
    .max(86_400)
    .default(300),
  /** Comma-separated YAML files or directories of AutonomousAction objects, instead of the cluster's. */
  PROPHET_POLICY_FILES: z.string().optional(),
  /** Comma-separated SLO spec files or directories (Sloth, OpenSLO, SLOViolation YAML), besides the cluster's objects. */
  PROPHET_SLO_FILES: z.string().optional(),
  /** Hubble Relay (host:port) hubble-quarantine pulls flows from every minute (gRPC, plaintext). */
  HUBBLE_RELAY_ADDRESS: z.string().min(1).optional(),
  /** Or flows as JSONL over HTTP (`?since=<RFC 3339>`), e.g. the sandbox's /sandbox/flows. */
  HUBBLE_FLOWS_URL: url("Hubble flows URL").optional(),
  /** How long hubble-quarantine learns each workload's traffic before it judges it (e.g. 24h). */
  PROPHET_FLOW_LEARNING: z
    .string()
    .regex(/^(\d+[wdhms])+$/, "expected a duration like 12h or 1d12h")
    .default("24h"),
  /** What a detection at or above PROPHET_FLOW_QUARANTINE_SCORE does: nothing more (off), propose a
   * quarantine that needs approval (propose), or let the remediation policy decide (policy). */
  PROPHET_FLOW_QUARANTINE: z.enum(["off", "propose", "policy"]).default("propose"),
  PROPHET_FLOW_QUARANTINE_SCORE: z.coerce.number({ error: "expected a number" }).min(0).max(1).default(0.8),
  /** Comma-separated namespaces where a new east-west edge is lateral movement (default kube-system). */
  PROPHET_FLOW_SENSITIVE_NAMESPACES: z.string().optional(),
  /** Quarantines expire after this long unless released earlier (e.g. 4h); unset: never. */
  PROPHET_QUARANTINE_TTL: z
    .string()
    .regex(/^(\d+[wdhms])+$/, "expected a duration like 4h")
    .refine((t) => (parseDuration(t) ?? Infinity) <= 30 * 86_400, "at most 30d (quarantine_pod's limit)")
    .optional(),
  /** Bearer tokens of the MCP endpoint (/mcp): `[id:]token=cluster1|cluster2` or `[id:]token=*`,
   * comma-separated (shared/mcp/access.ts). Unset: /mcp answers 401 to everyone. A credential. */
  PROPHET_MCP_TOKENS: mcpTokensSchema.optional(),
  /** MCP agents may read but not propose remediations. */
  PROPHET_MCP_READ_ONLY: bool.default(false),
  /** Mask names in MCP tool outputs with PROPHET_MASK_KEY's keyed tokens (as LLM prompts are). */
  PROPHET_MCP_MASK: bool.default(false),
  /** Largest MCP tool output in characters; longer ones are cut with a note. */
  PROPHET_MCP_MAX_OUTPUT_CHARS: z.coerce
    .number({ error: "expected a number of characters" })
    .int()
    .min(1_000)
    .max(1_000_000)
    .default(50_000),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as shells and platform consoles produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const res = configSchema.safeParse(cleaned);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => {
    const variable = String(i.path[0] ?? "(env)");
    const shown =
      variable.includes("KEY") ||
      variable.includes("TOKEN") ||
      variable === "DATABASE_URL" ||
      variable === "PROMETHEUS_URL" ||
      variable.endsWith("WEBHOOK_URL")
        ? "(hidden)"
        : JSON.stringify(env[variable]);
    return { path: variable, message: `${i.message}; got ${shown}` };
  });
  throw new ProphetError(
    "invalid_config",
    `invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
    issues,
  );
}
