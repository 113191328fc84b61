// Where remediation policies come from: AutonomousAction and AnomalyAction objects
// (aiops.prophet.io/v1alpha1, manifests/crds/) listed from the cluster, or the same objects in
// YAML files when running locally. Parsing never throws: a bad object becomes an entry with a
// reason that the caller reports in the object's status (phase Invalid) and then ignores.
//
// Opt-in: an incident no policy's trigger matches is not remediated (selectPolicy → undefined).
// Only when no AutonomousAction exists at all does the built-in defaultPolicy() (propose, never
// execute) apply — resolvePolicy does exactly that.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import type { KubeObject } from "../diagnosis/objects.js";
import { ProphetError } from "../errors.js";
import type { StatusCondition } from "../kube/conditions.js";
import type { ClusterPort } from "../ports/cluster.js";
import type { Logger } from "../ports/log.js";
import type { Deps } from "../function.js";
import { parseThreshold } from "../anomaly/trigger/threshold.js";
import { actionNamed } from "./actions/index.js";
import { approvalModes, defaultPolicy, type ApprovalMode, type RemediationPolicy } from "./policy.js";
import { defaultRemediationSettings } from "./settings.js";

export const policyApiVersion = "aiops.prophet.io/v1alpha1";

const name = z.string().min(1).max(253);
const actionName = z.string().regex(/^(\*|[a-z][a-z0-9_]*)$/, 'an action name (snake_case) or "*"');
const whole = () => z.int("expected a whole number");
const duration = z
  .string()
  .regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/, "a Prometheus duration such as 30s, 2m or 1h");

// Strict objects: a field Prophet does not know (a typo, or a CRD newer than Prophet) may change
// what the author meant, so the object is reported Invalid instead of half-applied. In a cluster
// the API server has already pruned fields the installed CRD does not declare.
export const autonomousActionSpecSchema = z.strictObject({
  trigger: z
    .strictObject({
      alertNames: z.array(name).default([]),
      severities: z.array(name).default([]),
      namespaces: z.array(name).default([]),
      findingReasons: z.array(name).default([]),
    })
    .prefault({}),
  llm: z
    .strictObject({
      provider: z.enum(["openai", "azure-openai", "ollama", "vllm", "none"]).optional(),
      model: z.string().min(1).optional(),
      endpoint: z.url().optional(),
      temperature: z.number().min(0).max(2).optional(),
    })
    .optional(),
  context: z
    .strictObject({
      includeLogs: z.boolean().default(true),
      includeEvents: z.boolean().default(true),
      includeMetrics: z.boolean().default(true),
      includeHistory: z.boolean().default(true),
    })
    .prefault({}),
  approvalMode: z.enum(approvalModes).default("human-in-loop"),
  constraints: z
    .strictObject({
      allowedActions: z.array(actionName).default([]),
      forbiddenNamespaces: z.array(name).default([]),
      cooldownSeconds: whole().min(0).default(300),
      maxConcurrent: whole().min(1).default(3),
      minConfidence: z.number().min(0).max(1).default(0.8),
      requireApprovalFor: z.array(actionName).default([]),
      approvalTtlSeconds: whole().min(1).default(3600),
    })
    .prefault({}),
});
export type AutonomousActionSpec = z.infer<typeof autonomousActionSpecSchema>;

const labelSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

