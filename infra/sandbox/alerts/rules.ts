// The sandbox's alert rules, modelled on kube-prometheus (kubernetes-mixin) and written against the
// series the sandbox's telemetry writes. The sandbox evaluates them with short `for` durations so a
// fault shows up as an alert within minutes of simulated time; the PrometheusRule shipped for real
// clusters uses `clusterFor`, kube-prometheus' own durations, so it pages no sooner than they do.
// manifests/prometheus/prophet-sandbox-rules.yaml is generated from this list (prometheus-rule.ts).

export interface AlertRule {
  alert: string;
  expr: string;
  /** Prometheus duration, e.g. "5m"; "0s" fires on the first evaluation that matches. */
  for: string;
  /** The duration for real clusters (kube-prometheus'), when it differs from the sandbox's `for`. */
  clusterFor?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url?: string };
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: AlertRule[];
}

const KSM = 'job="kube-state-metrics"';
const runbook = (name: string) =>
  `https://runbooks.prometheus-operator.dev/runbooks/kubernetes/${name.toLowerCase()}`;

export const ruleGroups: RuleGroup[] = [
  {
    name: "kubernetes-apps",
    rules: [
      {
        alert: "KubePodCrashLooping",
        expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", ${KSM}}[5m]) >= 1`,
        for: "2m",
        clusterFor: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Pod is crash looping.",
          description:
            'Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff").',
          runbook_url: runbook("KubePodCrashLooping"),
        },
      },
      {
        alert: "KubePodNotReady",
        expr: `sum by (namespace, pod) (max by (namespace, pod) (kube_pod_status_phase{${KSM}, phase=~"Pending|Unknown|Failed"})) > 0`,
        for: "5m",
        clusterFor: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Pod has been in a non-ready state for more than 5 minutes.",
          description:
            "Pod {{ $labels.namespace }}/{{ $labels.pod }} has been in a non-ready state for longer than 5 minutes.",
          runbook_url: runbook("KubePodNotReady"),
        },
      },
      {
        alert: "KubeContainerOOMKilled",
        expr:
          `increase(kube_pod_container_status_restarts_total{${KSM}}[10m]) >= 1` +
          ` and ignoring (reason) min_over_time(kube_pod_container_status_last_terminated_reason{reason="OOMKilled", ${KSM}}[10m]) == 1`,
        for: "0s",
        labels: { severity: "warning" },
        annotations: {
          summary: "Container was OOMKilled.",
          description:
            "Container {{ $labels.container }} in pod {{ $labels.namespace }}/{{ $labels.pod }} has been OOMKilled {{ $value }} times in the last 10 minutes.",
        },
      },
      {
        alert: "KubeDeploymentReplicasMismatch",
        expr:
          `(kube_deployment_spec_replicas{${KSM}} > kube_deployment_status_replicas_available{${KSM}})` +
          ` and (changes(kube_deployment_status_replicas_updated{${KSM}}[10m]) == 0)`,
        for: "5m",
        clusterFor: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Deployment has not matched the expected number of replicas.",
          description:
            "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the expected number of replicas for longer than 5 minutes.",
          runbook_url: runbook("KubeDeploymentReplicasMismatch"),
        },
      },
      {
        alert: "KubeHpaMaxedOut",
        expr:
          `kube_horizontalpodautoscaler_status_current_replicas{${KSM}}` +
          ` == kube_horizontalpodautoscaler_spec_max_replicas{${KSM}}`,
        for: "5m",
        clusterFor: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "HPA is running at max replicas",
          description:
            "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been running at max replicas for longer than 5 minutes.",
          runbook_url: runbook("KubeHpaMaxedOut"),
        },
      },
    ],
  },
  {
    name: "kubernetes-system-kubelet",
    rules: [
      {
        alert: "KubeNodeNotReady",
        expr: `kube_node_status_condition{${KSM}, condition="Ready", status="true"} == 0`,
        for: "2m",
        clusterFor: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Node is not ready.",
          description: "{{ $labels.node }} has been unready for more than 2 minutes.",
          runbook_url: runbook("KubeNodeNotReady"),
        },
      },
    ],
  },
  {
    name: "kubernetes-storage",
    rules: [
      {
        alert: "KubePersistentVolumeFillingUp",
        expr:
          '(kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}) < 0.03' +
          ' and kubelet_volume_stats_used_bytes{job="kubelet"} > 0',
        for: "1m",
        labels: { severity: "critical" },
        annotations: {
          summary: "PersistentVolume is filling up.",
          description:
            "The PersistentVolume claimed by {{ $labels.persistentvolumeclaim }} in Namespace {{ $labels.namespace }} is only {{ $value | humanizePercentage }} free.",
          runbook_url: runbook("KubePersistentVolumeFillingUp"),
        },
      },
    ],
  },
  {
    name: "kubernetes-resources",
    rules: [
      {
        alert: "CPUThrottlingHigh",
        expr:
          'sum by (container, pod, namespace) (increase(container_cpu_cfs_throttled_periods_total{container!=""}[5m]))' +
          " / sum by (container, pod, namespace) (increase(container_cpu_cfs_periods_total[5m])) > (25 / 100)",
        for: "5m",
        clusterFor: "15m",
        labels: { severity: "info" },
        annotations: {
          summary: "Processes experience elevated CPU throttling.",
          description:
            "{{ $value | humanizePercentage }} throttling of CPU in namespace {{ $labels.namespace }} for container {{ $labels.container }} in pod {{ $labels.pod }}.",
          runbook_url: runbook("CPUThrottlingHigh"),
        },
      },
    ],
  },
  {
    name: "prophet-sandbox-http",
    rules: [
      {
        alert: "HTTPHighErrorRate",
        expr:
          'sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[5m]))' +
          " / sum by (namespace, service) (rate(http_requests_total[5m])) > 0.05",
        for: "2m",
        clusterFor: "10m",
        labels: { severity: "critical" },
        annotations: {
          summary: "Service answers more than 5% of requests with 5xx.",
          description:
            "{{ $labels.namespace }}/{{ $labels.service }} answers {{ $value | humanizePercentage }} of requests with 5xx.",
        },
      },
      {
        alert: "HTTPHighLatency",
        expr: "histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
        for: "5m",
        clusterFor: "10m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Service p99 latency is above 1s.",
          description: "{{ $labels.namespace }}/{{ $labels.service }} p99 latency is {{ $value }}s.",
        },
      },
    ],
  },
];

export const allRules = (): AlertRule[] => ruleGroups.flatMap((g) => g.rules);
