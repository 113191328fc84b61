// The cluster side of `npm run bench:alerts`, in its own process as an API server is: a 5,000-pod
// sandbox (100 Deployments × 50 replicas on 100 nodes) with faults in PROPHET_BENCH_FAULTS
// Deployments for the storm and one to warm the function up. Prints one JSON line (API and Prometheus URLs,
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
// PROPHET_BENCH_FAULTS (default 40) faulty Deployments, so the p99 to the diagnosis is taken over
// that many incidents: crash loops, bad images, and a missing Secret where the Deployment mounts
// one (every svc-N with N % 10 = 3); svc-0…9 and svc-25 (the warm-up) stay out of the storm.
const faultCount = Math.min(89, Number(process.env.PROPHET_BENCH_FAULTS ?? "40"));
const stormFaults: [string, string][] = [];
// Spread over all ten namespaces: 10, 11, …, 19, 20, … with a stride of 11 mod 90.
for (let k = 0; stormFaults.length < faultCount; k++) {
  const i = 10 + ((k * 11) % 90);
  if (i === 25) continue;
  const kind = i % 10 === 3 ? "missing-secret" : i % 3 === 0 ? "bad-image" : "crash-loop";
  stormFaults.push([kind, `team-${i % 10}/svc-${i}`]);
}
const warmupFault: [string, string] = ["crash-loop", "team-5/svc-25"];
for (const [kind, target] of [...stormFaults, warmupFault]) sb.inject({ kind: kind as "crash-loop", target });
sb.clock.advance(600_000);
const store = sb.api.store;
const pods = store.list(store.resource("pods"));
// In the faults' order (each next fault in the next namespace), a Deployment's pods together: the
// storm moves from namespace to namespace, so the 2 s list cache rarely serves a second incident.
const podsOf = (targets: string[]) =>
  targets.flatMap((t) =>
    pods
      .filter((p) => `${p.metadata.namespace}/${p.metadata.labels?.app ?? ""}` === t)
      .map((p) => ({
        namespace: p.metadata.namespace ?? "",
        name: p.metadata.name,
        app: String(p.metadata.labels?.app ?? ""),
      })),
  );
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
