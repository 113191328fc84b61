// Kubelet specs driven by faults on the manual clock: image pulls, crash loops with back-off,
// OOM kills, missing configuration, failing readiness probes, and the logs kubectl would show.
import { afterEach, describe, expect, it } from "vitest";
import { simulatedLogs } from "../../infra/sandbox/controllers/logs.js";
import { deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function withWeb(opts: Parameters<typeof deployment>[1] = {}): Promise<SimHarness> {
  const sim = await startSim();
  sim.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "web-config", namespace: "shop" },
    data: { LOG_LEVEL: "info" },
  });
  sim.create(
    deployment("web", {
      replicas: 2,
      ...opts,
      container: {
        env: [
          { name: "LOG_LEVEL", valueFrom: { configMapKeyRef: { name: "web-config", key: "LOG_LEVEL" } } },
        ],
        readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
        ...opts.container,
      },
    }),
  );
  sim.advance(10);
  return sim;
}

const running = (h: SimHarness) => h.podsOf("shop", "web").filter((p) => rec(p.status).phase === "Running");

describe("kubelet model", () => {
  it("starts pods through Pulling/Pulled/Created/Started to Running and Ready", async () => {
    h = await withWeb();
    const pods = running(h);
    expect(pods).toHaveLength(2);
    const [pod] = pods;
    expect(h.condition(pod, "Ready")?.status).toBe("True");
    expect(h.container(pod)).toMatchObject({ ready: true, restartCount: 0, started: true });
    const reasons = h.events(pod?.metadata.name).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Scheduled", "Created", "Started"]));
    expect(h.events(pod?.metadata.name, "Created")[0]?.message).toBe("Created container: web");
    expect(rec(pod?.status).podIP).toMatch(/^10\.244\.\d+\.\d+$/);
  });

  it("bad image tag: ErrImagePull then ImagePullBackOff with the real messages; revert recovers", async () => {
    h = await withWeb();
    const fault = h.sb.inject({ kind: "bad-image", target: "shop/web" });
    h.advance(3);
    const pod = h.podsOf("shop", "web").find((p) => String(rec(h?.container(p).state).waiting ? "x" : ""));
    expect(pod).toBeDefined();
    const image = "nginx:v0.0.0-does-not-exist";
    const ref = "docker.io/library/nginx:v0.0.0-does-not-exist";
    const waiting = rec(rec(h.container(pod).state).waiting);
    expect(waiting.reason).toBe("ErrImagePull");
    const failed = h.events(pod?.metadata.name, "Failed").map((e) => e.message);
    expect(failed).toContain(
      `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`,
    );
    expect(failed).toContain("Error: ErrImagePull");
    h.advance(2);
    const later = h.pod("shop", pod?.metadata.name ?? "");
    expect(rec(h.container(later).state).waiting).toEqual({
      reason: "ImagePullBackOff",
      message: `Back-off pulling image "${image}"`,
    });
    expect(h.events(pod?.metadata.name, "BackOff")[0]?.message).toBe(`Back-off pulling image "${image}"`);
    expect(h.events(pod?.metadata.name, "Failed").map((e) => e.message)).toContain("Error: ImagePullBackOff");
    h.sb.revert(fault.id);
    h.advance(10);
    expect(running(h).filter((p) => rec(h?.container(p)).image === "nginx:1.27")).toHaveLength(2);
  });

  it("crash-looping command: CrashLoopBackOff with rising restarts and doubling back-off; logs --previous shows the last words", async () => {
    h = await withWeb();
    h.sb.inject({ kind: "crash-loop", target: "shop/web", params: { exitCode: 2 } });
    h.advance(8);
    const name =
      h.podsOf("shop", "web").find((p) => rec(rec(p.spec).containers) && h?.container(p).lastState)?.metadata
        .name ?? "";
    let pod = h.pod("shop", name);
    let c = h.container(pod);
    expect(c.restartCount).toBe(1);
    expect(rec(rec(c.state).waiting).reason).toBe("CrashLoopBackOff");
    expect(String(rec(rec(c.state).waiting).message)).toBe(
      `back-off 10s restarting failed container=web pod=${name}_shop(${pod?.metadata.uid})`,
    );
    expect(rec(rec(c.lastState).terminated)).toMatchObject({ exitCode: 2, reason: "Error" });
    h.advance(60);
    pod = h.pod("shop", name);
    c = h.container(pod);
    expect(Number(c.restartCount)).toBeGreaterThanOrEqual(3);
    expect(String(rec(rec(c.state).waiting).message ?? "")).toMatch(
      /^back-off (40|80)s restarting failed container=web/,
    );
    expect(String(h.events(name, "BackOff")[0]?.message)).toBe(
      `Back-off restarting failed container web in pod ${name}_shop(${pod?.metadata.uid})`,
    );
    const logs = simulatedLogs(h.sb.simulation.ctx);
    expect(logs.read(pod as never, "web", { previous: true })).toContain(
      "panic: runtime error: invalid memory address or nil pointer dereference",
    );
  });

  it("memory leak: OOMKilled with exit code 137 at the memory limit, then restarts", async () => {
    h = await withWeb({ memory: "64Mi", memoryLimit: "128Mi" });
    h.sb.inject({ kind: "memory-leak", target: "shop/web", params: { bytesPerMinute: 64 * 2 ** 20 } });
    // base working set 0.6 × 64Mi ≈ 38Mi; +64Mi/min reaches 128Mi after ~85 s.
    h.advance(60);
    expect(running(h).every((p) => h?.container(p).restartCount === 0)).toBe(true);
    h.advance(40);
    const pod = h.podsOf("shop", "web")[0];
    const c = h.container(pod);
    expect(c.restartCount).toBe(1);
    expect(rec(rec(c.lastState).terminated)).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    const previous = simulatedLogs(h.sb.simulation.ctx).read(pod as never, "web", { previous: true });
    expect(previous).toMatch(/GC unable to reclaim memory/);
  });

  it("missing ConfigMap: CreateContainerConfigError with the kubelet's message until the ConfigMap is back", async () => {
    h = await withWeb();
    const fault = h.sb.inject({ kind: "missing-configmap", target: "shop/web" });
    h.advance(5);
    const broken = h
      .podsOf("shop", "web")
      .filter((p) => rec(rec(h?.container(p).state).waiting).reason === "CreateContainerConfigError");
    expect(broken.length).toBeGreaterThan(0);
    expect(rec(rec(h.container(broken[0]).state).waiting).message).toBe('configmap "web-config" not found');
    expect(h.events(broken[0]?.metadata.name, "Failed")[0]?.message).toBe(
      'Error: configmap "web-config" not found',
    );
    h.sb.revert(fault.id);
    h.advance(15);
    expect(running(h)).toHaveLength(2);
  });

  it("missing key: names the key and the ConfigMap", async () => {
    h = await withWeb({
      container: {
        env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "web-config", key: "FEATURE_FLAGS" } } }],
      },
    });
    const pod = h.podsOf("shop", "web")[0];
    expect(rec(rec(h.container(pod).state).waiting).message).toBe(
      "couldn't find key FEATURE_FLAGS in ConfigMap shop/web-config",
    );
  });

  it("failing readiness probe: Unhealthy events, pod NotReady, endpoints move to notReadyAddresses", async () => {
    h = await withWeb();
    h.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    h.advance(2);
    expect(rec((h.get("endpoints", "shop", "web")?.subsets as unknown[])?.[0]).addresses).toHaveLength(2);
    const fault = h.sb.inject({ kind: "readiness-failure", target: "shop/web" });
    h.advance(40);
    const pod = h.podsOf("shop", "web")[0];
    expect(h.condition(pod, "Ready")).toMatchObject({
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [web]",
    });
    expect(h.events(pod?.metadata.name, "Unhealthy")[0]?.message).toBe(
      "Readiness probe failed: HTTP probe failed with statuscode: 503",
    );
    const subset = rec((h.get("endpoints", "shop", "web")?.subsets as unknown[])?.[0]);
    expect(subset.addresses).toBeUndefined();
    expect(subset.notReadyAddresses).toHaveLength(2);
    h.sb.revert(fault.id);
    h.advance(15);
    expect(rec((h.get("endpoints", "shop", "web")?.subsets as unknown[])?.[0]).addresses).toHaveLength(2);
  });

  it("logs of a running container are request lines; a waiting container answers like the API server", async () => {
    h = await withWeb();
    h.advance(120);
    const pod = running(h)[0];
    const logs = simulatedLogs(h.sb.simulation.ctx);
    const text = logs.read(pod as never, "web", { previous: false });
    expect(text).toMatch(/INFO {2}starting web version=1.27/);
    expect(text).toMatch(/method=GET path=\/\S* status=\d{3} duration_ms=\d+/);
    expect(() => logs.read(pod as never, "web", { previous: true })).toThrow(
      /previous terminated container "web" in pod ".*" not found/,
    );
  });

  it("failing liveness probe: Unhealthy events, Killing, and a restart", async () => {
    h = await withWeb({
      container: { livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 10, failureThreshold: 3 } },
    });
    h.sb.inject({ kind: "liveness-failure", target: "shop/web" });
    h.advance(35);
    const pod = h.podsOf("shop", "web")[0];
    const name = pod?.metadata.name;
    const ip = String(rec(pod?.status).podIP);
    expect(h.events(name, "Unhealthy")[0]?.message).toBe(
      `Liveness probe failed: dial tcp ${ip}:8080: connect: connection refused`,
    );
    expect(h.events(name, "Killing")[0]?.message).toBe(
      "Container web failed liveness probe, will be restarted",
    );
    expect(h.container(h.pod("shop", name ?? ""))).toMatchObject({ restartCount: 1 });
  });
});
