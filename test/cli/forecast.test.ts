// `prophet forecast` on live data: a Prometheus-compatible API (the sandbox's), a duration horizon,
// the forecast printed with its bands; on a terminal, an ASCII chart above it.
import { runCommand } from "../support/cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asciiChart } from "../../infra/cli/commands/chart.js";
import { horizonPoints, printForecasts, register } from "../../infra/cli/commands/forecast.js";
import { smallScenario, startSim, deployment, type SimHarness } from "../sandbox/sim-harness.js";

describe("prophet forecast --prometheus", () => {
  let sim: SimHarness;
  beforeAll(async () => {
    sim = await startSim(smallScenario());
    sim.create(deployment("web", { replicas: 3, cpu: "100m" }));
    sim.advance(3 * 3600);
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
  });

  const run = (args: string[]) => runCommand(register, ["forecast", ...args]);

  it("reads the range up to the server's now and prints an hour of forecast with bands", async () => {
    const r = await run([
      "--prometheus",
      sim.sb.prometheusUrl,
      "--query",
      'sum(kube_deployment_spec_replicas{namespace="shop",deployment="web"})',
      "--range",
      "2h",
      "--step",
      "1m",
      "--horizon",
      "1h",
    ]);
    expect(r.err).toBe("");
    const lines = r.out.trim().split("\n");
    expect(lines[1]).toMatch(/^time\s+mean\s+lower95\s+lower80\s+upper80\s+upper95$/);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(60);
    const first = Date.parse(rows[0]!.split(/\s+/)[0]!);
    // The sandbox runs on simulated time: the forecast continues its clock, not the wall clock.
    expect(first).toBeGreaterThan(sim.sb.clock.now().getTime() - 120_000);
    expect(first).toBeLessThanOrEqual(sim.sb.clock.now().getTime() + 60_000);
    expect(Date.parse(rows[1]!.split(/\s+/)[0]!) - first).toBe(60_000);
    const [, mean, lo95, , , hi95] = rows[0]!.split(/\s+/).map(Number);
    expect(mean).toBeCloseTo(3, 6);
    expect(lo95).toBeLessThanOrEqual(mean!);
    expect(hi95).toBeGreaterThanOrEqual(mean!);
  });

  it("refuses a duration horizon for M4 input, which has no timestamps", async () => {
    const r = await run(["--input", "x.csv", "--format", "m4", "--horizon", "1h", "--output", "fc.csv"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("a duration horizon needs timestamps");
    expect(horizonPoints("48", 0)).toBe(48);
    expect(horizonPoints("1h", 300)).toBe(12);
  });
});

describe("the terminal chart", () => {
  it("draws history, mean and band on one scale, with the range labelled", () => {
    const history = Array.from({ length: 60 }, (_, i) => 10 + Math.sin(i / 5));
    const mean = Array.from({ length: 30 }, () => 10);
    const chart = asciiChart(
      { history, mean, lower95: mean.map((m) => m - 2), upper95: mean.map((m) => m + 2) },
      { width: 60, height: 10 },
    );
    const lines = chart.trimEnd().split("\n");
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^12\.00 ┤/);
    expect(lines[9]).toMatch(/^ 8\.00 ┤/);
    expect(chart).toContain("·");
    expect(chart).toContain("*");
    expect(chart).toContain("░");
    // The band spans from the top row to the bottom row in the forecast's columns.
    expect(lines[0]!.includes("░")).toBe(true);
    expect(lines[9]!.includes("░")).toBe(true);
  });

  it("is printed above the table when stdout is a terminal", () => {
    const out = printForecasts(
      [
        {
          series: {
            id: "demand",
            values: [1, 2, 3, 2, 1, 2, 3],
            timestamps: [0, 60, 120, 180, 240, 300, 360],
          },
          forecast: {
            mean: [2, 2],
            lower80: [1.5, 1.5],
            upper80: [2.5, 2.5],
            lower95: [1, 1],
            upper95: [3, 3],
            period: 1,
            longPeriod: 0,
            members: ["ses"],
          },
        },
      ],
      80,
    );
    expect(out).toContain("┤");
    expect(out).toContain("1970-01-01T00:07:00.000Z");
  });
});
