// incident-notify on remediation events, against loopback endpoints that answer like Slack's
// incoming webhook and a JSON webhook receiver. Specifies: a proposal is announced with its
// approval link (a Review button) and why a human must decide; executed, failed and meaningful
// blocks are announced once per remediation and status; routine blocks (cooldown, duplicate in
// progress, no action) are not; a redelivery sends nothing; the link's token never reaches a log
// line or an audit row.
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { incidentNotify } from "../../functions/incident-notify/index.js";
import { createLogger } from "../../infra/runtime/logger.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import type { RemediationEventData } from "../../shared/events/schemas/remediation.js";
import type { Deps } from "../../shared/function.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { slackNotifier, type SlackMessage } from "../../shared/notify/slack.js";
import { webhookNotifier, type WebhookBody } from "../../shared/notify/webhook.js";
import type { Logger } from "../../shared/ports/log.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import { slackAnswer, startEndpoint, type FakeEndpoint } from "./fake-endpoint.js";

const token = "q2b0m8y3V4wWm1V1bC6W6h5m2x7b3kQm0y9cQ1l3dZ8";

let store: Store;
let cleanup: () => Promise<void>;
let slack: FakeEndpoint;
let hook: FakeEndpoint;
let lines: string[];
let seq = 0;

beforeAll(async () => {
  ({ store, cleanup } = await freshPgliteStore());
});
afterAll(async () => cleanup());
beforeEach(async () => {
  slack = await startEndpoint(slackAnswer("ok"));
  hook = await startEndpoint({ status: 204, contentType: "text/plain", body: "" }, "/hooks/prophet");
  lines = [];
});
afterEach(async () => {
  await slack.close();
  await hook.close();
});

function deps(): Deps {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  const log = createLogger("debug", {}, destination) as Logger;
  return { ...testDeps(store), log, notify: [slackNotifier(slack.url), webhookNotifier(hook.url)] };
}

const notify = (e: ProphetEvent) =>
  invokeFunction(incidentNotify, e, { deps: deps(), sink: new CollectingSink() });

/**
 * A fresh incident (through alert-intake) and a remediation id of its own. Each alert is about a
 * workload of its own: alerts about one workload are grouped into one incident (docs/decisions/0009).
 */
async function openIncident(): Promise<{ incidentId: string; remediationId: string }> {
  const n = ++seq;
  const firing = parseEnvelope(sample("catalog/io.prophet.alert.firing.json")) as ProphetEvent<{
    fingerprint: string;
    labels: Record<string, string>;
  }>;
  const out = await invokeFunction(
    alertIntake,
    {
      ...firing,
      id: `${firing.id}-remnotify-${n}`,
      data: {
        ...firing.data,
        fingerprint: `${firing.data.fingerprint}r${n}`,
        labels: { ...firing.data.labels, pod: `cart-${n}-7d9f8b6c5-x2kqp` },
      },
    },
    { deps: testDeps(store), sink: new CollectingSink() },
  );
  const opened = out.emitted[0] as ProphetEvent<IncidentEventData>;
  return { incidentId: opened.data.incidentId, remediationId: `rem-notify-${n}` };
}

type Status = "proposed" | "executed" | "failed" | "blocked";

function remediationEvent(
  status: Status,
  ids: { incidentId: string; remediationId: string },
  opts: { id?: string; reason?: string | null } = {},
): ProphetEvent<RemediationEventData> {
  const e = parseEnvelope(
    sample(`catalog/io.prophet.remediation.${status}.json`),
  ) as ProphetEvent<RemediationEventData>;
  return {
    ...e,
    id: opts.id ?? `${ids.remediationId}-${status}`,
    data: {
      ...e.data,
      ...ids,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    },
  };
}

async function sentRows(incidentId: string) {
  const { rows } = await store.query<{ phase: string; channel: string; remediation_id: string }>(
    `SELECT phase, channel, remediation_id FROM notifications_sent WHERE incident_id = $1
     ORDER BY phase, channel`,
    [incidentId],
  );
  return rows;
}

