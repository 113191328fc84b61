// Alerting in the sandbox: the rule evaluator and the Alertmanager-like notifier, run together
// after every scrape on the simulated clock.
import type { TimeSeriesStore } from "../metrics/index.js";
import { RuleEvaluator } from "./evaluator.js";
import { AlertNotifier, type NotifierOptions } from "./notifier.js";
import { allRules, type AlertRule } from "./rules.js";

export { RuleEvaluator, expandAnnotations, type AlertState } from "./evaluator.js";
export { AlertNotifier, type NotifierOptions, type WebhookAlert, type WebhookPayload } from "./notifier.js";
export { fingerprint } from "./fingerprint.js";
export { allRules, ruleGroups, type AlertRule, type RuleGroup } from "./rules.js";
export { prometheusRuleYaml } from "./prometheus-rule.js";

export class SandboxAlerting {
  readonly evaluator: RuleEvaluator;
  readonly notifier: AlertNotifier;

  constructor(
    store: TimeSeriesStore,
    opts: NotifierOptions & { rules?: AlertRule[]; externalLabels?: Record<string, string> } = {},
  ) {
    this.evaluator = new RuleEvaluator(store, opts.rules ?? allRules(), opts.externalLabels);
    this.notifier = new AlertNotifier(opts);
  }

  evaluate(nowMs: number): void {
    this.evaluator.evaluate(nowMs);
    this.notifier.update(nowMs, this.evaluator.list());
  }

  /** Where webhooks go from now on (undefined: nowhere; alerts are still evaluated). */
  setWebhook(url: string | undefined): void {
    this.notifier.url = url;
  }
}
