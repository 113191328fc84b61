// The causes an SRE names that the shared scenarios do not exercise, and the false positives
// K8sGPT is known for. Each case: a few objects, the finding (or silence) expected.
import { describe, expect, it } from "vitest";
import { ClusterView } from "../../shared/diagnosis/cluster-view.js";
import { diagnose } from "../../shared/diagnosis/diagnose.js";
import { explain } from "../../shared/diagnosis/explain.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { scheduleProblem } from "../../shared/diagnosis/analyzers/cronjob.js";

const ns = "shop";
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: ns, ...extra });

function pod(name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta(name, { labels: { app: "cart" } }),
    spec: { containers: [{ name: "cart", image: "registry.example/cart:1.4.2" }], ...spec },
    status,
  };
}
const waiting = (reason: string, message?: string, extra: Record<string, unknown> = {}) => ({
  phase: "Pending",
  containerStatuses: [
    {
      name: "cart",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, ...(message ? { message } : {}) } },
      ...extra,
    },
  ],
});
const event = (
  name: string,
  reason: string,
  message: string,
  type = "Warning",
  kind = "Pod",
): KubeObject => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: meta(`${name}.${reason}`),
  involvedObject: { kind, namespace: ns, name },
  reason,
  message,
  type,
  count: 3,
});
const run = (...items: KubeObject[]) => diagnose(new ClusterView(items));

