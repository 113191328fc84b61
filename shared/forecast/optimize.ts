// Nelder-Mead simplex minimisation over a box: parameters live in (lower, upper) through a logistic
// map, so the simplex moves in an unbounded space and every evaluation is feasible.

export interface Box {
  lower: readonly number[];
  upper: readonly number[];
}

export interface Minimum {
  x: number[];
  value: number;
  evaluations: number;
}

export function minimiseInBox(
  objective: (x: readonly number[]) => number,
  start: readonly number[],
  box: Box,
  options: { maxEvaluations?: number; tolerance?: number } = {},
): Minimum {
  const toBox = (u: readonly number[]): number[] =>
    u.map((v, i) => {
      const lo = box.lower[i] ?? 0;
      const hi = box.upper[i] ?? 1;
      return lo + (hi - lo) / (1 + Math.exp(-v));
    });
  const fromBox = (x: readonly number[]): number[] =>
    x.map((v, i) => {
      const lo = box.lower[i] ?? 0;
      const hi = box.upper[i] ?? 1;
      const p = Math.min(Math.max((v - lo) / (hi - lo), 1e-6), 1 - 1e-6);
      return Math.log(p / (1 - p));
    });
  let evaluations = 0;
  const f = (u: readonly number[]): number => {
    evaluations++;
    const v = objective(toBox(u));
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  const result = nelderMead(f, fromBox(start), options.maxEvaluations ?? 200, options.tolerance ?? 1e-8);
  return { x: toBox(result.x), value: result.value, evaluations };
}

function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  maxEvaluations: number,
  tolerance: number,
): { x: number[]; value: number } {
  const d = x0.length;
  const simplex: { x: number[]; v: number }[] = [{ x: [...x0], v: f(x0) }];
  for (let i = 0; i < d; i++) {
    const x = [...x0];
    x[i] = (x[i] ?? 0) + 1;
    simplex.push({ x, v: f(x) });
  }
  let evals = d + 1;
  while (evals < maxEvaluations) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0]!;
    const worst = simplex[d]!;
    if (Math.abs(worst.v - best.v) <= tolerance * (Math.abs(best.v) + 1e-12)) break;
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) centroid[j]! += simplex[i]!.x[j]! / d;
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (worst.x[j]! - c));
    const reflected = along(-1);
    const vr = f(reflected);
    evals++;
    const secondWorst = simplex[d - 1]!;
    if (vr < best.v) {
      const expanded = along(-2);
      const ve = f(expanded);
      evals++;
      simplex[d] = ve < vr ? { x: expanded, v: ve } : { x: reflected, v: vr };
    } else if (vr < secondWorst.v) {
      simplex[d] = { x: reflected, v: vr };
    } else {
      const contracted = vr < worst.v ? along(-0.5) : along(0.5);
      const vc = f(contracted);
      evals++;
      if (vc < Math.min(vr, worst.v)) {
        simplex[d] = { x: contracted, v: vc };
      } else {
        for (let i = 1; i <= d; i++) {
          const x = simplex[i]!.x.map((v, j) => best.x[j]! + 0.5 * (v - best.x[j]!));
          simplex[i] = { x, v: f(x) };
          evals++;
        }
      }
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v };
}
