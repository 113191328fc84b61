// The `prophet` command as a user runs it: node bin/prophet.js …
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "prophet-cli-"));
// PORT 9 (discard) has no host listening, so `audit verify` opens the store itself.
const env = { ...process.env, PROPHET_DATA_DIR: dataDir, LOG_LEVEL: "silent", PORT: "9" };
const prophet = (...args: string[]) =>
  run(process.execPath, [join(root, "bin/prophet.js"), ...args], { cwd: root, env, timeout: 60_000 });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("prophet CLI", () => {
  it("lists the event catalog", async () => {
    const { stdout } = await prophet("events", "list");
    expect(stdout).toMatch(/io\.prophet\.alert\.firing\s+emitted/);
    expect(stdout).toMatch(/dev\.knative\.sources\.ping\s+inbound/);
  });

  it("invokes a function on a sample and prints what it emits; the second run is a duplicate", async () => {
    const first = await prophet(
      "invoke",
      "alert-intake",
      "events/alertmanager/webhook-v4-kube-pod-crashlooping.json",
    );
    const emitted = JSON.parse(first.stdout) as Array<{ type: string; subject: string }>;
    expect(emitted.map((e) => e.type)).toEqual(["io.prophet.incident.opened", "io.prophet.incident.opened"]);
    expect(first.stderr).toMatch(/handled/);
    const second = await prophet(
      "invoke",
      "alert-intake",
      "events/alertmanager/webhook-v4-kube-pod-crashlooping.json",
    );
    expect(JSON.parse(second.stdout)).toEqual([]);
    expect(second.stderr).toMatch(/duplicate/);
  });

  it("verifies the audit log the invocations wrote", async () => {
    const { stdout } = await prophet("audit", "verify");
    expect(stdout).toMatch(/audit log intact: 2 rows/);
  });

  it("names an unknown function and exits 2", async () => {
    const err = (await prophet("invoke", "nope", "events/catalog/io.prophet.schedule.tick.json").catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/no function "nope"; known: alert-intake, audit-verify/);
  });

  it("stops start-up on bad configuration, naming the variable", async () => {
    const err = (await run(process.execPath, [join(root, "bin/prophet.js"), "start"], {
      cwd: root,
      env: { ...env, PORT: "http" },
      timeout: 60_000,
    }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).not.toBe(0);
    expect(err.stderr).toMatch(/PORT: expected a port number/);
  });
});

describe("prophet start on embedded defaults", () => {
  it("starts the sandbox cluster next to the host; kubectl sees the seeded workloads", async () => {
    const { spawn } = await import("node:child_process");
    const { freePort } = await import("../setup/postgres.js");
    const port = await freePort();
    const sandboxDir = mkdtempSync(join(tmpdir(), "prophet-cli-sandbox-"));
    const dataDir2 = mkdtempSync(join(tmpdir(), "prophet-cli-data-"));
    const child = spawn(process.execPath, [join(root, "bin/prophet.js"), "start"], {
      cwd: root,
      env: {
        ...env,
        PORT: String(port),
        PROPHET_SANDBOX_DIR: sandboxDir,
        PROPHET_DATA_DIR: mkdtempSync(join(tmpdir(), "prophet-cli-data-")),
      },
      stdio: "ignore",
    });
    try {
      const deadline = Date.now() + 45_000;
      for (;;) {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        if (Date.now() > deadline) throw new Error("prophet start did not become ready");
        await new Promise((r) => setTimeout(r, 200));
      }
      const { stdout } = await run(
        "kubectl",
        ["--kubeconfig", join(sandboxDir, "kubeconfig"), "get", "deploy", "-A"],
        { timeout: 30_000 },
      );
      expect(stdout).toMatch(/shop\s+cart/);
      const kc = await prophet("sandbox", "kubeconfig", "--state-dir", sandboxDir);
      expect(kc.stdout).toContain("clusters:");
    } finally {
      // Wait for the exit: the sandbox writes its flow log into sandboxDir until then.
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      rmSync(sandboxDir, { recursive: true, force: true });
      rmSync(dataDir2, { recursive: true, force: true });
    }
  }, 90_000);
});
