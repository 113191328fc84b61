// The SLO scenario's fault: a bad rollout. The Deployment really rolls (a new ReplicaSet, pods
// replaced at maxSurge/maxUnavailable); pods running the bad image answer 1.5 % of requests with 500,
// so the Service's 5m error ratio climbs from the 0.02 % baseline to ≈ 1.52 % (a 15.2× burn of a
// 99.9 % objective); rolling back — `kubectl rollout undo`: the old ReplicaSet's template copied back —
// ends the errors because they follow the image, not the Deployment. Manual clock, default scenario.
//
// Measured (seed 1, shop/frontend at 5 replicas — the HPA's —, maxSurge/maxUnavailable 25 %): the
// rollout completes 4 s of simulated time after inject (at most 7 pods, at least 4 ready; the sandbox
// pulls in 2 s and has no readiness delay); the 5m error ratio then climbs for five minutes (the
// window fills with the new version) to ≈ 0.0152 (measured with a 0.1 % baseline, since lowered to
// 0.02 %: 0.0027 at +34 s, 0.0078 at +2 min, 0.0144 at +244 s). The undo completes in 2 s (image
// cached); the 5m ratio is back to the baseline five minutes later.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { badImageOf, FaultError, type ActiveFault } from "../../infra/sandbox/faults.js";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

const NS = "shop";
const NAME = "frontend";
const OLD_IMAGE = "ghcr.io/prophet-demo/frontend:1.8.2";
const BAD_IMAGE = "ghcr.io/prophet-demo/frontend:1.8.2-bad";
const BASE = 0.0002;
const ERROR_RATIO = 0.015;
const sel = `namespace="${NS}",service="${NAME}"`;
const RATIO_5M = `sum(rate(http_requests_total{${sel},code=~"5.."}[5m])) / sum(rate(http_requests_total{${sel}}[5m]))`;

let sb: Sandbox;
let fault: ActiveFault;

beforeAll(async () => {
  sb = await startSandbox({ seed: 1 });
  // Ten minutes of healthy history, so the 5m windows start from the baseline.
  sb.clock.advance(10 * 60_000);
});
afterAll(async () => {
  await sb?.close();
});