export const anomalyActionSpecSchema = z
  .strictObject({
    /** Where `metric` is evaluated; only Prometheus' query API (absent means prometheus). */
    source: z.enum(["prometheus"]).optional(),
    metric: z.string().min(1),
    /** A number (compared per `operator`), a comparison ("> 1Gi", ">= 0.9", "> 80% of limit"), or
     * "anomaly" for the learned detector; see shared/anomaly/trigger/threshold.ts. */
    threshold: z.union([z.number(), z.string()], {
      error: 'expected a number, a comparison such as "> 1Gi", or "anomaly"',
    }),
    operator: z.enum(["gt", "lt"]).default("gt"),
    for: duration.default("2m"),
    action: z.enum(["restart", "scale", "alert"]).optional(),
    /** The registered action (shared/remediation/actions) the remediation pipeline should prefer. */
    remediation: z
      .string()
      .refine((n) => actionNamed(n) !== undefined, {
        error: (i) => `${JSON.stringify(i.input)} is not a registered action (see \`prophet actions list\`)`,
      })
      .optional(),
    podSelector: labelSelectorSchema.optional(),
    scale: z.strictObject({ replicas: whole().min(0).optional(), by: whole().optional() }).optional(),
    requireApproval: z.boolean().default(true),
    cooldownSeconds: whole().min(0).default(600),
    /** Alarm when a memory series is projected to reach its container's limit within this many
     * seconds (absent: 900; 0: no projection). */
    leadTimeSeconds: whole().min(0).optional(),
    webhookUrl: z.url().optional(),
  })
  .superRefine((spec, ctx) => {
    const t = parseThreshold(spec.threshold, spec.operator);
    if ("error" in t) ctx.addIssue({ code: "custom", path: ["threshold"], message: t.error });
    if (spec.action === undefined && spec.remediation === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["action"],
        message: "set remediation (a registered action) or action (restart, scale, alert)",
      });
    if (spec.action === "scale" && spec.scale?.replicas === undefined && spec.scale?.by === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["scale"],
        message: "action scale needs scale.replicas or scale.by",
      });
    if (spec.action !== undefined && spec.action !== "alert" && !spec.podSelector)
      ctx.addIssue({
        code: "custom",
        path: ["podSelector"],
        message: `action ${spec.action} needs a podSelector`,
      });
  });
export type AnomalyActionSpec = z.infer<typeof anomalyActionSpecSchema>;

/** A metric rule from an AnomalyAction, with its CRD defaults applied. */
export interface AnomalyRule extends Omit<AnomalyActionSpec, "source"> {
  /** "namespace/name" of the AnomalyAction. */
  id: string;
  namespace: string;
  /** Where the object was read: the cluster or a file. */
  source: "cluster" | "file";
  /** spec.source, when set (the metrics backend: prometheus). */
  metricsSource?: "prometheus";
}

export interface Invalid {
  invalid: string;
}

export type PolicySourceKind = "AutonomousAction" | "AnomalyAction";

/** One object read, valid or not: what a status writer needs to report on it. */
export interface LoadedObject {
  kind: PolicySourceKind;
  id: string;
  source: "cluster" | "file";
  generation?: number;
  /** Why it was ignored; absent when it parsed. */
  invalid?: string;
}

export interface PolicySet {
  policies: RemediationPolicy[];
  anomalyRules: AnomalyRule[];
  /** Every AutonomousAction and AnomalyAction seen, in load order, invalid ones included. */
  objects: LoadedObject[];
}

interface Envelope {
  id: string;
  namespace: string;
  spec: unknown;
}

function envelope(obj: unknown, kind: PolicySourceKind): Envelope | Invalid {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    return { invalid: `not an ${kind} object` };
  const o = obj as Partial<KubeObject>;
  if (o.kind !== kind) return { invalid: `kind is ${String(o.kind)}, expected ${kind}` };
  if (o.apiVersion !== undefined && o.apiVersion !== policyApiVersion)
    return { invalid: `apiVersion ${String(o.apiVersion)} is not ${policyApiVersion}` };
  const meta = o.metadata;
  if (!meta || typeof meta.name !== "string" || !meta.name) return { invalid: "metadata.name is missing" };
  const namespace = typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default";
  return { id: `${namespace}/${meta.name}`, namespace, spec: o.spec ?? {} };
}

function issues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map(
      (i) =>
        `spec${i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}: ${i.message}`,
    )
    .join("; ");
}

