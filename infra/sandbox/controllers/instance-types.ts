// A small EC2-like instance catalog for the Karpenter model, with the allocatable a kubelet reports
// after kube-reserved and eviction thresholds (EKS's formulas, max 110 pods).
export interface InstanceType {
  name: string;
  family: string;
  cpu: number;
  memoryGi: number;
  /** On-demand USD per hour; spot is priced at 35 %. */
  price: number;
  gpu?: number;
}

export const instanceTypes: InstanceType[] = [
  { name: "m5.large", family: "m5", cpu: 2, memoryGi: 8, price: 0.096 },
  { name: "m5.xlarge", family: "m5", cpu: 4, memoryGi: 16, price: 0.192 },
  { name: "m5.2xlarge", family: "m5", cpu: 8, memoryGi: 32, price: 0.384 },
  { name: "m5.4xlarge", family: "m5", cpu: 16, memoryGi: 64, price: 0.768 },
  { name: "c5.xlarge", family: "c5", cpu: 4, memoryGi: 8, price: 0.17 },
  { name: "c5.2xlarge", family: "c5", cpu: 8, memoryGi: 16, price: 0.34 },
  { name: "r5.xlarge", family: "r5", cpu: 4, memoryGi: 32, price: 0.252 },
  { name: "r5.2xlarge", family: "r5", cpu: 8, memoryGi: 64, price: 0.504 },
  { name: "g5.xlarge", family: "g5", cpu: 4, memoryGi: 16, price: 1.006, gpu: 1 },
  { name: "g5.2xlarge", family: "g5", cpu: 8, memoryGi: 32, price: 1.212, gpu: 1 },
];

export const MAX_PODS = 110;

/** kube-reserved CPU as EKS computes it: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % beyond. */
export function allocatableMilliCpu(cores: number): number {
  let reserved = 60;
  if (cores > 1) reserved += 10;
  if (cores > 2) reserved += 5 * Math.min(2, cores - 2);
  if (cores > 4) reserved += 2.5 * (cores - 4);
  return cores * 1000 - Math.round(reserved);
}

/** Memory minus kube-reserved (255Mi + 11Mi per pod) and the 100Mi hard eviction threshold. */
export function allocatableMemoryMi(memoryGi: number): number {
  return memoryGi * 1024 - (255 + 11 * MAX_PODS) - 100;
}

export function instanceType(name: string): InstanceType | undefined {
  return instanceTypes.find((t) => t.name === name);
}

export function instanceLabels(t: InstanceType): Record<string, string> {
  return {
    "node.kubernetes.io/instance-type": t.name,
    "karpenter.k8s.aws/instance-family": t.family,
    "karpenter.k8s.aws/instance-cpu": String(t.cpu),
    "karpenter.k8s.aws/instance-memory": String(t.memoryGi * 1024),
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/os": "linux",
    ...(t.gpu ? { "karpenter.k8s.aws/instance-gpu-count": String(t.gpu) } : {}),
  };
}
