// diagnose: the analyzers of alert-diagnosis over the live cluster, for a namespace, one object,
// or the object an incident's alert names — read now, through the cluster's own port.
import { z } from "zod";
import { diagnose } from "../../diagnosis/diagnose.js";
import { explain } from "../../diagnosis/explain.js";
import type { Finding } from "../../diagnosis/finding.js";
import { inScope, scopeOf, type AlertTarget } from "../../diagnosis/scope.js";
import { ProphetError } from "../../errors.js";
import { listCacheFor, viewFromCluster } from "../../kube/snapshot.js";
import { depsFor } from "../context.js";
import { readableIncident } from "./incidents.js";
import { clusterArg, defineTool } from "./tool.js";

const maxFindings = 40;

export const diagnoseTool = defineTool({
  name: "diagnose",
  description:
    "Runs Prophet's analyzers on the live cluster now: a whole namespace, one object (kind + name, with its owners, pods, Services, node and claims), or the object behind an incident's alert. Returns the findings with evidence and the most likely root cause.",
  input: z
    .strictObject({
      cluster: clusterArg,
      incidentId: z.string().min(1).max(100).optional().describe("diagnose what this incident's alert names"),
      namespace: z.string().min(1).max(253).optional(),
      kind: z
        .string()
        .regex(/^[A-Z][A-Za-z]+$/, "expected a Kubernetes kind such as Pod, Deployment or Node")
        .optional(),
      name: z.string().min(1).max(253).optional(),
    })
    .refine((a) => a.incidentId || a.namespace || (a.kind === "Node" && a.name), {
      message: "give incidentId, a namespace (with kind and name for one object), or kind Node with a name",
      path: ["namespace"],
    })
    .refine((a) => !a.kind === !a.name, { message: "kind and name go together", path: ["name"] }),
  async run(ctx, args) {
    let cluster = args.cluster;
    let target: AlertTarget | undefined;
    let startedFrom = "namespace";
    if (args.incidentId) {
      const incident = await readableIncident(ctx, args.incidentId, args.cluster);
      cluster = incident.cluster;
      target = incident.target;
      startedFrom = `incident ${incident.id} (${incident.alertname})`;
    } else if (args.kind && args.name) {
      target = { namespace: args.namespace, kind: args.kind, name: args.name };
      if (args.kind === "Node") target = { kind: "Node", name: args.name, node: args.name };
      startedFrom = `${args.kind} ${args.namespace ? `${args.namespace}/` : ""}${args.name}`;
    }
    const deps = depsFor(ctx, cluster ?? ctx.deps.cluster);
    if (!deps.kube)
      throw new ProphetError("invalid_config", `no Kubernetes API is configured for cluster ${deps.cluster}`);
    const namespace = target?.namespace ?? args.namespace;
    const view = await viewFromCluster(deps.kube, {
      ...(namespace && target?.kind !== "Node" ? { namespace } : {}),
      ...(target ? { target: { kind: target.kind, name: target.name } } : {}),
      cache: listCacheFor(deps.kube, deps.clock),
    });
    let findings: Finding[];
    let scope: { basis: string; objects: number; missing?: string } | undefined;
    if (target) {
      const s = scopeOf(view, target);
      findings = inScope(diagnose(view), s);
      scope = { basis: s.basis, objects: s.objects.size, ...(s.missing ? { missing: s.missing } : {}) };
    } else findings = diagnose(view, namespace ? { namespace } : {});
    const ex = explain(findings);
    return {
      cluster: deps.cluster,
      diagnosed: startedFrom,
      status: findings.length > 0 ? "ProblemDetected" : "OK",
      summary: ex.summary,
      rootCause: ex.rootCause ?? null,
      nextSteps: ex.nextSteps,
      ...(scope ? { scope } : {}),
      problems: findings.length,
      findings: findings.slice(0, maxFindings),
      ...(findings.length > maxFindings
        ? { more: `${findings.length - maxFindings} more findings; diagnose one object to see them` }
        : {}),
    };
  },
});