/** An AutonomousAction as the policy gate reads it, or why it cannot be used. Never throws. */
export function parseAutonomousAction(
  obj: unknown,
  source: "cluster" | "file" = "cluster",
): RemediationPolicy | Invalid {
  const env = envelope(obj, "AutonomousAction");
  if ("invalid" in env) return env;
  const parsed = autonomousActionSpecSchema.safeParse(env.spec);
  if (!parsed.success) return { invalid: `${env.id}: ${issues(parsed.error)}` };
  const { trigger, llm, context, approvalMode, constraints: c } = parsed.data;
  const policy: RemediationPolicy = {
    id: env.id,
    source,
    trigger: {
      alertnames: trigger.alertNames,
      severities: trigger.severities,
      namespaces: trigger.namespaces,
      findingReasons: trigger.findingReasons,
    },
    approvalMode,
    allowedActions: c.allowedActions,
    forbiddenNamespaces: c.forbiddenNamespaces,
    cooldownSeconds: c.cooldownSeconds,
    maxConcurrent: c.maxConcurrent,
    minConfidence: c.minConfidence,
    requireApprovalFor: c.requireApprovalFor,
    approvalTtlSeconds: c.approvalTtlSeconds,
    context,
  };
  if (llm) policy.llm = llm;
  return policy;
}

/** An AnomalyAction's rule, or why it cannot be used. Never throws. */
export function parseAnomalyAction(
  obj: unknown,
  source: "cluster" | "file" = "cluster",
): AnomalyRule | Invalid {
  const env = envelope(obj, "AnomalyAction");
  if ("invalid" in env) return env;
  const parsed = anomalyActionSpecSchema.safeParse(env.spec);
  if (!parsed.success) return { invalid: `${env.id}: ${issues(parsed.error)}` };
  const { source: metricsSource, ...spec } = parsed.data;
  return {
    ...spec,
    id: env.id,
    namespace: env.namespace,
    source,
    ...(metricsSource ? { metricsSource } : {}),
  };
}

export function isInvalid<T extends object>(r: T | Invalid): r is Invalid {
  return "invalid" in r;
}

/**
 * Every AutonomousAction and AnomalyAction from the cluster (all namespaces; a cluster that does
 * not serve the CRDs has none) or from YAML files (a directory's *.yaml, *.yml and *.json files,
 * or the files given; other kinds in them are skipped). Invalid objects are entries in `objects`,
 * not errors. Cluster read errors other than "not served" propagate, and so does an unreadable
 * path or a YAML syntax error (ProphetError invalid_config): those are configuration mistakes.
 */
export async function loadPolicies(source: ClusterPort | string | string[]): Promise<PolicySet> {
  if (typeof source === "string" || Array.isArray(source)) return collect(readYamlObjects(source), "file");
  const [autonomous, anomaly] = await Promise.all([
    source.list("AutonomousAction"),
    source.list("AnomalyAction"),
  ]);
  return collect(
    [...autonomous, ...anomaly].map((obj) => ({ obj, origin: "" })),
    "cluster",
  );
}

interface Sourced {
  obj: unknown;
  /** "file#document" for files, "" for the cluster. */
  origin: string;
}

function collect(items: Sourced[], source: "cluster" | "file"): PolicySet {
  const set: PolicySet = { policies: [], anomalyRules: [], objects: [] };
  const seen = new Set<string>();
  for (const { obj, origin } of items) {
    const kind = (obj as { kind?: unknown } | null)?.kind;
    if (kind !== "AutonomousAction" && kind !== "AnomalyAction") continue;
    const meta = (obj as { metadata?: { name?: string; namespace?: string; generation?: unknown } }).metadata;
    const entry: LoadedObject = { kind, id: `${meta?.namespace || "default"}/${meta?.name ?? "?"}`, source };
    if (typeof meta?.generation === "number") entry.generation = meta.generation;
    const where = origin ? ` (in ${origin})` : "";
    const key = `${kind} ${entry.id}`;
    if (seen.has(key)) {
      entry.invalid = `${entry.id}: a second ${kind} with this namespace and name${where}; the first is used`;
    } else if (kind === "AutonomousAction") {
      const parsed = parseAutonomousAction(obj, source);
      if (isInvalid(parsed)) entry.invalid = parsed.invalid + where;
      else set.policies.push(parsed);
    } else {
      const parsed = parseAnomalyAction(obj, source);
      if (isInvalid(parsed)) entry.invalid = parsed.invalid + where;
      else set.anomalyRules.push(parsed);
    }
    seen.add(key);
    set.objects.push(entry);
  }
  return set;
}