async function errorRatio5m(): Promise<number> {
  const res = await fetch(`${sb.prometheusUrl}/api/v1/query?query=${encodeURIComponent(RATIO_5M)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { value: [number, string] }[] };
  };
  expect(body.status, body.error).toBe("success");
  return Number(body.data.result[0]?.value[1] ?? NaN);
}

const store = () => sb.api.store;
const deploymentObj = () => store().get(store().resource("deployments.apps"), NS, NAME) as KubeObject;
const replicaSets = () =>
  store()
    .list(store().resource("replicasets.apps"), { namespace: NS })
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deploymentObj().metadata.uid));
const servingPods = () =>
  store()
    .list(store().resource("pods"), { namespace: NS })
    .filter((p) => p.metadata.labels?.app === NAME && !p.metadata.deletionTimestamp);
/** The first container's image of a Deployment's or ReplicaSet's pod template. */
const imageOf = (o: KubeObject) => String(arr(rec(rec(rec(o.spec).template).spec).containers)[0]?.image);
const podImage = (p: KubeObject) => String(arr(rec(p.spec).containers)[0]?.image);
const ready = (p: KubeObject) =>
  arr(rec(p.status).conditions).some((c) => c.type === "Ready" && c.status === "True");

/** The rollout is complete as `kubectl rollout status` says it: all replicas updated and available, no old pods. */
function rolledOut(): boolean {
  const d = deploymentObj();
  const spec = rec(d.spec);
  const status = rec(d.status);
  const replicas = Number(spec.replicas ?? 1);
  const image = imageOf(d);
  const pods = servingPods();
  return (
    Number(status.observedGeneration ?? 0) >= Number(d.metadata.generation ?? 0) &&
    Number(status.updatedReplicas ?? 0) === replicas &&
    Number(status.availableReplicas ?? 0) === replicas &&
    Number(status.replicas ?? 0) === replicas &&
    pods.length === replicas &&
    pods.every((p) => podImage(p) === image && ready(p))
  );
}

interface Rollout {
  /** Simulated ms from the template change to a complete rollout. */
  ms: number;
  /** The most pods and the fewest ready pods seen on the way (maxSurge, maxUnavailable). */
  maxPods: number;
  minReady: number;
  /** Steps at which pods of both templates served at once. */
  mixedSteps: number;
}

/** Steps the clock one simulated second at a time until the rollout completes. */
function untilRolledOut(limitMs = 5 * 60_000): Rollout {
  const r: Rollout = { ms: 0, maxPods: 0, minReady: Infinity, mixedSteps: 0 };
  const image = imageOf(deploymentObj());
  do {
    sb.clock.advance(1000);
    r.ms += 1000;
    const pods = servingPods();
    r.maxPods = Math.max(r.maxPods, pods.length);
    r.minReady = Math.min(r.minReady, pods.filter(ready).length);
    const serving = pods.filter(ready);
    if (serving.some((p) => podImage(p) === image) && serving.some((p) => podImage(p) !== image))
      r.mixedSteps++;
  } while (!rolledOut() && r.ms < limitMs);
  expect(rolledOut()).toBe(true);
  return r;
}

describe("bad-rollout fault", () => {
  it("starts from the 0.1 % baseline error ratio", async () => {
    expect(imageOf(deploymentObj())).toBe(OLD_IMAGE);
    expect(await errorRatio5m()).toBeCloseTo(BASE, 4);
  });

  it("rolls the Deployment to the bad image: a new ReplicaSet, every pod replaced", () => {
    const before = new Set(servingPods().map((p) => p.metadata.name));
    const setsBefore = new Set(replicaSets().map((rs) => rs.metadata.name));
    fault = sb.inject({ kind: "bad-rollout" });
    expect(fault).toMatchObject({ kind: "bad-rollout", target: `${NS}/${NAME}` });
    expect(fault.description).toContain(BAD_IMAGE);
    expect([...sb.simulation.ctx.badImages]).toEqual([[BAD_IMAGE, ERROR_RATIO]]);
    expect(imageOf(deploymentObj())).toBe(BAD_IMAGE);

    const replicas = Number(rec(deploymentObj().spec).replicas);
    const rollout = untilRolledOut();
    console.log(
      `bad-rollout: rollout of ${replicas} replicas complete ${rollout.ms / 1000} s (simulated) after inject`,
      rollout,
    );
    expect(rollout.ms).toBeLessThan(2 * 60_000);
    // A rolling update within the default 25 % maxSurge / maxUnavailable, old and new pods serving side by side.
    expect(rollout.maxPods).toBeLessThanOrEqual(replicas + Math.ceil(replicas / 4));
    expect(rollout.minReady).toBeGreaterThanOrEqual(replicas - Math.floor(replicas / 4));
    expect(rollout.mixedSteps).toBeGreaterThan(0);
    const fresh = replicaSets().filter((rs) => !setsBefore.has(rs.metadata.name));
    expect(fresh).toHaveLength(1);
    expect(imageOf(fresh[0] as KubeObject)).toBe(BAD_IMAGE);
    for (const rs of replicaSets().filter((x) => setsBefore.has(x.metadata.name)))
      expect(rec(rs.spec).replicas).toBe(0);
    const pods = servingPods();
    expect(pods.every((p) => !before.has(p.metadata.name) && podImage(p) === BAD_IMAGE)).toBe(true);
  });

  it("the Service's 5m error ratio climbs to ≈ base + errorRatio within five minutes", async () => {
    const injected = Date.parse(fault.injectedAt);
    const samples: number[] = [];
    while (sb.clock.now().getTime() - injected < 5.5 * 60_000) {
      sb.clock.advance(30_000);
      samples.push(await errorRatio5m());
    }
    console.log(
      `bad-rollout: 5m error ratio every 30 s after inject: ${samples.map((r) => r.toFixed(4)).join(" ")}`,
    );
    // A 5m rate over a step change ramps up over the window: monotone (up to sampling noise).
    expect(samples[2]).toBeGreaterThan(3 * BASE);
    expect(samples.at(-1)).toBeGreaterThan(samples[2] ?? 0);
    expect(samples.at(-1)).toBeCloseTo(BASE + ERROR_RATIO, 3);
    // The page tier's short window (14.4× a 99.9 % objective's budget) is crossed inside 5 minutes.
    expect(samples.slice(0, 9).some((r) => r > 0.0144)).toBe(true);
  });

  it("rolling back (the old ReplicaSet's template copied back) ends the errors", async () => {
    const old = replicaSets().find((rs) => imageOf(rs) === OLD_IMAGE);
    if (!old) throw new Error("no ReplicaSet of the old template");
    // kubectl rollout undo: the old ReplicaSet's template without its pod-template-hash label.
    const template = structuredClone(rec(rec(old.spec).template));
    const meta = rec(template.metadata);
    const labels = { ...rec(meta.labels) };
    delete labels["pod-template-hash"];
    const d = deploymentObj();
    store().update(store().resource("deployments.apps"), {
      ...d,
      spec: { ...rec(d.spec), template: { ...template, metadata: { ...meta, labels } } },
    });
    const rollback = untilRolledOut();
    console.log(`bad-rollout: rollback complete ${rollback.ms / 1000} s (simulated) after the undo`);
    expect(servingPods().every((p) => podImage(p) === OLD_IMAGE)).toBe(true);
    // The errors follow the image: the fault is still active, yet the burn stops.
    expect(sb.faults().map((f) => f.id)).toContain(fault.id);
    let after = NaN;
    for (let minute = 1; minute <= 10; minute++) {
      sb.clock.advance(60_000);
      after = await errorRatio5m();
      if (after < 1.5 * BASE) {
        console.log(`bad-rollout: 5m error ratio ${after.toFixed(4)} ${minute} min after the undo`);
        break;
      }
    }
    expect(after).toBeCloseTo(BASE, 3);
    expect(after).toBeLessThan(1.5 * BASE);
  });

  it("reverting un-registers the bad image and does not roll the Deployment back", async () => {
    sb.revert(fault.id);
    expect(sb.simulation.ctx.badImages.size).toBe(0);
    // Roll the bad image out again and revert at once: the Deployment stays on it, without errors.
    const again = sb.inject({ kind: "bad-rollout", target: `${NS}/${NAME}`, params: { errorRatio: 0.05 } });
    expect(sb.simulation.ctx.badImages.get(BAD_IMAGE)).toBe(0.05);
    sb.revert(again.id);
    expect(sb.simulation.ctx.badImages.size).toBe(0);
    untilRolledOut();
    expect(imageOf(deploymentObj())).toBe(BAD_IMAGE);
    sb.clock.advance(6 * 60_000);
    expect(await errorRatio5m()).toBeCloseTo(BASE, 3);
  });

  it("rejects targets that cannot roll out a bad image", () => {
    expect(() => sb.inject({ kind: "bad-rollout", target: "payments/postgres" })).toThrow(FaultError);
    expect(() =>
      sb.inject({ kind: "bad-rollout", target: `${NS}/${NAME}`, params: { image: BAD_IMAGE } }),
    ).toThrow(/already runs/);
    expect(() =>
      sb.inject({ kind: "bad-rollout", target: `${NS}/${NAME}`, params: { errorRatio: 0 } }),
    ).toThrow(/errorRatio/);
    expect(sb.simulation.ctx.badImages.size).toBe(0);
  });
});

describe("badImageOf", () => {
  it("replaces the tag with <tag>-bad, or adds :bad", () => {
    expect(badImageOf("ghcr.io/prophet-demo/cart:2.3.0")).toBe("ghcr.io/prophet-demo/cart:2.3.0-bad");
    expect(badImageOf("nginx")).toBe("nginx:bad");
    expect(badImageOf("localhost:5000/app")).toBe("localhost:5000/app:bad");
    expect(badImageOf("repo/app:1.0@sha256:abcd")).toBe("repo/app:1.0-bad");
  });
});
