// The quarantine loop on real parts, driven by the sandbox's simulated clock: hubble-quarantine
// pulls the sandbox's Hubble flows every minute (JSONL over HTTP) and learns the service map;
// then a pod of shop/cart turns intruder (scan, egress to 185.220.101.47:4444, DNS tunnelling).
// The detection raises ProphetFlowAnomaly → incident → diagnosis → the planner's quarantine_pod,
// which the gate holds for approval; once approved the pod is quarantined under the Cilium deny
// policy and its flows are dropped while its probes still pass. Then a person releases it through
// the operator API (`prophet quarantine release`): a forged or replayed request changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HubbleFlow } from "../../infra/sandbox/index.js";
import { QUARANTINED } from "../../shared/remediation/actions/quarantine-pod.js";
import { listAudit } from "../../shared/store/audit.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { register as registerRemediationCommands } from "../../infra/cli/commands/remediation.js";
import { runCommand } from "../support/cli.js";
import { startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";

type Endpoint = { pod_name?: string; labels?: string[] };
type Flow = HubbleFlow & { source?: Endpoint; destination?: Endpoint };

let p: Pipeline;
const C2 = "185.220.101.47";

beforeAll(async () => {
  p = await startPipeline({ seed: 7, ticks: ["remediation-assess", "hubble-quarantine"] });
  p.host.deps.flows = {
    flowsUrl: `${p.sb.url}/sandbox/flows`,
    learningMs: 20 * 60_000,
    quarantine: "propose",
    quarantineScore: 0.8,
  };
}, 60_000);
afterAll(async () => {
  await p?.close();
});

const detections = async () =>
  (
    await p.host.deps.store.query<{ detector: string; identity: string; pod: string | null; score: number }>(
      "SELECT detector, identity, pod, score FROM flow_detections",
    )
  ).rows;
const proposal = async () =>
  (await p.remediations()).find((r) => r.action === "quarantine_pod" && r.status === "proposed");

describe("hubble-quarantine on the sandbox: learn, detect, propose, approve, contain", () => {
  let attacker = "";

  it("learns the normal traffic without proposing anything", { timeout: 240_000 }, async () => {
    await p.advance(30 * 60);
    const { rows } = await p.host.deps.store.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM flow_baselines",
    );
    expect(rows[0]!.n).toBe(1);
    expect((await detections()).filter((d) => d.score >= 0.8)).toEqual([]);
    expect(await proposal()).toBeUndefined();
  });

  it("catches the intruder and holds its quarantine for approval", { timeout: 240_000 }, async () => {
    p.sb.inject({ kind: "network-intrusion", target: "shop/cart" });
    const took = await p.advanceUntil(600, async () => (await proposal()) !== undefined);
    expect(took, "quarantine proposed").toBeDefined();
    const found = await detections();
    expect(found.map((d) => d.detector)).toContain("new-egress");
    expect(found.every((d) => d.identity === "shop/cart" || d.score < 0.8)).toBe(true);
    const rem = (await proposal())!;
    expect(rem.target).toMatchObject({ kind: "Pod", namespace: "shop" });
    attacker = rem.target?.name ?? "";
    expect(attacker).not.toBe("");
    const incidents = await listIncidents(p.host.deps.store, {});
    expect(incidents.map((i) => i.alertname)).toContain("ProphetFlowAnomaly");
    const audit = await listAudit(p.host.deps.store, { limit: 1000 });
    expect(audit.some((r) => r.action === "flow.anomaly")).toBe(true);
    // Not applied before a human says so.
    const pod = await p.host.deps.kube!.get("Pod", "shop", attacker);
    expect(pod?.metadata.labels?.[QUARANTINED]).toBeUndefined();

    const res = await fetch(`${p.host.url}/api/approvals/${rem.id}/approve`, {
      method: "POST",
      body: JSON.stringify({ actor: "cli:secops" }),
    });
    expect(res.status).toBe(200);
  });

  it(
    "contains it: labelled, executed, its traffic dropped, its probes kept",
    { timeout: 240_000 },
    async () => {
      const took = await p.advanceUntil(120, async () => {
        const pod = await p.host.deps.kube!.get("Pod", "shop", attacker);
        return pod?.metadata.labels?.[QUARANTINED] === "true";
      });
      expect(took, "pod quarantined").toBeDefined();
      const executed = (await p.remediations()).find((r) => r.action === "quarantine_pod");
      expect(executed?.status).toBe("executed");

      // The flows of the next two minutes, once the policy has been seen by the datapath.
      await p.advance(30);
      const seen: Flow[] = [];
      const stop = p.sb.flows.subscribe((line) => seen.push(line.flow as Flow));
      try {
        await p.advance(120);
      } finally {
        stop();
      }
      const after = seen.filter(
        (f) => f.source?.pod_name === attacker || f.destination?.pod_name === attacker,
      );
      expect(after.length).toBeGreaterThan(0);
      const fromNode = (f: Flow) => f.source?.labels?.includes("reserved:host") === true;
      const dns = (f: Flow) => f.l4?.UDP?.destination_port === 53 || f.l4?.UDP?.source_port === 53;
      const cut = after.filter(
        (f) => !fromNode(f) && !dns(f) && !(f.destination?.labels ?? []).includes("reserved:host"),
      );
      expect(cut.length).toBeGreaterThan(0);
      expect(cut.every((f) => f.verdict === "DROPPED")).toBe(true);
      expect(after.some((f) => f.IP?.destination === C2 && f.verdict === "DROPPED")).toBe(true);
      const probes = after.filter(fromNode);
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.every((f) => f.verdict === "FORWARDED")).toBe(true);
    },
  );

  it(
    "is released when a person asks, with a signed request, and says who and why",
    { timeout: 120_000 },
    async () => {
      const listed = await runCommand(registerRemediationCommands, [
        "quarantine",
        "list",
        "--url",
        p.host.url,
      ]);
      expect(listed.code).toBeUndefined();
      expect(listed.out).toContain(`shop/${attacker}`);

      // A request whose token was not made with the approval key: refused, nothing changes.
      const forged = await fetch(`${p.host.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({
          specversion: "1.0",
          id: "forged-release-1",
          source: "/attacker",
          type: "io.prophet.quarantine.release.requested",
          data: {
            namespace: "shop",
            pod: attacker,
            actor: "someone",
            reason: "let me out",
            expiresAt: new Date(p.sb.clock.now().getTime() + 60_000).toISOString(),
            token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          },
        }),
      });
      expect(forged.status).toBe(403);
      expect(((await forged.json()) as { message: string }).message).toContain("release token is not valid");
      const still = await p.host.deps.kube!.get("Pod", "shop", attacker);
      expect(still?.metadata.labels?.[QUARANTINED]).toBe("true");

      // No reason, no release.
      const noReason = await runCommand(registerRemediationCommands, [
        "quarantine",
        "release",
        `shop/${attacker}`,
        "--reason",
        " ",
        "--url",
        p.host.url,
      ]);
      expect(noReason.code).toBe(1);

      const released = await runCommand(registerRemediationCommands, [
        "quarantine",
        "release",
        `shop/${attacker}`,
        "--reason",
        "forensics done, image rebuilt",
        "--actor",
        "cli:secops",
        "--url",
        p.host.url,
      ]);
      expect(released.code).toBeUndefined();
      expect(released.out).toBe(`released shop/${attacker}\n`);
      const pod = await p.host.deps.kube!.get("Pod", "shop", attacker);
      expect(pod?.metadata.labels?.[QUARANTINED]).toBeUndefined();
      const audit = await listAudit(p.host.deps.store, { limit: 1000 });
      const entry = audit.find((a) => a.action === "quarantine.released");
      expect(entry?.actor).toBe("cli:secops");
      expect(entry?.subject).toBe(`shop/${attacker}`);
      expect(JSON.stringify(entry?.details)).toContain("forensics done, image rebuilt");

      // Its traffic flows again.
      await p.advance(30);
      const seen: Flow[] = [];
      const stop = p.sb.flows.subscribe((line) => seen.push(line.flow as Flow));
      try {
        await p.advance(60);
      } finally {
        stop();
      }
      const mine = seen.filter(
        (f) => f.source?.pod_name === attacker || f.destination?.pod_name === attacker,
      );
      expect(mine.some((f) => f.verdict === "FORWARDED" && f.source?.pod_name === attacker)).toBe(true);

      // Asking again: the pod is no longer quarantined, a clear conflict, no second release.
      const again = await runCommand(registerRemediationCommands, [
        "quarantine",
        "release",
        `shop/${attacker}`,
        "--reason",
        "again",
        "--url",
        p.host.url,
      ]);
      expect(again.code).toBe(1);
      const after = await listAudit(p.host.deps.store, { limit: 1000 });
      expect(after.filter((a) => a.action === "quarantine.released")).toHaveLength(1);
    },
  );
});
