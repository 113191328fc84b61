// What the registry stores about a cluster: where to find it, never how to log in. A definition
// holds references only (a kubeconfig path and context, cloud coordinates); credentials are
// fetched when needed and kept in memory. The schemas are strict so a token pasted into the
// clusters file is refused rather than kept.
import { z } from "zod";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const ClusterNameSchema = z
  .string()
  .max(63, "at most 63 characters")
  .regex(
    DNS_LABEL,
    "expected a DNS label: lower-case letters, digits and '-', starting and ending alphanumeric",
  );
export type ClusterName = z.infer<typeof ClusterNameSchema>;

/** A DNS label made from a context or cloud cluster name (`arn:aws:eks:…/prod` → `prod`). */
export function clusterNameFrom(raw: string, prefix = ""): string {
  const base = raw.includes("/") ? raw.slice(raw.lastIndexOf("/") + 1) : raw;
  const label = `${prefix}${base}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return label || "cluster";
}

const common = {
  name: ClusterNameSchema,
  /** The API server URL as last seen (informational; credentials resolve it again). */
  server: z.url({ protocol: /^https?$/ }).optional(),
  /** The cluster's Prometheus HTTP API (metrics evidence, SLOs, forecasts), without credentials. */
  prometheus: z.url({ protocol: /^https?$/ }).optional(),
};

export const KubeconfigClusterSchema = z.strictObject({
  ...common,
  source: z.literal("kubeconfig"),
  kubeconfig: z.string().min(1),
  context: z.string().min(1),
});

export const InClusterSchema = z.strictObject({
  ...common,
  source: z.literal("in-cluster"),
});

export const EksClusterSchema = z.strictObject({
  ...common,
  source: z.literal("eks"),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "expected an AWS region like eu-west-1"),
  cluster: z.string().min(1).max(100),
  account: z
    .string()
    .regex(/^\d{12}$/, "expected a 12-digit AWS account id")
    .optional(),
});

export const AksClusterSchema = z.strictObject({
  ...common,
  source: z.literal("aks"),
  subscription: z.string().min(1),
  resourceGroup: z.string().min(1),
  cluster: z.string().min(1),
  location: z.string().min(1).optional(),
});

export const GkeClusterSchema = z.strictObject({
  ...common,
  source: z.literal("gke"),
  project: z.string().min(1),
  location: z.string().min(1),
  cluster: z.string().min(1),
});

export const ClusterDefinitionSchema = z.discriminatedUnion("source", [
  KubeconfigClusterSchema,
  InClusterSchema,
  EksClusterSchema,
  AksClusterSchema,
  GkeClusterSchema,
]);

export type ClusterDefinition = z.infer<typeof ClusterDefinitionSchema>;
export type ClusterSource = ClusterDefinition["source"];
export type KubeconfigCluster = z.infer<typeof KubeconfigClusterSchema>;
export type InCluster = z.infer<typeof InClusterSchema>;
export type EksCluster = z.infer<typeof EksClusterSchema>;
export type AksCluster = z.infer<typeof AksClusterSchema>;
export type GkeCluster = z.infer<typeof GkeClusterSchema>;

export const ClustersFileSchema = z
  .strictObject({
    version: z.literal(1),
    clusters: z.array(ClusterDefinitionSchema),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.clusters.forEach((c, i) => {
      if (seen.has(c.name))
        ctx.addIssue({
          code: "custom",
          path: ["clusters", i, "name"],
          message: `duplicate name "${c.name}"`,
        });
      seen.add(c.name);
    });
  });
export type ClustersFile = z.infer<typeof ClustersFileSchema>;

/** Where the cluster lives, for listings: cloud, region/location, account/subscription/project. */
export function placeOf(c: ClusterDefinition): { cloud?: string; region?: string; account?: string } {
  switch (c.source) {
    case "eks":
      return { cloud: "aws", region: c.region, ...(c.account ? { account: c.account } : {}) };
    case "aks":
      return { cloud: "azure", ...(c.location ? { region: c.location } : {}), account: c.subscription };
    case "gke":
      return { cloud: "gcp", region: c.location, account: c.project };
    default:
      return {};
  }
}

/** Two definitions name the same cluster the same way (the `server` seen is not identity). */
export function sameDefinition(a: ClusterDefinition, b: ClusterDefinition): boolean {
  const strip = ({ server: _s, ...rest }: ClusterDefinition) => rest;
  return JSON.stringify(sortKeys(strip(a))) === JSON.stringify(sortKeys(strip(b)));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y)));
}
