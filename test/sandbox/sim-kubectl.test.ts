// kubectl against an in-process sandbox on the manual clock: scale, then the simulation runs the
// new pods; drain evicts (honouring PDBs) and the controllers reschedule the pods elsewhere.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireKubectl } from "./apiserver-harness.js";
import { deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

const kubectlPath = requireKubectl();
const dir = mkdtempSync(join(tmpdir(), "prophet-sim-kubectl-"));
let h: SimHarness;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      kubectlPath ?? "kubectl",
      ["--kubeconfig", h.sb.kubeconfigPath, "--cache-dir", join(dir, "cache"), ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  h = await startSim(undefined, { kubeconfigPath: join(dir, "kubeconfig") });
  h.create(deployment("web", { replicas: 2 }));
  h.advance(10);
});

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!kubectlPath)("kubectl on the simulated cluster", () => {
  it("scale deploy: new pods are Pending until the clock moves, then Running", async () => {
    const scaled = await kubectl(["-n", "shop", "scale", "deploy/web", "--replicas", "4"]);
    expect(scaled.stderr).toBe("");
    expect(scaled.stdout.trim()).toBe("deployment.apps/web scaled");
    expect(h.podsOf("shop", "web")).toHaveLength(2); // nothing happens until simulated time passes
    h.advance(5);
    const out = await kubectl(["-n", "shop", "get", "pods", "-l", "app=web", "--no-headers"]);
    const lines = out.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => /\s1\/1\s+Running\s+0\s/.test(l))).toBe(true);
  });

  it("describe pod shows the scheduler and kubelet events", async () => {
    const pod = h.podsOf("shop", "web")[0]?.metadata.name ?? "";
    const out = await kubectl(["-n", "shop", "describe", "pod", pod]);
    expect(out.stdout).toMatch(
      /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned shop\/.* to ip-/,
    );
    expect(out.stdout).toMatch(/Normal\s+Started\s+.*kubelet\s+Started container web/);
  });

  it("drain --ignore-daemonsets evicts the node's pods; they come back Running on other nodes", async () => {
    const node = String(rec(h.podsOf("shop", "web")[0]?.spec).nodeName);
    const drained = await kubectl(["drain", node, "--ignore-daemonsets", "--timeout", "20s"]);
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain(`node/${node} drained`);
    h.advance(10);
    const pods = h.podsOf("shop", "web");
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => rec(p.spec).nodeName !== node && rec(p.status).phase === "Running")).toBe(true);
    const out = await kubectl(["get", "node", node, "--no-headers"]);
    expect(out.stdout).toMatch(/Ready,SchedulingDisabled/);
  });

  it("get nodeclaims prints Karpenter's columns, label keys with dots included", async () => {
    const out = await kubectl(["get", "nodeclaims"]);
    expect(out.stdout.split("\n")[0]).toMatch(/^NAME\s+TYPE\s+CAPACITY\s+ZONE\s+NODE\s+READY\s+AGE/);
    expect(out.stdout).toMatch(/^general-\S+\s+m5\.large\s+on-demand\s+us-east-1[abc]\s+ip-\S+\s+True/m);
    expect(out.stdout).toMatch(/^gpu-\S+\s+g5\.xlarge\s+on-demand/m);
  });

  it("logs --previous shows the crashed container's last words; get pods shows CrashLoopBackOff", async () => {
    h.sb.inject({
      kind: "crash-loop",
      target: "shop/web",
      params: { message: "fatal: cannot connect to db:5432" },
    });
    h.advance(8);
    const pod = h.podsOf("shop", "web").find((p) => h.container(p).restartCount === 1)?.metadata.name ?? "";
    const logs = await kubectl(["-n", "shop", "logs", pod, "--previous"]);
    expect(logs.stdout).toContain("fatal: cannot connect to db:5432");
    const current = await kubectl(["-n", "shop", "logs", pod]);
    expect(current.stdout).toContain("fatal: cannot connect to db:5432");
    const out = await kubectl(["-n", "shop", "get", "pod", pod, "--no-headers"]);
    expect(out.stdout).toMatch(/0\/1\s+CrashLoopBackOff\s+1 \(\d+s ago\)/);
  });
});
