// The cluster side of `npm run bench:alerts`, in its own process as an API server is: a 5,000-pod
// sandbox (100 Deployments × 50 replicas on 100 nodes) with faults in eleven Deployments (ten for
// the storm, one to warm the function up). Prints one JSON line (API and Prometheus URLs,
// kubeconfig, the sandbox's time, the faulty pods) and serves until its parent closes stdin.
import { startSandbox } from "../../infra/sandbox/index.js";
import { ScenarioSchema } from "../../infra/sandbox/scenario.js";

const scenario = ScenarioSchema.parse({
  name: "bench-alerts-5000",
  seed: 1,
  warmupSeconds: 0,
  karpenter: { launchDelaySeconds: 30, consolidateAfterSeconds: 60 },
  namespaces: Array.from({ length: 10 }, (_, i) => `team-${i}`),
  nodePools: [{ name: "bench", replicas: 100, instanceTypes: ["m5.4xlarge"] }],
  workloads: Array.from({ length: 100 }, (_, i) => ({
    kind: "Deployment",
    namespace: `team-${i % 10}`,
    name: `svc-${i}`,
    image: `ghcr.io/bench/svc-${i}:1.0.0`,
    replicas: 50,
    cpu: "100m",
    memory: "64Mi",
    port: 8080,
    readinessProbe: true,
    secret: i % 10 === 3,
  })),
});

const t0 = performance.now();
const sb = await startSandbox({ scenario, skipWarmup: true, flowLog: false });
sb.clock.advance(60_000);
const stormFaults: [string, string][] = [
  ["crash-loop", "team-1/svc-11"],
  ["crash-loop", "team-2/svc-22"],
  ["crash-loop", "team-4/svc-44"],
  ["bad-image", "team-5/svc-55"],
  ["bad-image", "team-6/svc-66"],
  ["missing-secret", "team-3/svc-13"],
  ["crash-loop", "team-7/svc-77"],
  ["bad-image", "team-8/svc-88"],
  ["crash-loop", "team-9/svc-99"],
  ["crash-loop", "team-0/svc-10"],
];
const warmupFault: [string, string] = ["crash-loop", "team-5/svc-25"];
for (const [kind, target] of [...stormFaults, warmupFault]) sb.inject({ kind: kind as "crash-loop", target });
sb.clock.advance(600_000);
const store = sb.api.store;
const pods = store.list(store.resource("pods"));
const podsOf = (targets: string[]) =>
  pods
    .filter((p) => targets.includes(`${p.metadata.namespace}/${p.metadata.labels?.app ?? ""}`))
    .map((p) => ({
      namespace: p.metadata.namespace ?? "",
      name: p.metadata.name,
      app: String(p.metadata.labels?.app ?? ""),
    }));
process.stdout.write(
  `${JSON.stringify({
    apiUrl: sb.url,
    prometheusUrl: sb.prometheusUrl,
    kubeconfigPath: sb.kubeconfigPath,
    now: sb.clock.now().toISOString(),
    pods: pods.length,
    nodes: store.count(store.resource("nodes")),
    faults: stormFaults.length,
    stormPods: podsOf(stormFaults.map(([, t]) => t)),
    warmupPod: podsOf([warmupFault[1]])[0],
    setupSeconds: (performance.now() - t0) / 1000,
  })}\n`,
);
process.stdin.resume();
process.stdin.on("end", () => void sb.close().then(() => process.exit(0)));
process.on("SIGTERM", () => void sb.close().then(() => process.exit(0)));
