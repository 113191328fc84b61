// Workload controllers on the manual clock: scaling, HPA under a traffic spike, EndpointSlices,
// StatefulSet ordering and claims, DaemonSets on new nodes, CronJob → Job → Completed, replay.
import { afterEach, describe, expect, it } from "vitest";
import { ScenarioSchema } from "../../infra/sandbox/scenario.js";
import { arr, deployment, rec, smallScenario, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const api = {
  kind: "Deployment" as const,
  namespace: "shop",
  name: "api",
  image: "ghcr.io/demo/api:1.0.0",
  replicas: 2,
  cpu: "100m",
  port: 8080,
  readinessProbe: true,
  hpa: { min: 2, max: 5, targetCPU: 70 },
  demand: { baseRps: 20, peakRps: 20, perPodRps: 20 },
};

describe("workloads", () => {
  it("scaling a Deployment creates pods that become Running", async () => {
    h = await startSim();
    h.create(deployment("web", { replicas: 1 }));
    h.advance(5);
    const store = h.sb.api.store;
    const rt = store.resource("deployments.apps");
    const d = store.get(rt, "shop", "web");
    if (!d) throw new Error("deployment web is missing");
    store.update(rt, { ...d, spec: { ...rec(d.spec), replicas: 5 } });
    h.advance(5);
    const pods = h.podsOf("shop", "web");
    expect(pods).toHaveLength(5);
    expect(pods.every((p) => rec(p.status).phase === "Running")).toBe(true);
    expect(rec(store.get(rt, "shop", "web")?.status).readyReplicas).toBe(5);
  });

  it("a bad image rollout stalls like a RollingUpdate: 3 of 4 old pods keep serving, 2 new pods cannot pull", async () => {
    h = await startSim();
    h.create(deployment("web", { replicas: 4 }));
    h.advance(10);
    const fault = h.sb.inject({ kind: "bad-image", target: "shop/web" });
    h.advance(30);
    const pods = h.podsOf("shop", "web");
    const image = (p: (typeof pods)[number]) => String(rec(arr(rec(p.spec).containers)[0]).image);
    const old = pods.filter((p) => image(p) === "nginx:1.27");
    const fresh = pods.filter((p) => image(p) !== "nginx:1.27");
    expect(old).toHaveLength(3);
    expect(old.every((p) => h?.condition(p, "Ready")?.status === "True")).toBe(true);
    expect(fresh).toHaveLength(2);
    expect(fresh.map((p) => rec(rec(h?.container(p).state).waiting).reason)).toEqual([
      "ImagePullBackOff",
      "ImagePullBackOff",
    ]);
    const d = () => h?.get("deployments.apps", "shop", "web");
    expect(rec(d()?.status)).toMatchObject({
      replicas: 5,
      updatedReplicas: 2,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 2,
    });
    expect(h.condition(d(), "Available")?.status).toBe("True"); // 3 >= 4 - maxUnavailable
    expect(h.condition(d(), "Progressing")).toMatchObject({ status: "True", reason: "ReplicaSetUpdated" });
    h.advance(600);
    const rsName = h.sb.api.store
      .list(h.sb.api.store.resource("replicasets.apps"), { namespace: "shop" })
      .find((rs) => rs.metadata.annotations?.["deployment.kubernetes.io/revision"] === "2")?.metadata.name;
    expect(h.condition(d(), "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${rsName}" has timed out progressing.`,
    });
    h.sb.revert(fault.id);
    h.advance(30);
    const after = h.podsOf("shop", "web");
    expect(after).toHaveLength(4);
    expect(after.every((p) => image(p) === "nginx:1.27" && rec(p.status).phase === "Running")).toBe(true);
    expect(h.condition(d(), "Progressing")?.reason).toBe("NewReplicaSetAvailable");
  });

  it("HPA scales up under a traffic spike, stops at maxReplicas with ScalingLimited, and scales back down after the window", async () => {
    h = await startSim(smallScenario({ workloads: [api] }));
    h.advance(30);
    expect(h.podsOf("shop", "api")).toHaveLength(2);
    const fault = h.sb.inject({ kind: "traffic-spike", target: "shop/api", params: { factor: 4 } });
    h.advance(60);
    const hpa = h.get("horizontalpodautoscalers.autoscaling", "shop", "api");
    expect(rec(hpa?.status).desiredReplicas).toBe(5);
    expect(h.condition(hpa, "ScalingLimited")).toMatchObject({
      status: "True",
      reason: "TooManyReplicas",
      message: "the desired replica count is more than the maximum replica count",
    });
    expect(h.events("api", "SuccessfulRescale")[0]?.message).toBe(
      "New size: 5; reason: cpu resource utilization (percentage of request) above target",
    );
    expect(h.podsOf("shop", "api").filter((p) => rec(p.status).phase === "Running")).toHaveLength(5);
    h.advance(120);
    expect(h.podsOf("shop", "api")).toHaveLength(5); // never above max
    h.sb.revert(fault.id);
    h.advance(120);
    expect(h.podsOf("shop", "api")).toHaveLength(5); // scale-down stabilisation window
    h.advance(240);
    expect(h.podsOf("shop", "api")).toHaveLength(2);
  });

  it("hpa-max fault pins the HPA at maxReplicas", async () => {
    h = await startSim(smallScenario({ workloads: [api] }));
    h.sb.inject({ kind: "hpa-max" });
    h.advance(90);
    const hpa = h.get("horizontalpodautoscalers.autoscaling", "shop", "api");
    expect(rec(hpa?.status).currentReplicas).toBe(5);
    expect(h.condition(hpa, "ScalingLimited")?.reason).toBe("TooManyReplicas");
  });

  it("EndpointSlices and Endpoints follow ready pods", async () => {
    h = await startSim(smallScenario({ workloads: [api] }));
    h.advance(10);
    const store = h.sb.api.store;
    const slice = () =>
      store.list(store.resource("endpointslices.discovery.k8s.io"), { namespace: "shop" })[0];
    const s = slice();
    expect(s?.metadata.labels?.["kubernetes.io/service-name"]).toBe("api");
    expect(arr(s?.endpoints)).toHaveLength(2);
    expect(arr(s?.endpoints).every((e) => rec(e.conditions).ready === true)).toBe(true);
    expect(arr(s?.ports)[0]).toEqual({ name: "http", port: 8080, protocol: "TCP" });
    const ips = h
      .podsOf("shop", "api")
      .map((p) => rec(p.status).podIP)
      .sort();
    expect(
      arr(s?.endpoints)
        .map((e) => (e.addresses as string[])[0])
        .sort(),
    ).toEqual(ips);
    h.sb.inject({ kind: "readiness-failure", target: "shop/api" });
    h.advance(40);
    expect(arr(slice()?.endpoints).every((e) => rec(e.conditions).ready === false)).toBe(true);
  });

  it("StatefulSet creates ordinals in order with one bound claim each; DaemonSet follows new nodes", async () => {
    h = await startSim(
      smallScenario({
        workloads: [
          {
            kind: "StatefulSet",
            namespace: "shop",
            name: "db",
            image: "postgres:16.4",
            replicas: 2,
            cpu: "100m",
            port: 5432,
            storage: "10Gi",
          },
          { kind: "DaemonSet", namespace: "shop", name: "agent", image: "fluent/fluent-bit:3.1", cpu: "50m" },
        ],
        warmupSeconds: 0,
      }),
    );
    h.advance(20);
    // Nodes are still launching: only db-0 exists, Pending; db-1 waits for it to be Ready.
    expect(h.podsOf("shop", "db").map((p) => p.metadata.name)).toEqual(["db-0"]);
    expect(rec(h.pod("shop", "db-0")?.status).phase).toBe("Pending");
    h.advance(30);
    expect(h.podsOf("shop", "db").map((p) => p.metadata.name)).toEqual(["db-0", "db-1"]);
    h.advance(10);
    for (const i of [0, 1]) {
      const claim = h.get("persistentvolumeclaims", "shop", `data-db-${i}`);
      expect(rec(claim?.status).phase).toBe("Bound");
      expect(rec(h.pod("shop", `db-${i}`)?.status).phase).toBe("Running");
    }
    expect(rec(h.get("statefulsets.apps", "shop", "db")?.status).readyReplicas).toBe(2);
    // The agent tolerates nothing, so it skips the tainted gpu node.
    expect(h.podsOf("shop", "agent")).toHaveLength(2);
    h.create(deployment("big", { cpu: "6" }));
    h.advance(45);
    expect(h.nodes()).toHaveLength(4);
    expect(h.podsOf("shop", "agent").filter((p) => rec(p.status).phase === "Running")).toHaveLength(3);
    expect(rec(h.get("daemonsets.apps", "shop", "agent")?.status)).toMatchObject({
      desiredNumberScheduled: 3,
      numberReady: 3,
    });
  });

  it("CronJob creates a Job at the scheduled minute; its pod completes and the Job is Complete", async () => {
    h = await startSim(
      smallScenario({
        workloads: [
          {
            kind: "CronJob",
            namespace: "shop",
            name: "report",
            image: "busybox:1.36",
            schedule: "*/5 * * * *",
            command: ["sh", "-c", "sleep 30"],
          },
        ],
      }),
    );
    // start 08:00 + 60 s warm-up; the 08:05 run is due in 240 s.
    h.advance(230);
    expect(h.sb.api.store.list(h.sb.api.store.resource("jobs.batch"))).toHaveLength(0);
    h.advance(15);
    const jobName = `report-${Math.floor(Date.parse("2026-01-05T08:05:00Z") / 60_000)}`;
    expect(h.get("jobs.batch", "shop", jobName)).toBeDefined();
    expect(h.events("report", "SuccessfulCreate")[0]?.message).toBe(`Created job ${jobName}`);
    h.advance(45);
    const job = h.get("jobs.batch", "shop", jobName);
    expect(h.condition(job, "Complete")?.status).toBe("True");
    expect(rec(job?.status).succeeded).toBe(1);
    const pod = h.pods("shop").find((p) => p.metadata.labels?.["job-name"] === jobName);
    expect(rec(pod?.status).phase).toBe("Succeeded");
    expect(rec(rec(h.container(pod).state).terminated)).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(rec(h.get("cronjobs.batch", "shop", "report")?.status).lastScheduleTime).toBe(
      "2026-01-05T08:05:00Z",
    );
  });

  it("replays deterministically: the same seed gives the same snapshot, another seed does not", async () => {
    const run = async (seed: number) => {
      const scenario = ScenarioSchema.parse({ ...smallScenario({ workloads: [api] }), seed });
      const sim = await startSim(scenario);
      sim.create(deployment("big", { cpu: "6" }));
      sim.sb.inject({ kind: "traffic-spike", target: "shop/api", params: { factor: 3 } });
      sim.sb.inject({ kind: "crash-loop", target: "shop/big" });
      sim.advance(180);
      const snap = JSON.stringify(sim.sb.snapshot({ includeEvents: true }));
      await sim.close();
      return snap;
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a.length).toBeGreaterThan(10_000);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
