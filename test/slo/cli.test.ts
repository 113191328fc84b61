// `prophet slo rules`: rules on stdout or in a file, and every invalid spec as `origin: path: reason`
// on stderr with a non-zero exit code and no rules. Registered on a bare program (main.ts wires it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parse } from "yaml";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { register } from "../../infra/cli/commands/slo.js";

const samples = new URL("../../../shared/samples", import.meta.url).pathname;
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

describe("prophet slo status", () => {
  it("evaluates specs against a metrics API and prints one line per SLO with burn rates per window", async () => {
    const { TimeSeriesStore } = await import("../../infra/sandbox/metrics/index.js");
    const { startMetricsServer } = await import("../../infra/sandbox/metrics/server.js");
    const end = Date.UTC(2026, 10, 20);
    const store = new TimeSeriesStore({ retentionMs: 3 * 86_400_000 });
    let ok = 0;
    let bad = 0;
    for (let t = end - 2 * 86_400_000; t <= end; t += 30_000) {
      const ratio = end - t < 3600_000 ? 0.02 : 0.0005; // 20× for the last hour
      ok += 300 * (1 - ratio);
      bad += 300 * ratio;
      store.append({ __name__: "http_requests_total", service: "api", code: "200" }, t, ok);
      store.append({ __name__: "http_requests_total", service: "api", code: "500" }, t, bad);
    }
    const server = await startMetricsServer({ store, now: () => end });
    try {
      const spec = join(dir, "api.yml");
      writeFileSync(
        spec,
        `version: prometheus/v1
service: api
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="api",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="api"}[{{.window}}]))
    alerting:
      name: ApiBurn
`,
      );
      let out = "";
      vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void (out += `${a.join(" ")}\n`));
      vi.spyOn(console, "error").mockImplementation(() => undefined);
      const program = new Command("prophet").exitOverride();
      register(program);
      await program.parseAsync([
        "node",
        "prophet",
        "slo",
        "status",
        spec,
        "--prometheus",
        server.url,
        "--at",
        new Date(end).toISOString(),
      ]);
      expect(Number(process.exitCode ?? 0)).toBe(0);
      const [head, row] = out.trim().split("\n");
      expect(head).toMatch(
        /^SLO\s+OBJECTIVE\s+BUDGET LEFT\s+5m\s+30m\s+1h\s+2h\s+6h\s+1d\s+3d\s+FIRING\s+EXHAUSTED IN$/,
      );
      const cells = row!.split(/\s{2,}/);
      expect(cells[0]).toBe("api/availability");
      expect(cells[1]).toBe("99.90%");
      expect(Number(cells[3])).toBeCloseTo(20, 0); // 5m burn
      expect(cells[10]).toBe("page");
      // JSON has every number; without --at the server's own now (time()) is used, here END.
      out = "";
      const again = new Command("prophet").exitOverride();
      register(again);
      await again.parseAsync([
        "node",
        "prophet",
        "slo",
        "status",
        spec,
        "--prometheus",
        server.url,
        "-o",
        "json",
      ]);
      const json = JSON.parse(out) as { id: string; at: string; budgetRemaining: number; firing: string }[];
      expect(json[0]).toMatchObject({
        id: "api-availability",
        firing: "page",
        at: new Date(end).toISOString(),
      });
      expect(json[0]!.budgetRemaining).toBeLessThan(1);
    } finally {
      await server.close();
    }
  });

  it("says what is missing when no spec or no Prometheus is given", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
    const prev = { ...process.env };
    delete process.env.PROMETHEUS_URL;
    delete process.env.PROPHET_SLO_FILES;
    try {
      const program = new Command("prophet").exitOverride();
      register(program);
      await program.parseAsync(["node", "prophet", "slo", "status"]);
      expect(process.exitCode).toBe(1);
      expect(errors.join("\n")).toMatch(/give SLO spec files/);
      process.exitCode = undefined;
      await program.parseAsync([
        "node",
        "prophet",
        "slo",
        "status",
        join(samples, "sloth-getting-started.spec.yml"),
      ]);
      expect(errors.join("\n")).toMatch(/give --prometheus/);
    } finally {
      process.env = prev;
    }
  });
});
