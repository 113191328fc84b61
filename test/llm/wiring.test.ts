// How a deployment's environment becomes deps.llm: nothing configured means no LLM; a half
// configuration stops start-up naming the variable; bad values are named without showing keys.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { llmPort } from "../../infra/runtime/deps.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";

describe("LLM wiring", () => {
  it("has no LLM unless an endpoint or key and a model are configured", async () => {
    const cfg = loadConfig({});
    expect(cfg.PROPHET_LLM_TIMEOUT_MS).toBe(20_000);
    expect(cfg.PROPHET_LLM_MAX_TOKENS).toBe(800);
    expect(await llmPort(cfg, silentLogger)).toBeUndefined();
    const llm = await llmPort(
      loadConfig({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_MODEL: "llama3.1:8b" }),
      silentLogger,
    );
    expect(llm?.model).toBe("llama3.1:8b");
  });

  it("stops start-up when a model is missing", async () => {
    await expect(
      llmPort(loadConfig({ OPENAI_API_KEY: "sk-test-key-123456" }), silentLogger),
    ).rejects.toMatchObject({
      code: "invalid_config",
      message: expect.stringMatching(/OPENAI_MODEL is required/),
    });
  });

  it("names bad values, and never shows a key", () => {
    const bad = () => loadConfig({ PROPHET_LLM_TIMEOUT_MS: "soon", PROPHET_MASK_KEY: "short-secret" });
    expect(bad).toThrow(/PROPHET_LLM_TIMEOUT_MS: expected milliseconds; got "soon"/);
    expect(bad).toThrow(/PROPHET_MASK_KEY: expected at least 16 characters; got \(hidden\)/);
  });

  it("loads the openai module on the first call, not at start-up", () => {
    const dir = mkdtempSync(join(tmpdir(), "prophet-lazy-"));
    try {
      // A resolve hook that reports every import of `openai`.
      writeFileSync(
        join(dir, "hook.mjs"),
        `export async function resolve(s, c, next) { if (s === "openai") console.log("openai loaded"); return next(s, c); }`,
      );
      writeFileSync(
        join(dir, "register.mjs"),
        `import { register } from "node:module"; register(${JSON.stringify(`file://${join(dir, "hook.mjs")}`)});`,
      );
      const root = new URL("../../", import.meta.url).pathname;
      const script = `
        await import(${JSON.stringify(join(root, "functions/registry.ts"))});
        const { llmPort } = await import(${JSON.stringify(join(root, "infra/runtime/deps.ts"))});
        const { loadConfig } = await import(${JSON.stringify(join(root, "shared/config.ts"))});
        const log = { info() {}, warn() {}, debug() {}, error() {}, child() { return log; } };
        const llm = await llmPort(loadConfig({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_MODEL: "m" }), log);
        console.log("started");
        const { z } = await import("zod");
        await llm.complete({ messages: [{ role: "user", content: "x" }], schema: z.object({}), schemaName: "x", timeoutMs: 100 }).catch(() => {});
      `;
      const out = execFileSync(
        process.execPath,
        ["--import", join(dir, "register.mjs"), "--import", "tsx", "--input-type=module", "-e", script],
        { cwd: root, encoding: "utf8", timeout: 20_000 },
      );
      expect(out.trim().split("\n")).toEqual(["started", "openai loaded"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
