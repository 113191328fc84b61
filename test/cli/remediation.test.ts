// `prophet actions`, `prophet approvals` and `prophet remediations` as a user runs them: the
// catalogue from the registry, and the approval commands against a real local host whose store
// holds a proposal inserted directly (no cluster needed).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { actionNames } from "../../shared/remediation/actions/index.js";
import type { Decision } from "../../shared/remediation/decision.js";
import type { GateResult } from "../../shared/remediation/gate.js";
import { getRemediation, insertRemediation } from "../../shared/remediation/store.js";
import { freePort } from "../setup/postgres.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "prophet-cli-remediation-"));
let host: RunningHost;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `prophet …` against the test host; resolves with the exit code instead of throwing. */
function prophet(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return run(process.execPath, [join(root, "bin/prophet.js"), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "silent", PROPHET_URL: host.url, USER: "tester", ...env },
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: Outcome) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const decision = (name: string): Decision => ({
  decider: "rules",
  rootCause: "Pod shop/cart-7d9f8b6c5-x2kqp: container cart was OOMKilled",
  confidence: 0.9,
  action: {
    name,
    target: { kind: "Deployment", namespace: "shop", name: "cart" },
    params: { resource: "memory", factor: 1.5 },
    rationale: "the memory limit is too low for the working set",
  },
  alternatives: [],
  actionable: true,
});

const gate: GateResult = {
  verdict: "propose",
  reason: "ok",
  detail: "policy test/human is human-in-loop",
  checks: [],
  approvalReasons: ["policy test/human is human-in-loop"],
};

async function propose(id: string, owner: string): Promise<void> {
  const at = new Date();
  const outcome = await insertRemediation(host.deps.store, {
    id,
    cluster: "test",
    incidentId: `inc-${id}`,
    diagnosisId: null,
    ownerKey: owner,
    targetKey: `Deployment/shop/${owner}`,
    decision: decision("increase_resources"),
    policyId: "test/human",
    mode: "human-in-loop",
    status: "proposed",
    reason: null,
    gate,
    expiresAt: new Date(at.getTime() + 3_600_000),
    pattern: "OOMKilled Deployment",
    embedding: [0.1, 0.2],
    at,
  });
  expect(outcome).toBe("inserted");
}

beforeAll(async () => {
  const config = loadConfig({
    PROPHET_DATA_DIR: dir,
    PROPHET_CRON: "false",
    PROPHET_SANDBOX: "false",
    LOG_LEVEL: "silent",
  });
  host = await startHost({ config, functions, log: silentLogger, port: 0 });
  await propose("rem-cli-cart", "shop/Deployment/cart");
  await propose("rem-cli-catalog", "shop/Deployment/catalog");
});
afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("prophet actions list", () => {
  it("prints every registered action as an aligned table", async () => {
    const { code, stdout } = await prophet(["actions", "list"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SCOPE\s+TARGETS\s+APPROVAL\s+READ-ONLY\s+DESCRIPTION$/);
    expect(actionNames).toHaveLength(28);
    for (const name of actionNames) expect(lines.some((l) => l.startsWith(`${name} `))).toBe(true);
    // Aligned: every row's scope starts in the header's SCOPE column.
    const col = lines[0]!.indexOf("SCOPE");
    for (const l of lines.slice(1)) expect(l.slice(col - 2, col)).toBe("  ");
    expect(stdout).toMatch(/drain_node\s+node\s+Node\s+required\s+no\s+/);
  });

  it("prints JSON with when-to-use guidance and each action's parameter schema", async () => {
    const { code, stdout } = await prophet(["actions", "list", "--output", "json"]);
    expect(code).toBe(0);
    const list = JSON.parse(stdout) as Array<{
      name: string;
      whenToUse: string;
      whenNotToUse: string;
      params: { type?: string };
    }>;
    expect(list.map((a) => a.name)).toEqual(actionNames);
    for (const a of list) {
      expect(a.whenToUse.length).toBeGreaterThan(0);
      expect(a.whenNotToUse.length).toBeGreaterThan(0);
      expect(a.params.type).toBe("object");
    }
  });
});

describe("prophet approvals and remediations against a running host", () => {
  it("lists the proposals waiting for approval", async () => {
    const table = await prophet(["approvals", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+ACTION\s+TARGET/);
    expect(table.stdout).toMatch(/rem-cli-cart\s+increase_resources\s+Deployment\/shop\/cart\s+0\.90/);
    const json = await prophet(["approvals", "list", "-o", "json", "--url", host.url], { PROPHET_URL: "" });
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).map((i) => i.id).sort()).toEqual([
      "rem-cli-cart",
      "rem-cli-catalog",
    ]);
  });

  it("rejects a proposal: the status becomes rejected, decided by the CLI user", async () => {
    const out = await prophet(["approvals", "reject", "rem-cli-catalog", "--comment", "not now"]);
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout).toContain("remediation rem-cli-catalog: rejected by cli:tester");
    expect(await getRemediation(host.deps.store, "rem-cli-catalog")).toMatchObject({
      status: "rejected",
      decidedBy: "cli:tester",
    });
    const listed = await prophet(["approvals", "list", "-o", "json"]);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((i) => i.id)).toEqual(["rem-cli-cart"]);

    const again = await prophet(["approvals", "approve", "rem-cli-catalog", "--actor", "alice"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /remediation rem-cli-catalog is rejected, not waiting for approval \(HTTP 409/,
    );
  });

  it("names an unknown remediation and exits 1", async () => {
    const out = await prophet(["approvals", "approve", "rem-nope"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^prophet: no remediation rem-nope \(HTTP 404 /);
    const show = await prophet(["remediations", "show", "rem-nope"]);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/no such remediation \(HTTP 404/);
  });

  it("lists remediations by status and shows one with its audit trail", async () => {
    const rejected = await prophet(["remediations", "list", "--status", "rejected"]);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/rem-cli-catalog\s+rejected\s+increase_resources/);
    expect(rejected.stdout).not.toContain("rem-cli-cart");
    const all = await prophet(["remediations", "list", "-o", "json"]);
    expect((JSON.parse(all.stdout) as Array<{ id: string }>).map((i) => i.id).sort()).toEqual([
      "rem-cli-cart",
      "rem-cli-catalog",
    ]);
    const show = await prophet(["remediations", "show", "rem-cli-catalog"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^status\s+rejected \(rejected\)$/m);
    expect(show.stdout).toMatch(/^decided by\s+cli:tester$/m);
    expect(show.stdout).toMatch(/remediation\.rejected\s+cli:tester/);
  });

  it("says plainly when no host is running at the URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const args of [
      ["approvals", "list"],
      ["approvals", "reject", "rem-cli-cart"],
      ["remediations", "list"],
    ]) {
      const out = await prophet([...args, "--url", url]);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(
        `prophet: no Prophet host is running at ${url} (connection refused); start one with \`prophet start\` or pass --url\n`,
      );
    }
    expect((await getRemediation(host.deps.store, "rem-cli-cart"))!.status).toBe("proposed");
  });
});
