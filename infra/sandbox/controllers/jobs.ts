// Jobs (pods up to parallelism until completions succeed, backoffLimit, Complete/Failed
// conditions) and CronJobs (a Job per due schedule time, named <cronjob>-<minutes since epoch>,
// with history limits), as the batch controllers behave.
import type { KubeObject } from "../apiserver/types.js";
import { kubeTime } from "../apiserver/types.js";
import { arr, phaseOf, rec, type Obj, type SimContext } from "./context.js";

function finished(job: KubeObject): string | undefined {
  const c = arr(rec(job.status).conditions).find(
    (x) => (x.type === "Complete" || x.type === "Failed") && x.status === "True",
  );
  return c ? String(c.type) : undefined;
}

export function reconcileJobs(ctx: SimContext): void {
  const source = { component: "job-controller" };
  for (const job of ctx.store.list(ctx.rt.jobs)) {
    if (job.metadata.deletionTimestamp || finished(job) || rec(job.spec).suspend) continue;
    const ns = job.metadata.namespace ?? "";
    const name = job.metadata.name ?? "";
    const spec = rec(job.spec);
    const completions = typeof spec.completions === "number" ? spec.completions : 1;
    const parallelism = typeof spec.parallelism === "number" ? spec.parallelism : 1;
    const backoffLimit = typeof spec.backoffLimit === "number" ? spec.backoffLimit : 6;
    const pods = ctx.store
      .list(ctx.rt.pods, { namespace: ns })
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid));
    const succeeded = pods.filter((p) => phaseOf(p) === "Succeeded").length;
    const failedPods = pods.filter((p) => phaseOf(p) === "Failed").length;
    const restarts = pods.reduce(
      (n, p) => n + arr(rec(p.status).containerStatuses).reduce((m, c) => m + Number(c.restartCount ?? 0), 0),
      0,
    );
    let active = pods.filter((p) => !["Succeeded", "Failed"].includes(phaseOf(p))).length;
    const status: Obj = { ...rec(job.status), startTime: rec(job.status).startTime ?? ctx.stamp };
    const template = rec(spec.template);
    if (failedPods + restarts > backoffLimit) {
      for (const p of pods)
        if (!["Succeeded", "Failed"].includes(phaseOf(p)))
          ctx.store.delete(ctx.rt.pods, ns, p.metadata.name ?? "");
      const c = {
        status: "True",
        lastProbeTime: ctx.stamp,
        lastTransitionTime: ctx.stamp,
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
      };
      ctx.store.update(
        ctx.rt.jobs,
        {
          ...job,
          status: {
            ...status,
            active: undefined,
            failed: failedPods || 1,
            conditions: [
              { type: "FailureTarget", ...c },
              { type: "Failed", ...c },
            ],
          },
        },
        { subresource: "status" },
      );
      ctx.event(
        job,
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        source,
      );
      continue;
    }
    if (succeeded >= completions) {
      const c = { status: "True", lastProbeTime: ctx.stamp, lastTransitionTime: ctx.stamp };
      ctx.store.update(
        ctx.rt.jobs,
        {
          ...job,
          status: {
            ...status,
            active: undefined,
            ready: 0,
            succeeded,
            completionTime: ctx.stamp,
            conditions: [
              {
                type: "SuccessCriteriaMet",
                ...c,
                reason: "CompletionsReached",
                message: "Reached expected number of succeeded pods",
              },
              {
                type: "Complete",
                ...c,
                reason: "CompletionsReached",
                message: "Reached expected number of succeeded pods",
              },
            ],
          },
        },
        { subresource: "status" },
      );
      ctx.event(job, "Normal", "Completed", "Job completed", source);
      continue;
    }
    const want = Math.min(parallelism, completions - succeeded);
    for (; active < want; active++) {
      const pod = ctx.store.create(ctx.rt.pods, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${name}-`,
          namespace: ns,
          labels: {
            ...(rec(rec(template.metadata).labels) as Record<string, string>),
            "batch.kubernetes.io/job-name": name,
            "job-name": name,
            "batch.kubernetes.io/controller-uid": job.metadata.uid ?? "",
            "controller-uid": job.metadata.uid ?? "",
          },
          ownerReferences: [
            {
              apiVersion: "batch/v1",
              kind: "Job",
              name,
              uid: job.metadata.uid ?? "",
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          ...structuredClone(rec(template.spec)),
          restartPolicy: rec(template.spec).restartPolicy ?? "Never",
        },
      });
      ctx.event(job, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, source);
    }
    const readyPods = pods.filter((p) =>
      arr(rec(p.status).conditions).some((c) => c.type === "Ready" && c.status === "True"),
    ).length;
    const next = {
      ...status,
      active,
      ready: readyPods,
      ...(succeeded ? { succeeded } : {}),
      ...(failedPods ? { failed: failedPods } : {}),
    };
    ctx.store.update(ctx.rt.jobs, { ...job, status: next }, { subresource: "status" });
  }
}

// ---- CronJob -------------------------------------------------------------------------------------

function field(spec: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const [range = "*", stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a, b] = range.split("-");
      lo = Number(a);
      hi = b !== undefined ? Number(b) : stepText ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

const macros: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
};

/** Whether a standard 5-field cron schedule fires at the (UTC) minute starting at `ms`. */
export function cronMatches(schedule: string, ms: number): boolean {
  const parts = (macros[schedule.trim()] ?? schedule).trim().split(/\s+/);
  if (parts.length !== 5) return false;
  const d = new Date(ms);
  const [mi, h, dom, mon, dow] = parts as [string, string, string, string, string];
  return (
    field(mi, 0, 59).has(d.getUTCMinutes()) &&
    field(h, 0, 23).has(d.getUTCHours()) &&
    field(dom, 1, 31).has(d.getUTCDate()) &&
    field(mon, 1, 12).has(d.getUTCMonth() + 1) &&
    field(dow.replace("7", "0"), 0, 6).has(d.getUTCDay())
  );
}

export function reconcileCronJobs(ctx: SimContext): void {
  const source = { component: "cronjob-controller" };
  for (const cj of ctx.store.list(ctx.rt.cronjobs)) {
    const ns = cj.metadata.namespace ?? "";
    const name = cj.metadata.name ?? "";
    const spec = rec(cj.spec);
    const status = rec(cj.status);
    const jobs = ctx.store
      .list(ctx.rt.jobs, { namespace: ns })
      .filter((j) => j.metadata.ownerReferences?.some((o) => o.uid === cj.metadata.uid))
      .sort((a, b) =>
        String(a.metadata.name).localeCompare(String(b.metadata.name), undefined, { numeric: true }),
      );
    const next: Obj = { ...status };
    // The most recent due minute not yet run, looking back at most one tick's worth of minutes.
    const minute = Math.floor(ctx.nowMs / 60_000) * 60_000;
    const last = status.lastScheduleTime
      ? Date.parse(String(status.lastScheduleTime))
      : Date.parse(String(cj.metadata.creationTimestamp));
    let due: number | undefined;
    for (let t = minute; t > last && t > minute - Math.max(60_000, ctx.dtMs); t -= 60_000) {
      if (cronMatches(String(spec.schedule ?? ""), t)) {
        due = t;
        break;
      }
    }
    const running = jobs.filter((j) => !finished(j));
    if (due !== undefined && !spec.suspend) {
      const policy = String(spec.concurrencyPolicy ?? "Allow");
      if (policy === "Replace")
        for (const j of running)
          ctx.store.delete(ctx.rt.jobs, ns, j.metadata.name ?? "", { propagationPolicy: "Background" });
      if (!(policy === "Forbid" && running.length)) {
        const jobName = `${name}-${Math.floor(due / 60_000)}`;
        if (!ctx.store.get(ctx.rt.jobs, ns, jobName)) {
          const tpl = rec(spec.jobTemplate);
          const job = ctx.store.create(ctx.rt.jobs, {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: {
              name: jobName,
              namespace: ns,
              labels: rec(rec(tpl.metadata).labels) as Record<string, string>,
              annotations: { "batch.kubernetes.io/cronjob-scheduled-timestamp": kubeTime(new Date(due)) },
              ownerReferences: [
                {
                  apiVersion: "batch/v1",
                  kind: "CronJob",
                  name,
                  uid: cj.metadata.uid ?? "",
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            spec: structuredClone(rec(tpl.spec)),
          });
          jobs.push(job);
          ctx.event(cj, "Normal", "SuccessfulCreate", `Created job ${jobName}`, source);
        }
      }
      next.lastScheduleTime = kubeTime(new Date(due));
    }
    const live = jobs.filter((j) => ctx.store.get(ctx.rt.jobs, ns, j.metadata.name ?? ""));
    const active = live
      .filter((j) => !finished(j))
      .map((j) => ({
        kind: "Job",
        namespace: ns,
        name: j.metadata.name,
        uid: j.metadata.uid,
        apiVersion: "batch/v1",
        resourceVersion: j.metadata.resourceVersion,
      }));
    if (active.length) next.active = active;
    else delete next.active;
    const succeeded = live.filter((j) => finished(j) === "Complete");
    const failed = live.filter((j) => finished(j) === "Failed");
    const lastOk = succeeded[succeeded.length - 1];
    if (lastOk) next.lastSuccessfulTime = rec(lastOk.status).completionTime;
    const keep = (list: KubeObject[], limit: number) => {
      for (const j of list.slice(0, Math.max(0, list.length - limit))) {
        ctx.store.delete(ctx.rt.jobs, ns, j.metadata.name ?? "", { propagationPolicy: "Background" });
        ctx.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${j.metadata.name}`, source);
      }
    };
    keep(
      succeeded,
      typeof spec.successfulJobsHistoryLimit === "number" ? spec.successfulJobsHistoryLimit : 3,
    );
    keep(failed, typeof spec.failedJobsHistoryLimit === "number" ? spec.failedJobsHistoryLimit : 1);
    ctx.store.update(ctx.rt.cronjobs, { ...cj, status: next }, { subresource: "status" });
  }
}
