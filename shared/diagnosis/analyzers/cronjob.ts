// CronJobs: a schedule that cannot be parsed, a negative starting deadline, or a time zone the
// controller will reject. Valid macros (@hourly …) and CRON_TZ/TZ prefixes are accepted.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import { specOf } from "../objects.js";

interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
}

const macros = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
const names: Record<number, string[]> = {
  3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};
const ranges: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

function validValue(v: string, field: number): boolean {
  const [lo, hi] = ranges[field]!;
  if (/^\d+$/.test(v)) return Number(v) >= lo && Number(v) <= hi;
  return names[field]?.includes(v.toLowerCase()) ?? false;
}

function validField(f: string, field: number): boolean {
  return f.split(",").every((part) => {
    const [range, step] = part.split("/");
    if (step !== undefined && !/^\d+$/.test(step)) return false;
    if (range === "*" || (field >= 2 && range === "?")) return true;
    const bounds = (range ?? "").split("-");
    if (bounds.length > 2) return false;
    return bounds.every((b) => validValue(b, field));
  });
}

/** Why a schedule is invalid, or undefined when it is valid. */
export function scheduleProblem(schedule: string): string | undefined {
  let s = schedule.trim();
  const tz = /^(CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (tz) s = s.slice(tz[0].length);
  if (s.startsWith("@")) {
    if (macros.has(s) || /^@every \d+[smh]/.test(s)) return undefined;
    return `unknown schedule macro ${s}`;
  }
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `a schedule needs 5 fields, "${schedule}" has ${fields.length}`;
  const bad = fields.findIndex((f, i) => !validField(f, i));
  if (bad >= 0)
    return `field ${bad + 1} (${["minute", "hour", "day of month", "month", "day of week"][bad]}) "${fields[bad]}" is out of range or malformed`;
  return undefined;
}

export const cronJobAnalyzer: Analyzer = {
  kind: "CronJob",
  analyze(view) {
    return view.list("CronJob").flatMap((cj) => {
      const spec = specOf<CronJobSpec>(cj);
      const out: Finding[] = [];
      const problem = scheduleProblem(spec.schedule ?? "");
      if (problem)
        out.push(
          makeFinding(
            view,
            cj,
            "InvalidSchedule",
            `schedule "${spec.schedule ?? ""}" is invalid: ${problem}`,
          ),
        );
      if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds < 0)
        out.push(
          makeFinding(
            view,
            cj,
            "InvalidStartingDeadline",
            `startingDeadlineSeconds is ${spec.startingDeadlineSeconds}; jobs will never start`,
          ),
        );
      if (spec.timeZone && !validTimeZone(spec.timeZone))
        out.push(
          makeFinding(view, cj, "UnknownTimeZone", `time zone ${spec.timeZone} is not a known IANA zone`),
        );
      return out;
    });
  },
};

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