function readYamlObjects(paths: string | string[]): Sourced[] {
  const files: string[] = [];
  for (const p of typeof paths === "string" ? [paths] : paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new ProphetError("invalid_config", `policy path ${p} cannot be read: ${(err as Error).message}`);
    }
    if (!isDir) files.push(p);
    else
      for (const f of readdirSync(p).sort())
        if ([".yaml", ".yml", ".json"].includes(extname(f))) files.push(join(p, f));
  }
  const out: Sourced[] = [];
  for (const file of files) {
    for (const [i, doc] of parseAllDocuments(readFileSync(file, "utf8")).entries()) {
      const origin = `${file}#${i + 1}`;
      const error = doc.errors[0];
      if (error) throw new ProphetError("invalid_config", `policy file ${origin}: ${error.message}`);
      const value = doc.toJS() as { kind?: unknown; items?: unknown } | null;
      const isList =
        typeof value?.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items);
      for (const obj of isList ? (value.items as unknown[]) : [value]) out.push({ obj, origin });
    }
  }
  return out;
}

export interface Incident {
  alertname: string;
  severity: string;
  namespace: string;
  findingReasons: string[];
}

const strictness: Record<ApprovalMode, number> = { autonomous: 0, "human-in-loop": 1, "dry-run": 2 };

function matches(p: RemediationPolicy, incident: Incident): boolean {
  const t = p.trigger;
  const ns = t.namespaces;
  return (
    (t.alertnames.length === 0 || t.alertnames.includes(incident.alertname)) &&
    (t.severities.length === 0 ||
      t.severities.some((s) => s.toLowerCase() === incident.severity.toLowerCase())) &&
    (ns.length === 0 || ns.includes("*") || ns.includes(incident.namespace)) &&
    (t.findingReasons.length === 0 || t.findingReasons.some((r) => incident.findingReasons.includes(r)))
  );
}

/** Higher is more specific: an explicit namespace first, then how many other lists constrain. */
function specificity(p: RemediationPolicy, incident: Incident): [number, number] {
  const t = p.trigger;
  const explicitNs = t.namespaces.includes(incident.namespace) ? 1 : 0;
  const narrowed = [t.alertnames, t.severities, t.findingReasons].filter((l) => l.length > 0).length;
  return [explicitNs, narrowed];
}

/**
 * The policy that governs an incident: among those whose trigger matches, the most specific (an
 * explicit namespace beats an empty list or "*"; then the one constraining more of alertname,
 * severity and finding reason); on a tie the most restrictive approval mode (dry-run >
 * human-in-loop > autonomous), then the id, so the choice never depends on list order.
 * undefined: the incident is not opted in to remediation.
 */
