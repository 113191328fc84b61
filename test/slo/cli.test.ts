// `prophet slo rules`: rules on stdout or in a file, and every invalid spec as `origin: path: reason`
// on stderr with a non-zero exit code and no rules. Registered on a bare program (main.ts wires it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parse } from "yaml";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { register } from "../../infra/cli/commands/slo.js";

const samples = "/work/shared/samples";
const dir = mkdtempSync(join(tmpdir(), "prophet-slo-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = "";
  const stderr: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void stderr.push(a.join(" ")));
  const program = new Command("prophet").exitOverride();
  const slo = register(program);
  expect(slo.name()).toBe("slo");
  await program.parseAsync(["node", "prophet", "slo", "rules", ...args]);
  const code = Number(process.exitCode ?? 0);
  return { stdout, stderr: stderr.join("\n"), code };
}

describe("prophet slo rules", () => {
  it("prints the rules of a spec on stdout, optimized period by default", async () => {
    const r = await run(join(samples, "sloth-getting-started.spec.yml"));
    expect(r.code).toBe(0);
    const groups = (
      parse(r.stdout) as { groups: { name: string; rules: { record?: string; expr: string }[] }[] }
    ).groups;
    expect(groups).toHaveLength(3);
    expect(groups[0]!.rules.at(-1)!.expr).toMatch(/^sum_over_time\(/);
  });

  it("writes --exact-period rules with extra labels to --output", async () => {
    const out = join(dir, "rules.yml");
    const r = await run(
      join(samples, "sloth-getting-started.spec.yml"),
      "--exact-period",
      "-l",
      "cmd=test",
      "-o",
      out,
    );
    expect(r).toMatchObject({ code: 0, stdout: "" });
    const groups = (
      parse(readFileSync(out, "utf8")) as {
        groups: { rules: { expr: string; labels: Record<string, string> }[] }[];
      }
    ).groups;
    expect(groups[0]!.rules.at(-1)!.expr).toContain("[30d]");
    expect(groups[0]!.rules[0]!.labels.cmd).toBe("test");
  });

  it("exits 1 with each error as origin: path: reason, and prints no rules", async () => {
    const bad = join(dir, "bad.yml");
    writeFileSync(
      bad,
      'version: "prometheus/v1"\nservice: cart\nslos:\n  - name: a\n    objective: 120\n    sli: {raw: {error_ratio_query: "r"}}\n',
    );
    const r = await run(join(samples, "sloth-getting-started.spec.yml"), bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      `${bad}: slos[0].objective: 120 is not a percentage strictly between 0 and 100 (e.g. 99.9)`,
      `${bad}: slos[0].sli.raw.error_ratio_query: the query must use {{.window}} as its range (e.g. rate(x[{{.window}}])) so every alert window can be evaluated`,
    ]);
  });
});