describe("pod causes", () => {
  it("image tag not found names the image and tag", () => {
    const [f] = run(
      pod("cart-1", waiting("ImagePullBackOff", 'Back-off pulling image "registry.example/cart:1.4.2"')),
      event(
        "cart-1",
        "Failed",
        'Failed to pull image "registry.example/cart:1.4.2": rpc error: code = NotFound desc = manifest unknown',
      ),
    );
    expect(f).toMatchObject({ kind: "Pod", reason: "ImageNotFound" });
    expect(f?.message).toMatch(/tag 1\.4\.2/);
  });

  it("unauthorised and unreachable registries are told apart", () => {
    const unauth = run(
      pod("cart-2", waiting("ErrImagePull")),
      event("cart-2", "Failed", "failed to authorize: 401 Unauthorized"),
    );
    expect(unauth[0]?.reason).toBe("ImagePullUnauthorized");
    const down = run(
      pod("cart-3", waiting("ErrImagePull")),
      event("cart-3", "Failed", "dial tcp: lookup registry.example: no such host"),
    );
    expect(down[0]?.reason).toBe("RegistryUnreachable");
  });

  it("a container running again after a recent OOM kill is reported; an old OOM kill is not", () => {
    const running = {
      phase: "Running",
      containerStatuses: [
        {
          name: "cart",
          ready: true,
          restartCount: 4,
          state: { running: { startedAt: "2026-11-22T09:10:00Z" } },
          lastState: {
            terminated: { reason: "OOMKilled", exitCode: 137, finishedAt: "2026-11-22T09:09:58Z" },
          },
        },
      ],
    };
    const spec = { containers: [{ name: "cart", image: "i", resources: { limits: { memory: "512Mi" } } }] };
    const started = event("cart-9", "Started", "Started container cart", "Normal");
    (started as unknown as { involvedObject: Record<string, string> }).involvedObject.fieldPath =
      "spec.containers{cart}";
    const recent = run(pod("cart-9", running, spec), started);
    expect(recent[0]).toMatchObject({ kind: "Pod", name: "cart-9", reason: "OOMKilled" });
    expect(recent[0]?.message).toMatch(/restarted 4 time\(s\): it exceeded its memory limit of 512Mi/);
    // No events left for the container: the kill is older than the event TTL, so it stays quiet.
    expect(run(pod("cart-9", running, spec))).toEqual([]);
  });

  it("OOMKilled names the memory limit", () => {
    const [f] = run(
      pod(
        "cart-4",
        waiting("CrashLoopBackOff", "back-off 5m0s", {
          restartCount: 7,
          lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } },
        }),
        { containers: [{ name: "cart", image: "cart:1", resources: { limits: { memory: "256Mi" } } }] },
      ),
    );
    expect(f).toMatchObject({ reason: "OOMKilled" });
    expect(f?.message).toMatch(/memory limit of 256Mi/);
  });

  it("a missing Secret is named, from the message or from the pod spec", () => {
    const [a] = run(pod("cart-5", waiting("CreateContainerConfigError", 'secret "cart-db" not found')));
    expect(a).toMatchObject({ reason: "SecretNotFound" });
    expect(a?.message).toMatch(/Secret cart-db/);
    const [b] = run(
      pod("cart-6", waiting("CreateContainerConfigError", "failed to prepare env"), {
        containers: [
          {
            name: "cart",
            image: "cart:1",
            env: [{ name: "API_KEY", valueFrom: { configMapKeyRef: { name: "cart-cfg", key: "k" } } }],
          },
        ],
      }),
    );
    expect(b).toMatchObject({ reason: "ConfigMapNotFound" });
    expect(b?.message).toMatch(/ConfigMap cart-cfg/);
  });

  it("a liveness probe that kills the container is named", () => {
    const [f] = run(
      pod(
        "cart-7",
        waiting("CrashLoopBackOff", "", {
          restartCount: 4,
          lastState: { terminated: { reason: "Error", exitCode: 137 } },
        }),
      ),
      event(
        "cart-7",
        "Unhealthy",
        'Liveness probe failed: Get "http://10.0.0.7:8080/healthz": connection refused',
      ),
    );
    expect(f?.reason).toBe("LivenessProbeFailed");
  });

  it("a node selector nobody matches, and a missing claim", () => {
    const sel = run(
      pod(
        "cart-8",
        {
          phase: "Pending",
          conditions: [
            {
              type: "PodScheduled",
              status: "False",
              reason: "Unschedulable",
              message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
            },
          ],
        },
        { nodeSelector: { pool: "gpu" } },
      ),
    );
    expect(sel[0]).toMatchObject({ reason: "NodeSelectorMismatch" });
    expect(sel[0]?.message).toMatch(/pool=gpu/);
    const pvc = run(
      pod("cart-9", {
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: '0/3 nodes are available: persistentvolumeclaim "cart-data" not found.',
          },
        ],
      }),
    );
    expect(pvc[0]).toMatchObject({ reason: "PersistentVolumeClaimNotFound" });
    expect(pvc[0]?.message).toMatch(/cart-data/);
  });

  it("a running pod that is not ready without any evidence stays quiet", () => {
    expect(
      run(
        pod("cart-10", {
          phase: "Running",
          containerStatuses: [{ name: "cart", ready: false, state: { running: {} } }],
        }),
      ),
    ).toEqual([]);
  });
});

describe("workload causes", () => {
  it("a bad image rollout: old pods still serve, the new ReplicaSet's pod cannot pull", () => {
    const owner = (kind: string, name: string) => ({ ownerReferences: [{ kind, name, controller: true }] });
    const rs = (name: string, revision: string, replicas: number): KubeObject => ({
      kind: "ReplicaSet",
      metadata: meta(name, {
        annotations: { "deployment.kubernetes.io/revision": revision },
        ...owner("Deployment", "cart"),
      }),
      status: { replicas },
    });
    const findings = run(
      {
        kind: "Deployment",
        metadata: meta("cart"),
        spec: { replicas: 2 },
        status: { readyReplicas: 2, updatedReplicas: 1 },
      },
      rs("cart-old", "3", 2),
      rs("cart-new", "4", 1),
      {
        ...pod(
          "cart-new-a",
          waiting("ImagePullBackOff", 'Back-off pulling image "registry.example/cart:1.4.2"'),
        ),
        metadata: meta("cart-new-a", owner("ReplicaSet", "cart-new")),
      },
      event("cart-new-a", "Failed", 'Failed to pull image "registry.example/cart:1.4.2": not found'),
    );
    const deploy = findings.find((f) => f.kind === "Deployment");
    expect(deploy).toMatchObject({ reason: "RolloutStuck" });
    expect(deploy?.message).toMatch(/cart-new .*cart-old/);
    expect(explain(findings).rootCause).toMatchObject({
      kind: "Pod",
      reason: "ImageNotFound",
      parent: "Deployment/shop/cart",
    });
  });
});

