// A schedule's input on Lambda ({schedule, cluster}, serverless.yml `input`) becomes a tick for
// that cluster; a bad cluster name is refused with the reason.
import { describe, expect, it } from "vitest";
import { eventFromEventBridge, tickFromScheduledInput } from "../../infra/aws/lambda.js";

const at = new Date("2026-11-22T10:15:42Z");

describe("Lambda schedule inputs", () => {
  it("{schedule, cluster} is a tick scoped to that cluster, its id naming both", () => {
    const tick = tickFromScheduledInput({ schedule: "slo-check", cluster: "shop-prod" }, at);
    expect(tick).toMatchObject({
      type: "io.prophet.schedule.tick",
      id: "slo-check@2026-11-22T10:15:00.000Z@shop-prod",
      cluster: "shop-prod",
      data: { schedule: "slo-check", scheduledTime: "2026-11-22T10:15:00.000Z" },
    });
  });

  it("{schedule} alone stays unscoped (the deployment's default cluster)", () => {
    const tick = tickFromScheduledInput({ schedule: "audit-verify" }, at);
    expect(tick.cluster).toBeUndefined();
    expect(tick.id).toBe("audit-verify@2026-11-22T10:15:00.000Z");
  });

  it("an invalid cluster name is refused, saying what a cluster name is", () => {
    expect(() => tickFromScheduledInput({ schedule: "slo-check", cluster: "Shop_Prod" }, at)).toThrow(
      /bad schedule input: cluster: expected a DNS label/,
    );
    expect(() => tickFromScheduledInput({ schedule: "slo-check", cluster: "x", extra: 1 }, at)).toThrow(
      /bad schedule input/,
    );
    expect(() => tickFromScheduledInput({ schedule: "" }, at)).toThrow(/schedule/);
  });

  it("an EventBridge scheduled event whose detail names a cluster is scoped the same way", () => {
    const tick = eventFromEventBridge(
      {
        version: "0",
        id: "e1",
        "detail-type": "Scheduled Event",
        source: "aws.scheduler",
        account: "123456789012",
        time: "2026-11-22T10:15:00Z",
        region: "eu-west-1",
        resources: ["arn:aws:scheduler:eu-west-1:123456789012:schedule/default/slo-check-shop-prod"],
        detail: { schedule: "slo-check", cluster: "shop-prod" },
      },
      at,
    );
    expect(tick).toMatchObject({ cluster: "shop-prod", data: { schedule: "slo-check" } });
    expect(() =>
      eventFromEventBridge(
        {
          version: "0",
          id: "e2",
          "detail-type": "Scheduled Event",
          source: "aws.events",
          account: "123456789012",
          time: "2026-11-22T10:15:00Z",
          region: "eu-west-1",
          resources: [],
          detail: { schedule: "slo-check", cluster: "-bad-" },
        },
        at,
      ),
    ).toThrow(/cluster: expected a DNS label/);
  });
});
