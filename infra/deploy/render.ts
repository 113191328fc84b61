// `tsx infra/deploy/render.ts <target> --env e [--clusters-file f] [--secret VAR=<ref>]`: what a
// deploy adds to the committed, generated files, written after the build into dist/ (the plan
// runs it; plan.ts). The committed serverless.yml and manifests/knative stay the defaults.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { functions } from "../../functions/registry.js";
import type { ProphetFunction } from "../../shared/function.js";
import { namespace, packagedClustersFile, pingSources, serverlessConfig } from "../build/manifests.js";
import { overlays } from "../knative/kustomize.js";
import { parseArgs, withClusters } from "./deploy.js";
import { defaultPlanOptions, type PlanOptions, type Target } from "./plan.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const header = "# Written by infra/deploy/render.ts for one deploy — not committed.\n";
const yaml = (v: unknown) => header + stringify(v, { lineWidth: 0, version: "1.1" });

/** Where the clusters file is mounted in every Knative Service. */
export const knativeClustersPath = "/etc/prophet/clusters.json";

/**
 * A kustomization over the environment's overlay: the unscoped PingSources replaced by one per
 * schedule and cluster, and the clusters file mounted from the ConfigMap `prophet-clusters`.
 */
export function knativeDeployFiles(
  o: PlanOptions,
  dir: string,
  fns: readonly ProphetFunction[] = functions,
): Record<string, string> {
  const overlay = overlays.find((x) => x.name === o.env);
  if (!overlay) throw new Error(`no Knative overlay ${o.env}: ${overlays.map((x) => x.name).join(", ")}`);
  const clusters = o.clusters ?? [];
  const schedules = fns.flatMap((fn) => pingSources(fn, { clusters }));
  const unscoped = fns.flatMap((fn) => fn.schedules ?? []);
  const mount = [
    {
      op: "add",
      path: "/spec/template/spec/containers/0/env/-",
      value: { name: "PROPHET_CLUSTERS_FILE", value: knativeClustersPath },
    },
    {
      op: "add",
      path: "/spec/template/spec/containers/0/volumeMounts",
      value: [{ name: "prophet-clusters", mountPath: dirname(knativeClustersPath), readOnly: true }],
    },
    {
      op: "add",
      path: "/spec/template/spec/volumes",
      value: [{ name: "prophet-clusters", configMap: { name: "prophet-clusters" } }],
    },
  ];
  return {
    [join(dir, "schedules.yaml")]:
      header +
      schedules
        .map((d) => stringify({ ...d, metadata: { ...(d.metadata as object), namespace } }))
        .join("---\n"),
    [join(dir, "kustomization.yaml")]: yaml({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: overlay.namespace,
      resources: [relative(dir, join(root, "manifests/knative/overlays", overlay.name)), "schedules.yaml"],
      configMapGenerator: [{ name: "prophet-clusters", files: [`clusters.json`] }],
      // Knative Services are not Pods to kustomize: it would not rename a hashed ConfigMap there.
      generatorOptions: { disableNameSuffixHash: true },
      patches: [
        ...unscoped.map((s) => ({
          patch: stringify({
            $patch: "delete",
            apiVersion: "sources.knative.dev/v1",
            kind: "PingSource",
            metadata: { name: s.name, namespace: overlay.namespace },
          }),
        })),
        {
          target: {
            group: "serving.knative.dev",
            version: "v1",
            kind: "Service",
            labelSelector: "app.kubernetes.io/part-of=prophet",
          },
          patch: stringify(mount),
        },
      ],
    }),
  };
}

/** Writes the target's files for this deploy under `out` (default dist/); returns their paths. */
export function renderDeploy(target: Target, opts: Partial<PlanOptions>, out = join(root, "dist")): string[] {
  const o = { ...defaultPlanOptions, ...withClusters(opts) };
  const files: Record<string, string> = {};
  const copies: Array<[string, string]> = [];
  if (target === "aws") {
    const cfg = serverlessConfig(functions, {
      ...(o.clusters ? { clusters: o.clusters } : {}),
      ...(o.secrets ? { secrets: o.secrets } : {}),
      lambdaDir: "lambda",
    });
    files[join(out, "serverless.yml")] = yaml(cfg);
    if (o.clustersFile) copies.push([o.clustersFile, join(out, packagedClustersFile)]);
  } else if (target === "knative") {
    const dir = join(out, "deploy/knative", o.env);
    Object.assign(files, knativeDeployFiles(o, dir));
    if (o.clustersFile) copies.push([o.clustersFile, join(dir, "clusters.json")]);
  } else if (o.clustersFile) {
    for (const fn of functions) copies.push([o.clustersFile, join(out, target, fn.name, "clusters.json")]);
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  for (const [from, to] of copies) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  return [...Object.keys(files), ...copies.map(([, to]) => to)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { target, opts } = parseArgs(process.argv.slice(2));
    for (const f of renderDeploy(target, opts)) console.log(`wrote ${relative(root, f)}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
