// Scenario files (YAML): the cluster a sandbox starts with — NodePools, namespaces, workloads in a
// compact form, raw manifests — plus seed, start time and Karpenter timings. Parsed with zod.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";

const quantity = z.union([z.string(), z.number()]);

export const NodePoolSchema = z.object({
  name: z.string().min(1),
  /** A static pool: Karpenter keeps exactly this many nodes. */
  replicas: z.number().int().nonnegative().optional(),
  instanceTypes: z.array(z.string()).optional(),
  capacityTypes: z.array(z.enum(["spot", "on-demand"])).optional(),
  zones: z.array(z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(
      z.object({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
      }),
    )
    .optional(),
  limits: z.object({ cpu: quantity.optional(), memory: quantity.optional() }).optional(),
  weight: z.number().int().optional(),
  consolidateAfter: z.string().optional(),
});

export const WorkloadSchema = z.object({
  kind: z.enum(["Deployment", "StatefulSet", "DaemonSet", "CronJob"]),
  namespace: z.string().min(1),
  name: z.string().min(1),
  image: z.string().min(1),
  replicas: z.number().int().nonnegative().optional(),
  cpu: quantity.optional(),
  memory: quantity.optional(),
  memoryLimit: quantity.optional(),
  port: z.number().int().positive().optional(),
  /** Create a ClusterIP Service selecting the pods (default true when a port is given). */
  service: z.boolean().optional(),
  /** A ConfigMap <name>-config referenced through env. */
  config: z.boolean().optional(),
  /** A Secret <name>-secret referenced through env. */
  secret: z.boolean().optional(),
  readinessProbe: z.boolean().optional(),
  hpa: z
    .object({
      min: z.number().int().positive(),
      max: z.number().int().positive(),
      targetCPU: z.number().positive().optional(),
    })
    .optional(),
  demand: z
    .object({
      baseRps: z.number(),
      peakRps: z.number(),
      perPodRps: z.number().positive(),
      peakHourUtc: z.number().optional(),
      /** "cosine" (default): daily cycle peaking at peakHourUtc; "ramp": business-day ramp (demand.ts). */
      shape: z.enum(["cosine", "ramp"]).optional(),
      rampStartHourUtc: z.number().min(0).max(24).optional(),
      rampMinutes: z.number().positive().optional(),
      decayStartHourUtc: z.number().min(0).max(24).optional(),
      decayMinutes: z.number().positive().optional(),
    })
    .optional(),
  pdb: z.object({ minAvailable: z.union([z.number(), z.string()]) }).optional(),
  schedule: z.string().optional(),
  storage: z.string().optional(),
  command: z.array(z.string()).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(z.record(z.string(), z.unknown())).optional(),
});

export const ScenarioSchema = z.object({
  name: z.string().default("unnamed"),
  seed: z.number().int().default(1),
  start: z.string().default("2026-01-05T08:00:00Z"),
  tickMs: z.number().int().positive().default(1000),
  /** Simulated time run before the sandbox is handed over, so nodes exist and pods run. */
  warmupSeconds: z.number().nonnegative().default(180),
  karpenter: z
    .object({
      launchDelaySeconds: z.number().nonnegative().default(45),
      consolidateAfterSeconds: z.number().nonnegative().default(60),
    })
    .default({ launchDelaySeconds: 45, consolidateAfterSeconds: 60 }),
  namespaces: z.array(z.string()).default([]),
  nodePools: z.array(NodePoolSchema).default([]),
  workloads: z.array(WorkloadSchema).default([]),
  /** Raw manifests created as they are (after the generated objects). */
  objects: z.array(z.record(z.string(), z.unknown())).default([]),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type WorkloadSpec = z.infer<typeof WorkloadSchema>;
export type NodePoolSpec = z.infer<typeof NodePoolSchema>;

export const defaultScenarioPath = join(dirname(fileURLToPath(import.meta.url)), "scenarios", "default.yaml");

export function parseScenario(text: string, source = "scenario"): Scenario {
  const parsed = ScenarioSchema.safeParse(parse(text) ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`${source}: invalid scenario: ${issues}`);
  }
  return parsed.data;
}

export function loadScenario(path = defaultScenarioPath): Scenario {
  return parseScenario(readFileSync(path, "utf8"), path);
}
