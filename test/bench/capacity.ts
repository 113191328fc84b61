// `npm run bench:capacity`: the sandbox's morning ramp (shop/web, HPA 2–40 replicas, 20 → 500
// req/s in 30 minutes from 07:00 UTC, Karpenter nodes Ready 60 s after launch), two simulated days
// in two sandboxes: day 1 without forecast-scaling in both (the history), day 2 without it in one
// and with it in the other. Prints the day-2 ramp window (06:30–09:30) side by side: pod-seconds
// waiting for a node, ramp minutes with a pod waiting, node-hours and the CPU-hours balloons held;
// the whole day's node-hours; and the PredictiveScale's forecast coverage.
import { startRamp, type RampWindow } from "../capacity/ramp-harness.js";

const seed = Number(process.argv[2] ?? 7);
const t0 = Date.now();
const off = await startRamp({ seed });
await off.day(false);
const offDay = await off.day(false);
await off.close();
const on = await startRamp({ seed });
await on.day(false);
const onDay = await on.day(true);
const status = (await on.deps.kube!.get("PredictiveScale", "shop", "web"))?.status as
  { accuracy?: { samples?: number; coverage?: number; mape?: number } } | undefined;
const changes = on.events.length;
await on.close();

const rows: [string, (w: RampWindow) => string][] = [
  ["pod-seconds waiting for a node (ramp window)", (w) => w.pendingPodSeconds.toFixed(0)],
  ["  of which preemption in progress", (w) => w.preemptingPodSeconds.toFixed(0)],
  ["ramp minutes with a pod waiting", (w) => `${w.rampMinutesWithWaiting} of ${w.rampMinutes}`],
  ["node-hours (ramp window)", (w) => w.nodeHours.toFixed(1)],
  ["CPU-hours held by balloons (ramp window)", (w) => w.placeholderCpuHours.toFixed(1)],
  [
    "requested / allocatable CPU (ramp window)",
    (w) => `${((100 * w.requestedCpuHours) / w.allocatableCpuHours).toFixed(0)} %`,
  ],
  ["node-hours (whole day)", (w) => w.dayNodeHours.toFixed(1)],
  ["pod-seconds waiting (whole day)", (w) => w.dayPendingPodSeconds.toFixed(0)],
];
console.log(
  `morning ramp, seed ${seed}: day 2 without and with forecast-scaling (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
);
console.log(`${"".padEnd(44)} ${"off".padStart(10)} ${"on".padStart(10)}`);
for (const [label, f] of rows)
  console.log(`${label.padEnd(44)} ${f(offDay).padStart(10)} ${f(onDay).padStart(10)}`);
const extra = onDay.dayNodeHours - offDay.dayNodeHours;
console.log(
  `over-provisioned: +${extra.toFixed(1)} node-hours/day (+${((100 * extra) / offDay.dayNodeHours).toFixed(0)} %), ${onDay.dayPlaceholderCpuHours.toFixed(1)} CPU-hours/day held by balloons`,
);
const covered = onDay.rampMinutes - onDay.rampMinutesWithWaiting;
console.log(
  `predictive scaling accuracy: ${covered} of ${onDay.rampMinutes} ramp minutes covered before they arrived (${((100 * covered) / Math.max(1, onDay.rampMinutes)).toFixed(0)} %); ` +
    `forecast coverage ${((status?.accuracy?.coverage ?? NaN) * 100).toFixed(1)} % of ${status?.accuracy?.samples ?? 0} scored forecasts, MAPE ${((status?.accuracy?.mape ?? NaN) * 100).toFixed(1)} %; ${changes} capacity changes`,
);
