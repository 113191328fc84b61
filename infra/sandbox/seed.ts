// Turns a scenario into API objects: Karpenter CRDs, an EC2NodeClass and NodePools, a default
// StorageClass, namespaces, and for each compact workload its ConfigMap/Secret, controller object,
// Service, HPA and PodDisruptionBudget — all written through the store like any client would.
import type { ObjectStore } from "./apiserver/store.js";
import type { KubeObject } from "./apiserver/types.js";
import type { DemandProfile } from "./demand.js";
import type { NodePoolSpec, Scenario, WorkloadSpec } from "./scenario.js";

type Obj = Record<string, unknown>;

function crd(
  group: string,
  kind: string,
  plural: string,
  scope: "Cluster" | "Namespaced",
  columns: Obj[] = [],
  version = "v1",
  shortNames: string[] = [],
): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: {
        plural,
        singular: kind.toLowerCase(),
        kind,
        listKind: `${kind}List`,
        ...(shortNames.length ? { shortNames } : {}),
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          subresources: { status: {} },
          ...(columns.length ? { additionalPrinterColumns: columns } : {}),
        },
      ],
    },
  };
}

export const karpenterCrds: KubeObject[] = [
  crd("karpenter.sh", "NodePool", "nodepools", "Cluster", [
    { name: "NodeClass", type: "string", jsonPath: ".spec.template.spec.nodeClassRef.name" },
    { name: "Nodes", type: "string", jsonPath: ".status.resources.nodes" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ]),
  crd("karpenter.sh", "NodeClaim", "nodeclaims", "Cluster", [
    { name: "Type", type: "string", jsonPath: ".metadata.labels.node\\.kubernetes\\.io/instance-type" },
    { name: "Capacity", type: "string", jsonPath: ".metadata.labels.karpenter\\.sh/capacity-type" },
    { name: "Zone", type: "string", jsonPath: ".metadata.labels.topology\\.kubernetes\\.io/zone" },
    { name: "Node", type: "string", jsonPath: ".status.nodeName" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ]),
  crd("karpenter.k8s.aws", "EC2NodeClass", "ec2nodeclasses", "Cluster"),
];

/** Cilium's policy CRDs, so NetworkPolicy's Cilium cousins can be applied (and enforced: ../flows/). */
export const ciliumCrds: KubeObject[] = [
  crd("cilium.io", "CiliumNetworkPolicy", "ciliumnetworkpolicies", "Namespaced", [], "v2", ["cnp"]),
  crd(
    "cilium.io",
    "CiliumClusterwideNetworkPolicy",
    "ciliumclusterwidenetworkpolicies",
    "Cluster",
    [],
    "v2",
    ["ccnp"],
  ),
];

export function nodePoolObject(p: NodePoolSpec): KubeObject {
  const requirements: Obj[] = [
    { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
    { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
  ];
  if (p.instanceTypes)
    requirements.push({ key: "node.kubernetes.io/instance-type", operator: "In", values: p.instanceTypes });
  requirements.push({
    key: "karpenter.sh/capacity-type",
    operator: "In",
    values: p.capacityTypes ?? ["on-demand"],
  });
  if (p.zones) requirements.push({ key: "topology.kubernetes.io/zone", operator: "In", values: p.zones });
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: p.name },
    spec: {
      template: {
        metadata: { labels: p.labels ?? {} },
        spec: {
          requirements,
          ...(p.taints?.length ? { taints: p.taints } : {}),
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "default" },
          expireAfter: "720h",
        },
      },
      ...(p.replicas !== undefined
        ? { replicas: p.replicas }
        : {
            disruption: {
              consolidationPolicy: "WhenEmptyOrUnderutilized",
              consolidateAfter: p.consolidateAfter ?? "1m",
            },
          }),
      ...(p.limits ? { limits: p.limits } : {}),
      ...(p.weight !== undefined ? { weight: p.weight } : {}),
    },
  };
}

function podTemplate(w: WorkloadSpec): Obj {
  const labels = { app: w.name, "app.kubernetes.io/name": w.name };
  const env: Obj[] = [];
  if (w.config)
    env.push({
      name: "LOG_LEVEL",
      valueFrom: { configMapKeyRef: { name: `${w.name}-config`, key: "LOG_LEVEL" } },
    });
  if (w.secret)
    env.push({
      name: "DB_PASSWORD",
      valueFrom: { secretKeyRef: { name: `${w.name}-secret`, key: "password" } },
    });
  const container: Obj = {
    name: w.name,
    image: w.image,
    ...(w.command ? { command: w.command } : {}),
    ...(w.port ? { ports: [{ name: "http", containerPort: w.port, protocol: "TCP" }] } : {}),
    ...(env.length ? { env } : {}),
    resources: {
      requests: { cpu: String(w.cpu ?? "100m"), memory: String(w.memory ?? "128Mi") },
      limits: { memory: String(w.memoryLimit ?? w.memory ?? "256Mi") },
    },
    ...(w.readinessProbe && w.port
      ? {
          readinessProbe: {
            httpGet: { path: "/healthz", port: w.port },
            periodSeconds: 10,
            failureThreshold: 3,
          },
        }
      : {}),
  };
  return {
    metadata: { labels },
    spec: {
      containers: [container],
      ...(w.nodeSelector ? { nodeSelector: w.nodeSelector } : {}),
      ...(w.tolerations ? { tolerations: w.tolerations } : {}),
    },
  };
}

export function workloadObjects(w: WorkloadSpec): KubeObject[] {
  const meta = { name: w.name, namespace: w.namespace, labels: { app: w.name } };
  const out: KubeObject[] = [];
  if (w.config)
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `${w.name}-config`, namespace: w.namespace },
      data: { LOG_LEVEL: "info" },
    });
  if (w.secret)
    out.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${w.name}-secret`, namespace: w.namespace },
      type: "Opaque",
      data: { password: Buffer.from(`${w.name}-pw`).toString("base64") },
    });
  const template = podTemplate(w);
  const selector = { matchLabels: { app: w.name } };
  switch (w.kind) {
    case "Deployment":
      out.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta,
        spec: { replicas: w.replicas ?? 2, selector, template },
      });
      break;
    case "StatefulSet":
      out.push({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta,
        spec: {
          replicas: w.replicas ?? 1,
          serviceName: w.name,
          selector,
          template,
          ...(w.storage
            ? {
                volumeClaimTemplates: [
                  {
                    metadata: { name: "data" },
                    spec: {
                      accessModes: ["ReadWriteOnce"],
                      storageClassName: "gp3",
                      resources: { requests: { storage: w.storage } },
                    },
                  },
                ],
              }
            : {}),
        },
      });
      break;
    case "DaemonSet":
      out.push({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: meta, spec: { selector, template } });
      break;
    case "CronJob": {
      const spec = template.spec as Obj;
      out.push({
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: meta,
        spec: {
          schedule: w.schedule ?? "*/15 * * * *",
          concurrencyPolicy: "Forbid",
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              template: { ...template, spec: { ...spec, restartPolicy: "OnFailure" } },
            },
          },
        },
      });
      break;
    }
  }
  if (w.port && w.service !== false && w.kind !== "CronJob") {
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: {
        selector: { app: w.name },
        ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
        ...(w.kind === "StatefulSet" ? { clusterIP: "None" } : {}),
      },
    });
  }
  if (w.hpa) {
    out.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: w.kind, name: w.name },
        minReplicas: w.hpa.min,
        maxReplicas: w.hpa.max,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: w.hpa.targetCPU ?? 70 },
            },
          },
        ],
      },
    });
  }
  if (w.pdb) {
    out.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta,
      spec: { minAvailable: w.pdb.minAvailable, selector },
    });
  }
  return out;
}

export function create(store: ObjectStore, obj: KubeObject): KubeObject {
  const rt = store.resource({ apiVersion: obj.apiVersion, kind: obj.kind });
  return store.create(rt, obj);
}

/** Seeds the scenario's cluster; returns the demand profiles keyed by "ns/Kind/name". */
export function seedCluster(store: ObjectStore, scenario: Scenario): Map<string, DemandProfile> {
  for (const c of karpenterCrds) create(store, c);
  const crdRt = store.resource("customresourcedefinitions.apiextensions.k8s.io");
  for (const c of ciliumCrds) if (!store.get(crdRt, undefined, c.metadata.name ?? "")) create(store, c);
  create(store, {
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name: "default" },
    spec: {
      amiSelectorTerms: [{ alias: "al2023@latest" }],
      role: "KarpenterNodeRole-sandbox",
      subnetSelectorTerms: [{ tags: { "karpenter.sh/discovery": "sandbox" } }],
      securityGroupSelectorTerms: [{ tags: { "karpenter.sh/discovery": "sandbox" } }],
    },
  });
  create(store, {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "ebs.csi.aws.com",
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
    parameters: { type: "gp3" },
  });
  const nsRt = store.resource("namespaces");
  const namespaces = new Set([...scenario.namespaces, ...scenario.workloads.map((w) => w.namespace)]);
  for (const ns of namespaces)
    if (!store.get(nsRt, undefined, ns))
      create(store, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  for (const p of scenario.nodePools) create(store, nodePoolObject(p));
  const profiles = new Map<string, DemandProfile>();
  for (const w of scenario.workloads) {
    for (const obj of workloadObjects(w)) create(store, obj);
    if (w.demand) profiles.set(`${w.namespace}/${w.kind}/${w.name}`, w.demand);
  }
  for (const raw of scenario.objects) create(store, raw as KubeObject);
  return profiles;
}
