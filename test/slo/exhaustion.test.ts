import { describe, expect, it } from "vitest";
import { lastLevelStart, timeToExhaustion, type BudgetHistoryPoint } from "../../shared/slo/exhaustion.js";
import { DAY } from "../../shared/slo/model.js";
import { seededRandom } from "../../shared/random.js";
import { poisson, syntheticBudget, trueExhaustion } from "../bench/slo-exhaustion.js";

const HOUR = 3600;
const PERIOD = 30 * DAY;
const NOW = 1_800_000_000;
const TARGET = 0.999;
const BUDGET = 1 - TARGET;

/** Hourly history ending at NOW; `burnAt(age)` is the burn rate of the bucket `age` hours before the last. */
function history(
  hours: number,
  burnAt: (age: number) => number,
  trafficAt: (age: number) => number = () => 1000,
): BudgetHistoryPoint[] {
  return Array.from({ length: hours }, (_, i) => {
    const age = hours - 1 - i;
    const total = trafficAt(age);
    return { t: NOW - age * HOUR, errors: burnAt(age) * BUDGET * total, total };
  });
}

const input = (h: BudgetHistoryPoint[], extra: { horizonSeconds?: number } = {}) => ({
  target: TARGET,
  periodSeconds: PERIOD,
  stepSeconds: HOUR,
  history: h,
  now: NOW,
  ...extra,
});

