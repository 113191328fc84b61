// Helpers for the simulation specs: a sandbox on a free loopback port driven only by its manual
// clock, built from a small inline scenario, plus readers for pods, events and conditions.
import { startSandbox, type Sandbox, type SandboxOptions } from "../../infra/sandbox/index.js";
import { ScenarioSchema, type Scenario } from "../../infra/sandbox/scenario.js";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";

type Obj = Record<string, unknown>;
export const rec = (v: unknown): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};
export const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

/** Two m5.large general nodes, one tainted g5.xlarge, and an elastic "burst" pool of big nodes. */
export function smallScenario(extra: Partial<Scenario> = {}): Scenario {
  return ScenarioSchema.parse({
    name: "test",
    seed: 7,
    warmupSeconds: 60,
    karpenter: { launchDelaySeconds: 30, consolidateAfterSeconds: 60 },
    namespaces: ["shop"],
    nodePools: [
      { name: "general", replicas: 2, instanceTypes: ["m5.large"] },
      {
        name: "gpu",
        replicas: 1,
        instanceTypes: ["g5.xlarge"],
        taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      },
      {
        name: "burst",
        instanceTypes: ["m5.2xlarge", "m5.4xlarge"],
        labels: { tier: "burst" },
        limits: { cpu: "16" },
        consolidateAfter: "2m",
      },
    ],
    workloads: [],
    ...extra,
  });
}

export interface SimHarness {
  sb: Sandbox;
  advance(seconds: number): void;
  pods(ns?: string): KubeObject[];
  pod(ns: string, name: string): KubeObject | undefined;
  podsOf(ns: string, app: string): KubeObject[];
  events(name?: string, reason?: string): Obj[];
  nodes(): KubeObject[];
  get(resource: string, ns: string | undefined, name: string): KubeObject | undefined;
  create(obj: KubeObject): KubeObject;
  container(pod: KubeObject | undefined, i?: number): Obj;
  condition(obj: KubeObject | undefined, type: string): Obj | undefined;
  close(): Promise<void>;
}

export async function startSim(
  scenario: Scenario = smallScenario(),
  opts: SandboxOptions = {},
): Promise<SimHarness> {
  const sb = await startSandbox({ scenario, ...opts });
  const store = sb.api.store;
  const podRt = store.resource("pods");
  const h: SimHarness = {
    sb,
    advance: (seconds) => void sb.clock.advance(seconds * 1000),
    pods: (ns) => store.list(podRt, ns ? { namespace: ns } : {}),
    pod: (ns, name) => store.get(podRt, ns, name),
    podsOf: (ns, app) => store.list(podRt, { namespace: ns }).filter((p) => p.metadata.labels?.app === app),
    events: (name, reason) =>
      store
        .list(store.resource("events"))
        .filter(
          (e) => (!name || rec(e.involvedObject).name === name) && (!reason || e.reason === reason),
        ) as Obj[],
    nodes: () => store.list(store.resource("nodes")),
    get: (resource, ns, name) => store.get(store.resource(resource), ns, name),
    create: (obj) => store.create(store.resource({ apiVersion: obj.apiVersion, kind: obj.kind }), obj),
    container: (pod, i = 0) => arr(rec(pod?.status).containerStatuses)[i] ?? {},
    condition: (obj, type) => arr(rec(obj?.status).conditions).find((c) => c.type === type),
    close: () => sb.close(),
  };
  return h;
}

export function deployment(
  name: string,
  opts: {
    replicas?: number;
    cpu?: string;
    memory?: string;
    memoryLimit?: string;
    image?: string;
    extra?: Obj;
    container?: Obj;
  } = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop" },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: opts.image ?? "nginx:1.27",
              ports: [{ name: "http", containerPort: 8080 }],
              resources: {
                requests: { cpu: opts.cpu ?? "100m", memory: opts.memory ?? "64Mi" },
                limits: { memory: opts.memoryLimit ?? "128Mi" },
              },
              ...opts.container,
            },
          ],
          ...opts.extra,
        },
      },
    },
  };
}