describe("known false positives stay quiet", () => {
  it("healthy node-problem-detector conditions", () => {
    const node: KubeObject = {
      kind: "Node",
      metadata: { name: "wk-9" },
      status: {
        conditions: [
          { type: "KernelDeadlock", status: "False", reason: "KernelHasNoDeadlock" },
          { type: "FrequentKubeletRestart", status: "False", reason: "NoFrequentKubeletRestart" },
          { type: "ReadonlyFilesystem", status: "False" },
          { type: "Ready", status: "True", reason: "KubeletReady" },
        ],
      },
    };
    expect(run(node)).toEqual([]);
    const broken = structuredClone(node);
    (broken.status as { conditions: { type: string; status: string }[] }).conditions[0]!.status = "True";
    expect(run(broken).map((f) => f.reason)).toEqual(["KernelDeadlock"]);
  });

  it("an HPA sitting at its minimum", () => {
    const deploy: KubeObject = {
      kind: "Deployment",
      metadata: meta("cart"),
      spec: { replicas: 2 },
      status: { readyReplicas: 2 },
    };
    const hpa: KubeObject = {
      kind: "HorizontalPodAutoscaler",
      metadata: meta("cart"),
      spec: { scaleTargetRef: { kind: "Deployment", name: "cart" }, minReplicas: 2, maxReplicas: 10 },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    };
    expect(run(deploy, hpa)).toEqual([]);
  });

  it("an ExternalName Service and a selector-less one", () => {
    expect(
      run(
        {
          kind: "Service",
          metadata: meta("ext"),
          spec: { type: "ExternalName", externalName: "db.example" },
        },
        { kind: "Service", metadata: meta("manual"), spec: { ports: [{ port: 80 }] } },
      ),
    ).toEqual([]);
  });
});

describe("cron schedules", () => {
  it("accepts macros, time zones, names and steps; rejects the rest", () => {
    for (const ok of [
      "@hourly",
      "CRON_TZ=Europe/Paris 0 3 * * *",
      "*/15 9-17 * * mon-fri",
      "0 0 1 jan,jul *",
      "0 0 ? * 7",
    ])
      expect(scheduleProblem(ok), ok).toBeUndefined();
    for (const bad of ["61 * * * *", "* * * *", "@fortnightly", "0 0 32 * *", "*/x * * * *"])
      expect(scheduleProblem(bad), bad).toBeDefined();
  });
});

describe("explanation", () => {
  it("picks the cause over its symptoms and says what to do", () => {
    const findings = run(
      {
        kind: "Deployment",
        metadata: meta("cart"),
        spec: { replicas: 1 },
        status: { conditions: [{ type: "Available", status: "False" }] },
      },
      {
        kind: "ReplicaSet",
        metadata: meta("cart-7d9f", {
          ownerReferences: [{ kind: "Deployment", name: "cart", controller: true }],
        }),
      },
      {
        ...pod("cart-7d9f-x2kq", waiting("CreateContainerConfigError", 'secret "cart-db" not found')),
        metadata: meta("cart-7d9f-x2kq", {
          ownerReferences: [{ kind: "ReplicaSet", name: "cart-7d9f", controller: true }],
        }),
      },
    );
    const ex = explain(findings);
    expect(ex.rootCause).toMatchObject({
      kind: "Pod",
      reason: "SecretNotFound",
      parent: "Deployment/shop/cart",
    });
    expect(ex.summary).toMatch(/Secret cart-db/);
    expect(ex.summary).toMatch(/Deployment shop\/cart/);
    expect(ex.nextSteps[0]).toMatch(/create the missing Secret/);
    expect(explain([]).summary).toMatch(/No problem found/);
  });
});
