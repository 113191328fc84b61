// Clusters from a kubeconfig file: one per context. The YAML is checked with zod first, so a
// broken file is named with the field at fault; @kubernetes/client-node then does the hard part
// (relative certificate paths, exec plugins, auth providers) when credentials are needed.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, issuesFromZod, ProphetError } from "../../errors.js";
import type { ClusterCredentials } from "../credentials.js";
import { clusterNameFrom, type KubeconfigCluster } from "../definition.js";

const ClusterEntry = z
  .object({
    server: z.url({ protocol: /^https?$/, error: "expected the API server's http(s) URL" }),
    "certificate-authority-data": z.string().optional(),
    "certificate-authority": z.string().optional(),
    "insecure-skip-tls-verify": z.boolean().optional(),
  })
  .loose();
const ContextEntry = z
  .object({ cluster: z.string().min(1), user: z.string().optional(), namespace: z.string().optional() })
  .loose();
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);

export const KubeconfigSchema = z
  .object({
    clusters: list(z.object({ name: z.string().min(1), cluster: ClusterEntry }).loose()),
    contexts: list(z.object({ name: z.string().min(1), context: ContextEntry }).loose()),
    users: list(z.object({ name: z.string().min(1), user: z.object({}).loose().nullish() }).loose()),
    "current-context": z.string().optional(),
  })
  .loose()
  .superRefine((kc, ctx) => {
    const clusters = new Set(kc.clusters.map((c) => c.name));
    kc.contexts.forEach((c, i) => {
      if (!clusters.has(c.context.cluster))
        ctx.addIssue({
          code: "custom",
          path: ["contexts", i, "context", "cluster"],
          message: `names cluster "${c.context.cluster}", which the file does not define`,
        });
    });
  });

export interface KubeconfigContext {
  context: string;
  cluster: string;
  server: string;
  namespace?: string;
}

/** Parses kubeconfig YAML; `where` names the file (or cloud response) in errors. */
export function parseKubeconfig(text: string, where: string): KubeconfigContext[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ProphetError("invalid_config", `${where} is not YAML: ${(err as Error).message}`);
  }
  const res = KubeconfigSchema.safeParse(doc ?? {});
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues);
    throw new ProphetError(
      "invalid_config",
      `${where} is not a valid kubeconfig: ${describeIssues(issues)}`,
      issues,
    );
  }
  const servers = new Map(res.data.clusters.map((c) => [c.name, c.cluster.server]));
  return res.data.contexts.map((c) => {
    const ctx = c.context;
    return {
      context: c.name,
      cluster: ctx.cluster,
      server: servers.get(ctx.cluster) ?? "",
      ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
    };
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ProphetError(
      e.code === "ENOENT" ? "not_found" : "invalid_config",
      `cannot read kubeconfig ${path}: ${e.message}`,
    );
  }
}

/** Every context of the file (or only `context`) as a cluster definition. */
export function kubeconfigClusters(
  path: string,
  opts: { context?: string; name?: string; namePrefix?: string } = {},
): KubeconfigCluster[] {
  const file = resolve(path);
  const contexts = parseKubeconfig(readText(file), file);
  const chosen = opts.context ? contexts.filter((c) => c.context === opts.context) : contexts;
  if (opts.context && chosen.length === 0)
    throw new ProphetError(
      "not_found",
      `kubeconfig ${file} has no context "${opts.context}"; it has: ${contexts.map((c) => c.context).join(", ") || "(none)"}`,
    );
  if (chosen.length === 0) throw new ProphetError("not_found", `kubeconfig ${file} defines no contexts`);
  if (opts.name && chosen.length > 1)
    throw new ProphetError("bad_request", "--name needs --context: the kubeconfig has several contexts");
  return chosen.map((c) => ({
    name: opts.name ?? clusterNameFrom(c.context, opts.namePrefix),
    source: "kubeconfig" as const,
    kubeconfig: file,
    context: c.context,
    server: c.server,
  }));
}

/** Credentials of one context, as client-node resolves them (exec plugins run on each request). */
export function kubeconfigCredentials(def: KubeconfigCluster): ClusterCredentials {
  const contexts = parseKubeconfig(readText(def.kubeconfig), def.kubeconfig);
  if (!contexts.some((c) => c.context === def.context))
    throw new ProphetError(
      "not_found",
      `kubeconfig ${def.kubeconfig} no longer has context "${def.context}"`,
    );
  const kc = new KubeConfig();
  kc.loadFromFile(def.kubeconfig);
  kc.setCurrentContext(def.context);
  return credentialsOfCurrentContext(kc);
}

export function credentialsOfCurrentContext(kc: KubeConfig): ClusterCredentials {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster) throw new ProphetError("invalid_config", "the kubeconfig names no cluster for its context");
  const { name: _c, ...c } = cluster;
  const { name: _u, ...u } = user ?? { name: "" };
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { cluster: c, user: u, ...(namespace ? { namespace } : {}) };
}
