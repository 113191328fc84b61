// create_heap_dump on the sandbox: the ephemeral debug container runs the command shop/recommender
// declares, next to the pod's container (pods/ephemeralcontainers, as kubectl debug uses it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionContext } from "../../shared/remediation/action.js";
import {
  createHeapDump,
  debugContainerName,
  heapDumpCommandAnnotation,
} from "../../shared/remediation/actions/create-heap-dump.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

describe("create_heap_dump on the sandbox", () => {
  let s: ActionSandbox;
  let pod: { kind: string; namespace: string; name: string };
  beforeAll(async () => {
    s = await startActionSandbox();
    const p = (await s.port.list("Pod", "shop")).find((x) => x.metadata.name.startsWith("recommender-"));
    pod = { kind: "Pod", namespace: "shop", name: p!.metadata.name };
  });
  afterAll(async () => {
    await s?.close();
  });

  it("reports unsupported until the workload declares a command", async () => {
    expect(await createHeapDump.check(s.ctx, { ...pod, name: "nope" }, {})).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    const r = await createHeapDump.check(s.ctx, pod, {});
    expect(r).toMatchObject({ ok: false, failure: "unsupported" });
    expect(r.ok ? "" : r.detail).toContain(heapDumpCommandAnnotation);
    expect(createHeapDump.params.safeParse({ command: "rm -rf /" }).success).toBe(false);
  });

  it("adds an ephemeral container running the declared command and verifies its exit", async () => {
    await s.port.patch!("Deployment", "shop", "recommender", {
      metadata: {
        annotations: {
          [heapDumpCommandAnnotation]: "jcmd 1 GC.heap_dump /tmp/heap.hprof && sleep 5",
          "aiops.prophet.io/heap-dump-image": "eclipse-temurin:21-jdk",
        },
      },
    });
    expect(await createHeapDump.check(s.ctx, pod, { container: "sidecar" })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    const check = await createHeapDump.check(s.ctx, pod, {});
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain("Deployment/recommender");
    const result = await createHeapDump.execute(s.ctx, pod, {});
    const name = debugContainerName(s.ctx.remediationId);
    const live = await s.port.get("Pod", pod.namespace, pod.name);
    const ephemeral = (live?.spec as { ephemeralContainers: Record<string, unknown>[] }).ephemeralContainers;
    expect(ephemeral).toEqual([
      expect.objectContaining({
        name,
        image: "eclipse-temurin:21-jdk",
        targetContainerName: "recommender",
        command: ["sh", "-c", "jcmd 1 GC.heap_dump /tmp/heap.hprof && sleep 5"],
      }),
    ]);
    expect(live?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("create_heap_dump");
    expect(await createHeapDump.verify(s.ctx, pod, {}, result)).toMatchObject({ ok: false });
    s.advance(2);
    expect((await createHeapDump.verify(s.ctx, pod, {}, result)).detail).toContain("still running");
    s.advance(10);
    expect(await createHeapDump.verify(s.ctx, pod, {}, result)).toMatchObject({ ok: true });
    // Once per remediation; ephemeral containers cannot be removed, so there is no undo.
    expect(await createHeapDump.check(s.ctx, pod, {})).toMatchObject({ ok: false, failure: "precondition" });
    expect(createHeapDump.undo).toBeUndefined();
  });

  it("reports a failing command", async () => {
    await s.port.patch!("Deployment", "shop", "recommender", {
      metadata: {
        annotations: { [heapDumpCommandAnnotation]: "jcmd 1 GC.heap_dump /tmp/heap.hprof; exit 1" },
      },
    });
    const ctx: ActionContext = { ...s.ctx, remediationId: "rem-second" };
    const result = await createHeapDump.execute(ctx, pod, {});
    s.advance(10);
    const v = await createHeapDump.verify(ctx, pod, {}, result);
    expect(v).toMatchObject({ ok: false });
    expect(v.detail).toContain("exit 1");
  });
});
