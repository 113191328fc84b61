// PROPHET_MCP_TOKENS and output bounds, as an operator writes them and an agent meets them.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.js";
import { authenticate } from "../../shared/mcp/access.js";
import { boundJson } from "../../shared/mcp/bound.js";

describe("PROPHET_MCP_TOKENS", () => {
  it("parses ids, tokens and clusters; ids default to a hash of the token", () => {
    const cfg = loadConfig({
      PROPHET_MCP_TOKENS: "ops:ops-token-0123456789abcdef=*, team-a-token-0123456789abcdef=eu-1|eu-2",
    });
    const tokens = cfg.PROPHET_MCP_TOKENS!;
    expect(tokens.map((t) => [t.id, t.clusters])).toEqual([
      ["ops", "*"],
      [expect.stringMatching(/^token-[0-9a-f]{8}$/), ["eu-1", "eu-2"]],
    ]);
    expect(authenticate("Bearer team-a-token-0123456789abcdef", tokens)?.clusters).toEqual(["eu-1", "eu-2"]);
    expect(authenticate("Bearer team-a-token-0123456789abcdeX", tokens)).toBeUndefined();
    expect(authenticate(undefined, tokens)).toBeUndefined();
  });

  it("refuses short tokens, bad cluster names and duplicates without printing the value", () => {
    for (const bad of [
      "ops:short=*",
      "ops:ops-token-0123456789abcdef=EU_1",
      "a:same-token-0123456789ab=*,b:same-token-0123456789ab=*",
    ]) {
      let message = "";
      try {
        loadConfig({ PROPHET_MCP_TOKENS: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/PROPHET_MCP_TOKENS: .*\(hidden\)/);
      expect(message).not.toContain("0123456789");
    }
  });
});

describe("bounded outputs", () => {
  it("keeps small outputs whole and cuts long lists with a note, still JSON", () => {
    expect(boundJson({ a: 1 }, 1_000)).toEqual({ text: JSON.stringify({ a: 1 }, null, 1), truncated: false });
    const big = { items: Array.from({ length: 5_000 }, (_, i) => ({ i, text: "x".repeat(50) })) };
    const b = boundJson(big, 5_000);
    expect(b.truncated).toBe(true);
    expect(b.text.length).toBeLessThanOrEqual(5_000);
    const parsed = JSON.parse(b.text) as { truncated: string; items: unknown[] };
    expect(parsed.truncated).toMatch(/list items left out/);
    expect(parsed.items.length).toBeGreaterThan(0);
  });
});
