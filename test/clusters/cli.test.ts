// `prophet clusters` against two sandbox API servers registered at once: add by kubeconfig
// context, list (table and a stable JSON shape), test (/version and latency); a failing cloud
// source in the same `add` is reported with exit code 1 while the kubeconfig cluster is added.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register } from "../../infra/cli/commands/clusters.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import { runCommand } from "../support/cli.js";
import { startEksApi, type FakeServer } from "./servers.js";

const ROOT = new URL("../../", import.meta.url).pathname;

let dir: string;
let east: ApiServer;
let west: ApiServer;
let eks: FakeServer;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-clusters-cli-"));
  file = join(dir, "clusters.json");
  east = await startApiServer({ port: 0 });
  west = await startApiServer({ port: 0 });
  east.writeKubeconfig(join(dir, "east.yaml"));
  west.writeKubeconfig(join(dir, "west.yaml"), "shop");
  eks = await startEksApi({ deny: new Set(["ListClusters"]), expiredKeys: new Set() });
});
afterAll(async () => {
  await east.close();
  await west.close();
  await eks.close();
  rmSync(dir, { recursive: true, force: true });
});

const registry = () =>
  new ClusterRegistry({
    file,
    eks: {
      endpoint: eks.url,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s" },
      maxAttempts: 1,
    },
  });
const run = (args: string[]) => runCommand((p: Command) => register(p, { registry }), ["clusters", ...args]);

describe("prophet clusters", () => {
  it("adds two sandbox clusters by kubeconfig context", async () => {
    const a = await run([
      "add",
      "--kubeconfig",
      join(dir, "east.yaml"),
      "--context",
      "prophet-sandbox",
      "--name",
      "east",
    ]);
    expect(a).toEqual({ out: `added east (kubeconfig ${east.url})\n`, err: "", code: undefined });
    const b = await run(["add", "--kubeconfig", join(dir, "west.yaml"), "--name", "west"]);
    expect(b.out).toBe(`added west (kubeconfig ${west.url})\n`);
    const again = await run(["add", "--kubeconfig", join(dir, "east.yaml"), "--name", "east"]);
    expect(again.out).toBe(`unchanged east (kubeconfig ${east.url})\n`);
  });

  it("refuses a second cluster under a taken name", async () => {
    const r = await run(["add", "--kubeconfig", join(dir, "west.yaml"), "--name", "east"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"east" is already registered for context "prophet-sandbox" of .*east\.yaml/);
  });

  it("lists them as stable JSON", async () => {
    const r = await run(["list", "--output", "json"]);
    expect(r.code).toBeUndefined();
    expect(JSON.parse(r.out)).toEqual({
      clusters: [
        {
          name: "east",
          source: "kubeconfig",
          server: east.url,
          context: "prophet-sandbox",
          cloud: null,
          region: null,
          account: null,
          status: "registered",
          error: null,
        },
        {
          name: "west",
          source: "kubeconfig",
          server: west.url,
          context: "prophet-sandbox",
          cloud: null,
          region: null,
          account: null,
          status: "registered",
          error: null,
        },
      ],
    });
  });

  it("lists them as a table, with --check resolving credentials", async () => {
    const r = await run(["list", "--check"]);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SOURCE\s+SERVER\s+CONTEXT\s+CLOUD\s+REGION\s+ACCOUNT\s+STATUS$/);
    expect(lines[1]).toMatch(
      new RegExp(`^east\\s+kubeconfig\\s+${east.url}\\s+prophet-sandbox\\s+-\\s+-\\s+-\\s+ready$`),
    );
    expect(lines).toHaveLength(3);
  });

  it("tests each cluster's API server and prints version and latency", async () => {
    for (const [name, api] of [
      ["east", east],
      ["west", west],
    ] as const) {
      const r = await run(["test", name]);
      expect(r.err).toBe("");
      expect(r.out).toMatch(
        new RegExp(`^${name}: ${api.url} Kubernetes v1\\.32\\.0-prophet-sandbox in \\d+(\\.\\d)? ms\\n$`),
      );
    }
    const j = await run(["test", "west", "--output", "json"]);
    expect(JSON.parse(j.out)).toMatchObject({
      name: "west",
      server: west.url,
      version: "v1.32.0-prophet-sandbox",
    });
  });

  it("reports a cluster whose API server is down, and an unknown name", async () => {
    const gone = await startApiServer({ port: 0 });
    gone.writeKubeconfig(join(dir, "gone.yaml"));
    await gone.close();
    await run(["add", "--kubeconfig", join(dir, "gone.yaml"), "--name", "gone"]);
    const r = await run(["test", "gone"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cluster gone: 127\.0\.0\.1:\d+ unreachable: .*ECONNREFUSED/);
    const u = await run(["test", "nope"]);
    expect(u.code).toBe(1);
    expect(u.err).toMatch(/no cluster "nope" .*known: east, gone, west/);
  });

  it("adds what one source found and reports the source that failed", async () => {
    const extra = await startApiServer({ port: 0 });
    try {
      extra.writeKubeconfig(join(dir, "extra.yaml"));
      const r = await run([
        "add",
        "--kubeconfig",
        join(dir, "extra.yaml"),
        "--name",
        "extra",
        "--eks",
        "eu-west-1",
      ]);
      expect(r.code).toBe(1);
      expect(r.out).toBe(`added extra (kubeconfig ${extra.url})\n`);
      expect(r.err).toMatch(
        /^error: eks:eu-west-1: EKS ListClusters \(account 111122223333, region eu-west-1\)/,
      );
      expect(r.err).toContain("eks:ListClusters");
    } finally {
      await extra.close();
    }
  });

  it("asks for a source, and rejects a bad name", async () => {
    expect((await run(["add"])).code).toBe(2);
    const r = await run(["add", "--kubeconfig", join(dir, "east.yaml"), "--name", "East_1"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/name: expected a DNS label/);
  });

  it("is registered in the prophet command and reads PROPHET_CLUSTERS_FILE", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "bin/prophet.js"), "clusters", "list", "--output", "json"],
      {
        cwd: ROOT,
        env: { ...process.env, PROPHET_CLUSTERS_FILE: file, LOG_LEVEL: "silent" },
        timeout: 60_000,
      },
    );
    expect((JSON.parse(stdout) as { clusters: { name: string }[] }).clusters.map((c) => c.name)).toEqual([
      "east",
      "extra",
      "gone",
      "west",
    ]);
  });
});