export function selectPolicy(
  policies: readonly RemediationPolicy[],
  incident: Incident,
): RemediationPolicy | undefined {
  let best: RemediationPolicy | undefined;
  let bestKey: number[] = [];
  for (const p of policies) {
    if (!matches(p, incident)) continue;
    const key = [...specificity(p, incident), strictness[p.approvalMode]];
    const cmp = compareKeys(key, bestKey);
    if (!best || cmp > 0 || (cmp === 0 && p.id < best.id)) {
      best = p;
      bestKey = key;
    }
  }
  return best;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * selectPolicy over a loaded set, falling back to defaultPolicy(defaultMode) only when the set holds
 * no AutonomousAction at all (valid or not): once an operator writes one, remediation is opt-in.
 */
export function resolvePolicy(
  set: PolicySet,
  incident: Incident,
  defaultMode: ApprovalMode = "human-in-loop",
): RemediationPolicy | undefined {
  if (!set.objects.some((o) => o.kind === "AutonomousAction")) return defaultPolicy(defaultMode);
  return selectPolicy(set.policies, incident);
}

export type PolicyPhase = "Active" | "Invalid" | "Detected" | "Remediating" | "Idle";

/** A status condition of AutonomousAction/AnomalyAction (the shared Kubernetes shape). */
export type PolicyCondition = StatusCondition;

/** The status fields of both CRDs. A merge patch: lists (conditions) are replaced whole. */
export interface PolicyStatus {
  phase?: PolicyPhase;
  lastDetected?: string;
  lastRemediated?: string;
  remediationCount?: number;
  /** AnomalyAction only: anomalies raised, series evaluated and series firing in the last run. */
  detectionCount?: number;
  activeSeries?: number;
  anomalousSeries?: number;
  observedGeneration?: number;
  message?: string;
  conditions?: PolicyCondition[];
}

export type StatusWriteResult = { ok: true; object: KubeObject } | { ok: false; reason: string };

/**
 * Merge-patches the status subresource of an AutonomousAction (or AnomalyAction) "namespace/name".
 * Status is a report, not a precondition: failures come back as a value and are logged, never thrown
 * into the pipeline.
 */
export async function writePolicyStatus(
  port: ClusterPort,
  policyId: string,
  patch: PolicyStatus,
  opts: { kind?: PolicySourceKind; log?: Logger } = {},
): Promise<StatusWriteResult> {
  const kind = opts.kind ?? "AutonomousAction";
  const fail = (reason: string): StatusWriteResult => {
    opts.log?.warn({ policyId, kind, reason }, "policy status not written");
    return { ok: false, reason };
  };
  const [namespace, objName, ...rest] = policyId.split("/");
  if (!namespace || !objName || rest.length)
    return fail(`${policyId} is not "namespace/name" (the default and file policies have no status)`);
  if (!port.patch) return fail(`cluster ${port.name} is read-only`);
  try {
    const object = await port.patch(
      kind,
      namespace,
      objName,
      { status: patch },
      { type: "merge", subresource: "status" },
    );
    return { ok: true, object };
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

/**
 * The policy governing an incident, as every decision picks it: the configured list (files, tests)
 * when there is one; else the AutonomousActions of the incident's cluster, then those of the
 * deployment's home (management) cluster, which are global: a cluster's own policies take
 * precedence, the global ones cover what they do not match. No AutonomousAction anywhere: the
 * default policy. Some, but none matching: undefined (remediation is opt-in). A read failure is
 * undefined too, and logged.
 */
export async function policyForIncident(
  deps: Deps,
  incident: { alertname: string; severity: string; namespace: string; findingReasons: string[] },
): Promise<RemediationPolicy | undefined> {
  const s = deps.remediation ?? defaultRemediationSettings;
  try {
    if (s.policies) {
      const list = await s.policies();
      return list.length === 0 ? defaultPolicy(s.defaultMode) : selectPolicy(list, incident);
    }
    const sources: { port: ClusterPort; source: "cluster" | "global" }[] = [];
    if (deps.kube) sources.push({ port: deps.kube, source: "cluster" });
    if (deps.home && deps.home !== deps.kube) sources.push({ port: deps.home, source: "global" });
    let any = false;
    for (const { port, source } of sources) {
      const set = await loadPolicies(port);
      if (!set.objects.some((o) => o.kind === "AutonomousAction")) continue;
      any = true;
      const picked = selectPolicy(
        source === "global" ? set.policies.map((p) => ({ ...p, source })) : set.policies,
        incident,
      );
      if (picked) return picked;
    }
    return any ? undefined : defaultPolicy(s.defaultMode);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, "remediation policies could not be read");
    return undefined;
  }
}