async function auditRows(incidentId: string) {
  const { rows } = await store.query<{ action: string; details: Record<string, unknown> }>(
    `SELECT action, details FROM audit_log
      WHERE actor = 'function:incident-notify' AND details->>'incidentId' = $1 ORDER BY seq`,
    [incidentId],
  );
  return rows;
}

const blockTypes = (m: SlackMessage) => m.blocks.map((b) => b.type);
const textOf = (b: unknown) => (b as { text: { text: string } }).text.text;

describe("incident-notify on remediations", () => {
  it("announces a proposal with the approval link as a Review button and the reasons", async () => {
    const ids = await openIncident();
    const event = remediationEvent("proposed", ids);
    const url = event.data.approval!.url!;
    expect(url).toContain(token);
    expect(await notify(event)).toEqual({ status: "handled", emitted: [] });

    expect(slack.bodies).toHaveLength(1);
    const msg = slack.bodies[0] as SlackMessage;
    expect(blockTypes(msg)).toEqual(["header", "section", "section", "section", "actions", "context"]);
    expect(msg.blocks[0]).toEqual({
      type: "header",
      text: {
        type: "plain_text",
        text: "🛠️ APPROVAL NEEDED: increase_resources on Deployment shop/cart",
        emoji: true,
      },
    });
    expect(JSON.stringify(msg.blocks[1])).toContain("KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp");
    expect(JSON.stringify(msg.blocks[1])).toContain("*Status*\\nPROPOSED");
    expect(textOf(msg.blocks[2])).toContain("*Root cause:* Pod shop/cart-7d9f8b6c5-x2kqp");
    const action = textOf(msg.blocks[3]);
    expect(action).toContain("*Action:* `increase_resources` on Deployment shop/cart");
    expect(action).toContain(event.data.detail);
    expect(action).toContain("*Why approval:* policy prophet-system/cluster-wide is human-in-loop");
    expect(action).toContain("expires at 2026-11-22T10:14:05.200Z");
    expect(msg.blocks[4]).toEqual({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Review", emoji: false },
          url,
          style: "primary",
          action_id: "prophet_review",
        },
      ],
    });
    expect(JSON.stringify(msg.blocks[5])).toContain(`remediation \`${ids.remediationId}\` · proposed`);
    expect(msg.text).toContain(`<${url}|approve or reject>`);

    const body = hook.bodies[0] as WebhookBody;
    expect(body).toMatchObject({
      version: "1",
      phase: "remediation",
      incident: { id: ids.incidentId, alertname: "KubePodCrashLooping", severity: "warning" },
      summary: event.data.rootCause,
    });
    expect(body.remediation).toEqual({
      id: ids.remediationId,
      action: "increase_resources",
      target: "Deployment shop/cart",
      status: "proposed",
      reason: null,
      detail: event.data.detail,
      reasons: ["policy prophet-system/cluster-wide is human-in-loop"],
      changes: [],
      approvalUrl: url,
      expiresAt: "2026-11-22T10:14:05.200Z",
    });

    expect(await sentRows(ids.incidentId)).toEqual([
      { phase: "remediation.proposed", channel: "slack", remediation_id: ids.remediationId },
      { phase: "remediation.proposed", channel: "webhook", remediation_id: ids.remediationId },
    ]);
    const audit = await auditRows(ids.incidentId);
    expect(audit.map((r) => r.action)).toEqual([
      "notification.remediation.proposed",
      "notification.remediation.proposed",
    ]);
    // The token goes to the channel, and nowhere else.
    expect(JSON.stringify(audit)).not.toContain(token);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(token);
  });

  it("sends nothing more on a redelivery or a second event about the same proposal", async () => {
    const ids = await openIncident();
    await notify(remediationEvent("proposed", ids));
    expect((await notify(remediationEvent("proposed", ids))).status).toBe("duplicate");
    expect(
      (await notify(remediationEvent("proposed", ids, { id: `${ids.remediationId}-again` }))).status,
    ).toBe("handled");
    expect(slack.bodies).toHaveLength(1);
    expect(hook.bodies).toHaveLength(1);
    expect(await auditRows(ids.incidentId)).toHaveLength(2);
  });

  it("announces the outcome of the same remediation once: executed with its changes, failed with the reason", async () => {
    const ids = await openIncident();
    await notify(remediationEvent("proposed", ids));
    await notify(remediationEvent("executed", ids));
    await notify(remediationEvent("executed", ids, { id: `${ids.remediationId}-executed-again` }));
    expect(slack.bodies).toHaveLength(2);
    const executed = slack.bodies[1] as SlackMessage;
    expect(textOf(executed.blocks[0])).toBe("✅ REMEDIATED: increase_resources on Deployment shop/cart");
    expect(blockTypes(executed)).not.toContain("actions");
    expect(textOf(executed.blocks[3])).toContain(
      "*Changes*\n• Deployment shop/cart container cart memory limit 256Mi -&gt; 384Mi",
    );
    expect((hook.bodies[1] as WebhookBody).remediation).toMatchObject({
      status: "executed",
      changes: [expect.any(String)],
    });

    const other = { ...ids, remediationId: `${ids.remediationId}-b` };
    await notify(remediationEvent("failed", other));
    const failed = slack.bodies[2] as SlackMessage;
    expect(textOf(failed.blocks[0])).toBe(
      "❌ REMEDIATION FAILED: increase_resources on Deployment shop/cart",
    );
    expect(JSON.stringify(failed.blocks[1])).toContain("*Status*\\nFAILED (verify_failed)");
    expect((await sentRows(ids.incidentId)).filter((r) => r.channel === "slack")).toEqual([
      { phase: "remediation.executed", channel: "slack", remediation_id: ids.remediationId },
      { phase: "remediation.failed", channel: "slack", remediation_id: other.remediationId },
      { phase: "remediation.proposed", channel: "slack", remediation_id: ids.remediationId },
    ]);
  });

  it("keeps routine blocks quiet and announces the others", async () => {
    const ids = await openIncident();
    for (const reason of ["cooldown", "duplicate_in_progress", "no_action"]) {
      const out = await notify(
        remediationEvent("blocked", ids, { id: `${ids.remediationId}-${reason}`, reason }),
      );
      expect(out).toEqual({ status: "handled", emitted: [] });
    }
    expect(slack.bodies).toHaveLength(0);
    expect(hook.bodies).toHaveLength(0);
    expect(await sentRows(ids.incidentId)).toEqual([]);

    await notify(
      remediationEvent("blocked", ids, {
        id: `${ids.remediationId}-failures`,
        reason: "blocked_after_failures",
      }),
    );
    expect(slack.bodies).toHaveLength(1);
    const msg = slack.bodies[0] as SlackMessage;
    expect(textOf(msg.blocks[0])).toBe("⛔ REMEDIATION BLOCKED: increase_resources on Deployment shop/cart");
    expect(JSON.stringify(msg.blocks[1])).toContain("*Status*\\nBLOCKED (blocked_after_failures)");
    expect((hook.bodies[0] as WebhookBody).remediation).toMatchObject({
      status: "blocked",
      reason: "blocked_after_failures",
    });
  });

  it("still refuses an unknown phase in notifications_sent (migration 5 relaxes the check, not drops it)", async () => {
    await expect(
      store.query(
        `INSERT INTO notifications_sent (incident_id, phase, channel, cluster, event_id, sent_at)
         VALUES ('inc-x', 'remediation.approved', 'slack', 'c', 'e', now())`,
      ),
    ).rejects.toThrow(/notifications_sent_phase_check/);
  });
});
