// The cluster port over @kubernetes/client-node against the API server emulator: a scenario's
// snapshot is loaded into the emulator, read back through a kubeconfig, and diagnosed; the result
// must equal the diagnosis of the snapshot file itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { viewFromList } from "../../shared/diagnosis/cluster-view.js";
import { diagnose } from "../../shared/diagnosis/diagnose.js";
import type { Finding } from "../../shared/diagnosis/finding.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { snapshotFromCluster, viewFromCluster } from "../../shared/kube/snapshot.js";
import { loadScenarios } from "./pass-rule.js";
import { seedSnapshot } from "./seed.js";

const scenarios = loadScenarios();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prophet-diag-live-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = (f: Finding) => `${f.kind}/${f.namespace}/${f.name}/${f.reason}/${f.message}`;
const sorted = (fs: Finding[]) => fs.map((f) => ({ ...f })).sort((a, b) => key(a).localeCompare(key(b)));

async function withCluster<T>(
  snapshot: unknown,
  fn: (api: ApiServer, kubeconfig: string) => Promise<T>,
  logs?: (pod: string, container: string, previous: boolean) => string,
): Promise<T> {
  const api = await startApiServer({
    port: 0,
    ...(logs
      ? { logs: { read: (pod, container, o) => logs(pod.metadata.name ?? "", container, o.previous) } }
      : {}),
  });
  try {
    seedSnapshot(api, snapshot);
    const kubeconfig = join(dir, `kubeconfig-${api.port}`);
    api.writeKubeconfig(kubeconfig);
    return await fn(api, kubeconfig);
  } finally {
    await api.close();
  }
}

describe("live diagnosis through the cluster port", () => {
  for (const s of scenarios) {
    it(`${s.id}: the live cluster gives the snapshot's diagnosis`, async () => {
      const expected = sorted(diagnose(viewFromList(s.snapshot)));
      const live = await withCluster(s.snapshot, async (_api, kubeconfig) =>
        diagnose(await viewFromCluster(kubeClusterPort({ kubeconfig }))),
      );
      expect(sorted(live)).toEqual(expected);
    });
  }

  it("reads objects, one object, events and log tails with the wire format intact", async () => {
    const s = scenarios.find((x) => x.id === "S07")!;
    await withCluster(
      s.snapshot,
      async (_api, kubeconfig) => {
        const port = kubeClusterPort({ kubeconfig });
        const pods = await port.list("Pod", "quant");
        expect(pods.every((p) => p.kind === "Pod" && typeof p.metadata.creationTimestamp === "string")).toBe(
          true,
        );
        const pod = await port.get("Pod", "quant", "risk-engine-ttdd9zj96-fqxln");
        expect(pod?.metadata.name).toBe("risk-engine-ttdd9zj96-fqxln");
        expect(await port.get("Pod", "quant", "no-such-pod")).toBeUndefined();
        const events = await port.events({
          kind: "Pod",
          namespace: "quant",
          name: "risk-engine-ttdd9zj96-fqxln",
        });
        expect(events.length).toBeGreaterThan(0);
        expect(await port.list("ValidatingWebhookConfiguration")).toEqual([]);
        const secrets = await port.list("Secret");
        expect(secrets.every((x) => x.data === undefined)).toBe(true);
        expect(
          await port.podLogs("quant", "risk-engine-ttdd9zj96-fqxln", "pricing-core", {
            previous: true,
            tailLines: 2,
          }),
        ).toBe("loading curves\npanic: pricing-core: curve EURUSD-3M missing\n");
        const snap = await snapshotFromCluster(port, { namespace: "quant" });
        expect(snap.logs.get("quant/risk-engine-ttdd9zj96-fqxln/pricing-core")).toEqual([
          "starting",
          "loading curves",
          "panic: pricing-core: curve EURUSD-3M missing",
        ]);
        const findings = diagnose(await viewFromCluster(port, { namespace: "quant" }));
        const crash = findings.find((f) => f.message.includes("pricing-core"));
        expect(crash?.evidence.logs).toContain("panic: pricing-core: curve EURUSD-3M missing");
        expect(crash?.message).toMatch(/last log line: panic: pricing-core: curve EURUSD-3M missing/);
      },
      (_pod, container, previous) =>
        container === "pricing-core" && previous
          ? "starting\nloading curves\npanic: pricing-core: curve EURUSD-3M missing\n"
          : "",
    );
  });

  it("names the API server when it cannot be reached", async () => {
    const api = await startApiServer({ port: 0 });
    const kubeconfig = join(dir, "kubeconfig-gone");
    api.writeKubeconfig(kubeconfig);
    await api.close();
    await expect(kubeClusterPort({ kubeconfig, timeoutMs: 2000 }).list("Pod")).rejects.toThrow(
      /127\.0\.0\.1/,
    );
  });
});