describe("time to exhaustion of a rolling error budget", () => {
  it("projects a constant burn to the exact time the rolling window runs out", () => {
    // 2× for the last 5 days, 0.2× before. h hours ahead the window holds 2×(120 + h) + 0.2×(600 − h)
    // budget-hours of errors against 720 allowed: 360 + 1.8h = 720 at h = 200 hours.
    const result = timeToExhaustion(input(history(40 * 24, (age) => (age < 120 ? 2 : 0.2))));
    expect(result.status).toBe("projected");
    expect(result.budgetRemaining).toBeCloseTo(1 - (2 * 120 + 0.2 * 600) / 720, 6);
    expect(result.seconds! / HOUR).toBeCloseTo(200, 0);
    expect(result.earliest!).toBeLessThanOrEqual(result.seconds!);
    expect(result.latest!).toBeGreaterThanOrEqual(result.seconds!);
    expect(result.method).toMatch(/on totals × .*error ratio of the last 5d/);
  });

  it("counts from now when the last bucket ended earlier (stale data)", () => {
    const h = history(40 * 24, (age) => (age < 120 ? 2 : 0.2));
    const result = timeToExhaustion({ ...input(h), now: NOW + 10 * HOUR });
    expect(result.seconds! / HOUR).toBeCloseTo(190, 0);
  });

  it("exhausts a fresh window at 2× in half the period, less the days already burnt", () => {
    // Two days at 2× after a clean month: 2×(48 + h) = 720 at h = 312 hours (15 days − 2 days).
    const result = timeToExhaustion(input(history(31 * 24, (age) => (age < 48 ? 2 : 0))));
    expect(result.seconds! / HOUR).toBeCloseTo(312, 0);
  });

  it("reports an exhausted budget with zero seconds left", () => {
    const result = timeToExhaustion(input(history(35 * 24, () => 1.2)));
    expect(result).toMatchObject({ status: "exhausted", seconds: 0 });
    expect(result.budgetRemaining).toBeCloseTo(-0.2, 6);
  });

  it("finds no exhaustion within the horizon for a healthy, noisy service", () => {
    const rand = seededRandom(7);
    const h = history(35 * 24, () => 0.5).map((p) => ({
      ...p,
      total: poisson(rand, 5000),
      errors: poisson(rand, 0.5 * BUDGET * 5000),
    }));
    const result = timeToExhaustion(input(h));
    expect(result.status).toBe("not_within_horizon");
    expect(result.seconds).toBeUndefined();
    expect(result.latest).toBeUndefined();
    expect(result.budgetRemaining!).toBeGreaterThan(0.3);
  });

  it("lets the budget recover when a bad day leaves the window instead of running it out", () => {
    // A bad day (18×, 60 % of the budget) 25 days ago, 0.3× since, 0.5× for the last three days:
    // 13 % is left, which 0.5× would spend in ~8 days on a fixed budget — but the clean days that
    // leave first only let the window reach 94 %, and then the bad day leaves.
    const burn = (age: number): number => (age < 72 ? 0.5 : age < 600 ? 0.3 : age < 624 ? 18 : 0);
    const result = timeToExhaustion(input(history(31 * 24, burn), { horizonSeconds: 2 * PERIOD }));
    expect(result.budgetRemaining).toBeCloseTo(1 - (432 + 0.3 * 528 + 0.5 * 72) / 720, 6);
    expect(result.status).toBe("not_within_horizon");
  });

  it("runs out later than a fixed budget would when bad hours are leaving the window", () => {
    // 1.5× for the last 3 days; a 12-hour incident at 20× is 29.5 days old and leaves in the next
    // 12 hours. The window (zero before the incident): 240 + 1.5×72 = 348 now; it loses 20/h and
    // gains 1.5/h for 12 h (126), then gains 1.5/h against 0/h leaving: 126 + 1.5(h − 12) = 720 at
    // h = 408 hours.
    const burn = (age: number): number => (age < 72 ? 1.5 : age >= 696 && age < 708 ? 20 : 0);
    const result = timeToExhaustion(input(history(30 * 24 + 12, burn)));
    expect(result.seconds! / HOUR).toBeCloseTo(408, -1);
  });

  it("tracks daily-seasonal traffic and errors to within hours of the simulated truth", () => {
    // The error ratio itself swings daily (±60 %) around 1.6× for the last 8 days, 0.2× before;
    // traffic swings ±50 %; Poisson noise on both. The truth runs the same generator forward.
    const rand = seededRandom(11);
    const traffic = (t: number): number => 3000 * (1 + 0.5 * Math.sin((2 * Math.PI * t) / 24));
    const burn = (t: number, start: number): number =>
      t >= start ? 1.6 * (1 + 0.6 * Math.sin((2 * Math.PI * (t - 6)) / 24)) : 0.2;
    const n = 35 * 24;
    const bucket = (t: number): { errors: number; total: number } => {
      const mean = traffic(t);
      return { total: poisson(rand, mean), errors: poisson(rand, burn(t, n - 8 * 24) * BUDGET * mean) };
    };
    const h: BudgetHistoryPoint[] = Array.from({ length: n }, (_, t) => ({
      t: NOW - (n - 1 - t) * HOUR,
      ...bucket(t),
    }));
    const future = Array.from({ length: 30 * 24 }, (_, k) => bucket(n + k));
    const truth = trueExhaustion(input(h), future)!;
    const result = timeToExhaustion(input(h));
    expect(result.status).toBe("projected");
    expect(Math.abs(result.seconds! - truth) / HOUR).toBeLessThan(12);
    expect(result.earliest!).toBeLessThanOrEqual(truth);
    expect(result.latest ?? Infinity).toBeGreaterThanOrEqual(truth);
  });

  it("falls back to a straight line on less than two days of history", () => {
    // 24 clean hours, then 6 hours at 3×: the window holds 18 of 30 allowed; each hour adds 3 errors
    // and 1 allowed, so 18 + 3h = 30 + h at h = 6 hours.
    const result = timeToExhaustion(input(history(30, (age) => (age < 6 ? 3 : 0))));
    expect(result.status).toBe("projected");
    expect(result.method).toMatch(/^linear \(short history\)/);
    expect(result.seconds! / HOUR).toBeCloseTo(6, 1);
  });

  it("counts leading gaps as no data and bridges inner gaps", () => {
    // As the first case, but the first 12 of 40 days are missing and a few hours inside are too.
    // Until the window is full of data (48 h) it holds 350.4 of 672 + h; after that 360 + 1.8h of 720.
    const h = history(40 * 24, (age) => (age < 120 ? 2 : 0.2)).map((p, i) =>
      i < 12 * 24 || (i > 20 * 24 && i < 20 * 24 + 5) ? { ...p, errors: NaN, total: NaN } : p,
    );
    const result = timeToExhaustion(input(h));
    expect(result.budgetRemaining).toBeCloseTo(1 - 350.4 / 672, 6);
    expect(result.seconds! / HOUR).toBeCloseTo(200, 0);
  });

  it("has nothing to say without traffic or without data", () => {
    expect(
      timeToExhaustion(
        input(
          history(
            35 * 24,
            () => 0,
            () => 0,
          ),
        ),
      ),
    ).toMatchObject({
      status: "insufficient_data",
      budgetRemaining: null,
    });
    const gaps = history(10, () => 1).map((p) => ({ ...p, errors: NaN, total: NaN }));
    expect(timeToExhaustion(input(gaps))).toMatchObject({
      status: "insufficient_data",
      budgetRemaining: null,
    });
    expect(timeToExhaustion(input([]))).toMatchObject({ status: "insufficient_data" });
  });

  it("keeps earliest ≤ seconds ≤ latest on noisy synthetic budgets", () => {
    const rand = seededRandom(3);
    for (let i = 0; i < 20; i++) {
      const r = timeToExhaustion(syntheticBudget(rand).input);
      if (r.status !== "projected") continue;
      expect(r.earliest!).toBeLessThanOrEqual(r.seconds!);
      expect(r.latest ?? Infinity).toBeGreaterThanOrEqual(r.seconds!);
    }
  });

  it("takes well under the per-SLO budget on 30 days of hourly buckets", () => {
    const rand = seededRandom(5);
    const cases = Array.from({ length: 50 }, () => syntheticBudget(rand, { historyDays: 30 }).input);
    const t0 = performance.now();
    for (const c of cases) timeToExhaustion(c);
    // The target is < 2 ms; the bound here is loose so a busy CI machine does not fail it.
    expect((performance.now() - t0) / cases.length).toBeLessThan(20);
  });
});

describe("the most recent level of the error ratio", () => {
  it("finds the start of the last step and ignores noise", () => {
    const rand = seededRandom(9);
    const x = Array.from({ length: 300 }, (_, t) => (t < 200 ? 1 : t < 280 ? 3 : 1.5) + 0.1 * (rand() - 0.5));
    expect(lastLevelStart(x, 3)).toBe(280);
    const flat = Array.from({ length: 300 }, () => 1 + 0.1 * (rand() - 0.5));
    expect(lastLevelStart(flat, 3)).toBe(0);
  });
});
