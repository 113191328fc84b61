// The action registry: every action Prophet can take, by name. Planners, the LLM decider, the
// policy gate and `prophet actions list` all read this one list.
import type { ActionDefinition } from "../action.js";
import { scaleDeployment } from "./scale-deployment.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const actions: readonly ActionDefinition<any>[] = [scaleDeployment];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const byName = new Map<string, ActionDefinition<any>>(actions.map((a) => [a.name, a]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function actionNamed(name: string): ActionDefinition<any> | undefined {
  return byName.get(name);
}

export const actionNames: readonly string[] = actions.map((a) => a.name);
