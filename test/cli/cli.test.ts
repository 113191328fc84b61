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
