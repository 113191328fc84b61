// `prophet mcp` over stdio, as a desktop agent starts it: the SDK's Client spawns the CLI,
// lists the tools and calls two of them; the calls are audited as mcp:<id>.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("prophet mcp (stdio)", () => {
  let dir: string;
  let client: Client;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-mcp-stdio-"));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      PROPHET_DATA_DIR: join(dir, "data"),
      PROPHET_SANDBOX: "false",
      LOG_LEVEL: "warn",
    };
    client = new Client({ name: "prophet-spec", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ["bin/prophet.js", "mcp", "--id", "desktop", "--read-only"],
        cwd: process.cwd(),
        env,
        stderr: "pipe",
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    return { isError: r.isError === true, text: r.content[0]!.text };
  };

  it("serves the tools and audits each call", async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(12);
    const actions = await call("list_actions", { scope: "node" });
    expect(actions.isError).toBe(false);
    expect(JSON.parse(actions.text).items.map((a: { name: string }) => a.name)).toContain("drain_node");
    const incidents = await call("list_incidents");
    expect(JSON.parse(incidents.text)).toEqual({ count: 0, items: [] });
    const refused = await call("propose_remediation", {
      incidentId: "inc-0000000000000000",
      action: "notify_only",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      rationale: "read-only from the command line",
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/read-only/);
    const audit = JSON.parse((await call("get_audit", { actor: "mcp:desktop" })).text) as {
      items: { action: string }[];
    };
    expect(audit.items.map((a) => a.action)).toEqual([
      "mcp.tool.propose_remediation",
      "mcp.tool.list_incidents",
      "mcp.tool.list_actions",
    ]);
  });
});
