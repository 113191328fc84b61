// Jobs: a Job that failed (deadline exceeded, backoff limit reached, pod failure policy), with the
// cause from its pods. A Job that succeeded after retries is healthy and stays quiet.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Condition } from "../objects.js";
import { condition, specOf, statusOf } from "../objects.js";
import { failingPodsOf } from "./workload-pods.js";

interface JobSpec {
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  suspend?: boolean;
}
interface JobStatus {
  conditions?: Condition[];
  failed?: number;
  succeeded?: number;
  active?: number;
}

export const jobAnalyzer: Analyzer = {
  kind: "Job",
  analyze(view) {
    return view.list("Job").flatMap((job) => {
      const spec = specOf<JobSpec>(job);
      const status = statusOf<JobStatus>(job);
      if (condition(status.conditions, "Complete")?.status === "True") return [];
      const failed = condition(status.conditions, "Failed");
      if (failed?.status !== "True") return [];
      const failing = failingPodsOf(view, view.podsOf(job));
      let cause: string;
      if (failed.reason === "DeadlineExceeded")
        cause = `job ran longer than its active deadline${spec.activeDeadlineSeconds !== undefined ? ` of ${spec.activeDeadlineSeconds}s` : ""} (activeDeadlineSeconds) and was stopped`;
      else if (failed.reason === "BackoffLimitExceeded")
        cause = `job failed ${status.failed ?? 0} times and reached its backoff limit${spec.backoffLimit !== undefined ? ` of ${spec.backoffLimit}` : ""}`;
      else cause = `job failed (${failed.reason ?? "Failed"})`;
      return [
        makeFinding(
          view,
          job,
          failed.reason ?? "JobFailed",
          `${cause}${failed.message ? `: ${failed.message.trim()}` : ""}${failing.length > 0 ? `; failing pods: ${failing.join("; ")}` : ""}`,
        ),
      ];
    });
  },
};
