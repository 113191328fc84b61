// The CLI against a real running sandbox: `prophet sandbox start` in a child process (killed by
// pid afterwards), then inject/faults/snapshot/kubeconfig in-process through `register`, and
// kubectl with the kubeconfig it printed.
import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { register } from "../../infra/cli/commands/sandbox.js";
import { requireKubectl } from "./apiserver-harness.js";

const kubectl = requireKubectl();
const dir = mkdtempSync(join(tmpdir(), "prophet-sim-cli-"));
let child: ChildProcess | undefined;
let kubeconfigPath = "";

async function cli(args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command("prophet").exitOverride();
  register(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(["node", "prophet", "sandbox", ...args, "--state-dir", dir]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { out, code };
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "test/sandbox/sim-cli-main.ts",
      "sandbox",
      "start",
      "--speed",
      "30",
      "--state-dir",
      dir,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  kubeconfigPath = await new Promise<string>((resolve, reject) => {
    let buf = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${err}`)), 30_000);
    child?.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child?.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\n")) {
        clearTimeout(timer);
        resolve(buf.trim());
      }
    });
    child?.once("exit", (code) => reject(new Error(`sandbox exited with ${code}: ${err}`)));
  });
}, 40_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    // Wait for it: it writes its flow log into `dir` until it exits.
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("prophet sandbox", () => {
  it("start prints the kubeconfig path; kubeconfig prints the file's content", async () => {
    expect(kubeconfigPath).toBe(join(dir, "kubeconfig"));
    const { out, code } = await cli(["kubeconfig"]);
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(kubeconfigPath, "utf8"));
    expect((await cli(["kubeconfig", "--path"])).out.trim()).toBe(kubeconfigPath);
  });

  it("snapshot prints a List with the seeded cluster", async () => {
    const { out } = await cli(["snapshot"]);
    const list = JSON.parse(out) as {
      kind: string;
      items: { kind: string; metadata: { name: string; namespace?: string } }[];
    };
    expect(list.kind).toBe("List");
    const kinds = new Set(list.items.map((i) => i.kind));
    for (const k of [
      "Namespace",
      "Node",
      "Deployment",
      "StatefulSet",
      "DaemonSet",
      "CronJob",
      "Service",
      "Pod",
      "NodePool",
      "NodeClaim",
      "EndpointSlice",
    ])
      expect(kinds, k).toContain(k);
    expect(list.items.filter((i) => i.kind === "Deployment").length).toBeGreaterThanOrEqual(3);
    expect(list.items.some((i) => i.kind === "Event")).toBe(false);
  });

  it("inject lists, and revert removes, a fault; unknown faults fail with a clear message", async () => {
    const injected = await cli([
      "inject",
      "traffic-spike",
      "--target",
      "shop/frontend",
      "--param",
      "factor=5",
    ]);
    expect(injected.code).toBe(0);
    const fault = JSON.parse(injected.out) as { id: string; kind: string; target: string };
    expect(fault).toMatchObject({ kind: "traffic-spike", target: "shop/frontend" });
    expect((JSON.parse((await cli(["faults"])).out) as { items: unknown[] }).items).toHaveLength(1);
    expect((await cli(["revert", fault.id])).code).toBe(0);
    expect((JSON.parse((await cli(["faults"])).out) as { items: unknown[] }).items).toHaveLength(0);
    const errors: string[] = [];
    const spy = vi
      .spyOn(process.stderr, "write")
      .mockImplementation((c: string | Uint8Array) => (errors.push(String(c)), true));
    const bad = await cli(["inject", "meteor-strike"]);
    const missing = await cli(["inject", "bad-image", "--target", "shop/nope"]);
    spy.mockRestore();
    expect(bad.code).toBe(1);
    expect(missing.code).toBe(1);
    expect(errors.join("")).toContain('unknown fault "meteor-strike"');
    expect(errors.join("")).toContain("404 no Deployment, StatefulSet or DaemonSet shop/nope");
  });

  it.skipIf(!kubectl)("kubectl get pods -A lists the seeded cluster", async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        kubectl ?? "kubectl",
        ["--kubeconfig", kubeconfigPath, "--cache-dir", join(dir, "cache"), "get", "pods", "-A"],
        { timeout: 20_000 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(out.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    for (const ns of ["shop", "payments", "monitoring"]) expect(out).toMatch(new RegExp(`^${ns}\\s`, "m"));
    expect(out).toMatch(/^payments\s+postgres-0\s+1\/1\s+Running/m);
    expect(out).toMatch(/^shop\s+frontend-\S+\s+1\/1\s+Running/m);
  });
});
