// The sandbox's workload metrics, read the way users read them: PromQL through the Prometheus HTTP API
// mounted under /prometheus on the sandbox's API server port (whose /api/v1 stays Kubernetes'), with
// the real cAdvisor, kube-state-metrics, Karpenter and application metric names. Manual clock only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ seed: 5 });
  sb.clock.advance(5 * 60_000);
});
afterAll(async () => {
  await sb?.close();
});

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promql(q: string): Promise<VectorSample[]> {
  const res = await fetch(`${sb.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: VectorSample[] } };
  expect(body.status, body.error).toBe("success");
  return body.data.result;
}
const num = (s: VectorSample | undefined) => Number(s?.value[1] ?? NaN);

describe("workload metrics over the Prometheus API", () => {
  it("serves Prometheus under /prometheus and keeps /api/v1 for Kubernetes", async () => {
    expect(sb.prometheusUrl).toBe(`${sb.url}/prometheus`);
    const kube = (await (await fetch(`${sb.url}/api/v1/namespaces`)).json()) as { kind: string };
    expect(kube.kind).toBe("NamespaceList");
    const exposition = await (await fetch(`${sb.prometheusUrl}/metrics`)).text();
    for (const name of [
      "# TYPE container_cpu_usage_seconds_total counter",
      "# TYPE kube_pod_status_phase gauge",
      "# TYPE http_request_duration_seconds histogram",
      "karpenter_pods_state{",
    ])
      expect(exposition).toContain(name);
    const labels = (await (await fetch(`${sb.prometheusUrl}/api/v1/labels`)).json()) as { data: string[] };
    expect(labels.data).toEqual(expect.arrayContaining(["namespace", "pod", "container", "phase", "code"]));
  });

  it("has request rates per namespace driven by demand", async () => {
    const rates = await promql("sum by (namespace) (rate(http_requests_total[5m]))");
    const shop = rates.find((r) => r.metric.namespace === "shop");
    expect(num(shop)).toBeGreaterThan(0);
    const errors = await promql(
      'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    );
    expect(num(errors[0])).toBeLessThan(0.01);
    const p99 = await promql(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="frontend"}[5m])))',
    );
    expect(num(p99[0])).toBeGreaterThan(0);
    expect(num(p99[0])).toBeLessThan(1);
  });

  it("has CPU usage, requests/limits and object state with kube-state-metrics' names", async () => {
    const cpu = await promql('sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop"}[5m]))');
    expect(cpu.length).toBeGreaterThan(3);
    expect(cpu.every((s) => num(s) > 0)).toBe(true);
    const running = await promql('sum(kube_pod_status_phase{phase="Running"})');
    expect(num(running[0])).toBeGreaterThan(5);
    const limit = await promql(
      'max(kube_pod_container_resource_limits{namespace="shop", container="cart", resource="memory"})',
    );
    expect(num(limit[0])).toBe(384 * 2 ** 20);
    const spec = await promql('kube_deployment_spec_replicas{namespace="shop", deployment="cart"}');
    expect(num(spec[0])).toBe(2);
    const available = await promql('kube_deployment_status_replicas_available{deployment="cart"}');
    expect(num(available[0])).toBe(2);
    const hpaMax = await promql(
      'kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler="frontend"}',
    );
    expect(num(hpaMax[0])).toBe(10);
    const ready = await promql('sum(kube_node_status_condition{condition="Ready", status="true"})');
    expect(num(ready[0])).toBeGreaterThanOrEqual(2);
    const created = await promql("sum(karpenter_nodes_created_total)");
    expect(num(created[0])).toBeGreaterThan(0);
  });

  it("restarts increase for a crash-looping pod, with CrashLoopBackOff as waiting reason", async () => {
    const fault = sb.inject({ kind: "crash-loop", target: "shop/cart" });
    sb.clock.advance(5 * 60_000);
    const restarts = await promql(
      'sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="shop", container="cart"}[5m]))',
    );
    expect(restarts.some((r) => num(r) >= 2)).toBe(true);
    const waiting = await promql(
      'max_over_time(kube_pod_container_status_waiting_reason{namespace="shop", reason="CrashLoopBackOff"}[5m])',
    );
    expect(waiting.map((w) => w.metric.container)).toContain("cart");
    // No ready cart pods: the Service sheds its traffic with 503.
    const shed = await promql('sum(rate(http_requests_total{service="cart", code="503"}[2m]))');
    expect(num(shed[0])).toBeGreaterThan(0);
    sb.revert(fault.id);
    sb.clock.advance(5 * 60_000);
  });

  it("a memory leak grows the working set to the limit, then OOMKilled", async () => {
    const fault = sb.inject({ kind: "memory-leak", target: "shop/cart" });
    sb.clock.advance(6 * 60_000);
    const peak = await promql(
      'max(max_over_time(container_memory_working_set_bytes{namespace="shop", container="cart"}[6m]))',
    );
    expect(num(peak[0])).toBeGreaterThan(300 * 2 ** 20);
    expect(num(peak[0])).toBeLessThanOrEqual(384 * 2 ** 20);
    const oom = await promql(
      'kube_pod_container_status_last_terminated_reason{container="cart", reason="OOMKilled"}',
    );
    expect(oom.length).toBeGreaterThan(0);
    sb.revert(fault.id);
  });

  it("a deleted pod's series go stale (they leave instant queries)", async () => {
    const pods = sb.api.store.list(sb.api.store.resource("pods"));
    const victim = pods.find(
      (p) => p.metadata.namespace === "shop" && p.metadata.name?.startsWith("catalog-"),
    )!;
    const name = victim.metadata.name!;
    expect(await promql(`kube_pod_status_phase{pod="${name}"}`)).toHaveLength(5);
    sb.api.store.delete(sb.api.store.resource("pods"), "shop", name);
    sb.clock.advance(60_000);
    expect(await promql(`kube_pod_status_phase{pod="${name}"}`)).toHaveLength(0);
  });
});
