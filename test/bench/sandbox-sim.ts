// Benchmark of the cluster simulation: a 5,000-pod cluster on 100 nodes, driven by the manual
// clock as fast as one core allows. Prints simulated seconds per wall second (target ≥ 60×)
// and steps/s, for bring-up, steady state and steady state with faults active.
// Run: npx tsx test/bench/sandbox-sim.ts
import { startSandbox } from "../../infra/sandbox/index.js";
import { ScenarioSchema } from "../../infra/sandbox/scenario.js";

const NODES = 100;
const DEPLOYMENTS = 100;
const REPLICAS = 50;
const NAMESPACES = 10;

const scenario = ScenarioSchema.parse({
  name: "bench-5000",
  seed: 1,
  warmupSeconds: 0,
  karpenter: { launchDelaySeconds: 30, consolidateAfterSeconds: 60 },
  namespaces: Array.from({ length: NAMESPACES }, (_, i) => `team-${i}`),
  nodePools: [{ name: "bench", replicas: NODES, instanceTypes: ["m5.4xlarge"] }],
  workloads: Array.from({ length: DEPLOYMENTS }, (_, i) => ({
    kind: "Deployment",
    namespace: `team-${i % NAMESPACES}`,
    name: `svc-${i}`,
    image: `ghcr.io/bench/svc-${i}:1.0.0`,
    replicas: REPLICAS,
    cpu: "100m",
    memory: "64Mi",
    port: 8080,
    readinessProbe: true,
    ...(i < 5
      ? { hpa: { min: REPLICAS, max: REPLICAS + 10 }, demand: { baseRps: 800, peakRps: 1600, perPodRps: 40 } }
      : {}),
  })),
});

function run(label: string, sb: Awaited<ReturnType<typeof startSandbox>>, simSeconds: number): void {
  const steps0 = sb.simulation.steps;
  const phases0 = new Map(sb.simulation.phaseMs);
  const t0 = performance.now();
  sb.clock.advance(simSeconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const steps = sb.simulation.steps - steps0;
  console.log(
    `${label.padEnd(28)} ${simSeconds} simulated s in ${wall.toFixed(2)} s wall: ` +
      `${(simSeconds / wall).toFixed(1)}× real time, ${(steps / wall).toFixed(1)} steps/s`,
  );
  const spent = [...sb.simulation.phaseMs]
    .map(([k, v]) => [k, (v - (phases0.get(k) ?? 0)) / steps] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`);
  console.log(`  ms per step: ${spent.join(", ")}`);
}

const t0 = performance.now();
const sb = await startSandbox({ scenario, skipWarmup: true });
console.log(
  `seeded ${DEPLOYMENTS} deployments × ${REPLICAS} replicas in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
);
run("bring-up (nodes, 5,000 pods)", sb, 60);
const store = sb.api.store;
const pods = store.list(store.resource("pods"));
const running = pods.filter((p) => (p.status as { phase?: string }).phase === "Running").length;
console.log(`pods: ${pods.length} (${running} Running) on ${store.count(store.resource("nodes"))} nodes`);
run("steady state", sb, 600);
sb.inject({ kind: "crash-loop", target: "team-1/svc-1" });
sb.inject({ kind: "traffic-spike", target: "team-0/svc-0", params: { factor: 2 } });
sb.inject({ kind: "node-not-ready", target: store.list(store.resource("nodes"))[3]?.metadata.name ?? "" });
run("faults active", sb, 600);
await sb.close();
