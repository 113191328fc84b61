// Google Cloud Functions (gen2), Cloud Run and Knative: one HTTP target of the Functions Framework.
// It takes Alertmanager webhooks, CloudEvents in binary or structured mode (Knative Broker
// deliveries, Eventarc), and Eventarc's Pub/Sub messagePublished wrapping Prophet's own events.
import type { Request, Response } from "@google-cloud/functions-framework";
import type { ProphetFunction } from "../../shared/function.js";
import { handleHttpRequest, singleFunctionRoute } from "../runtime/http.js";
import { functionRuntime, type AdapterOptions } from "../runtime/single.js";

export type HttpTarget = (req: Request, res: Response) => Promise<void>;

export function toFunctionsFrameworkTarget(fn: ProphetFunction, opts: AdapterOptions = {}): HttpTarget {
  const runtime = functionRuntime(fn, opts);
  const route = singleFunctionRoute(fn);
  return async (req, res) => {
    const ctx = await runtime.context();
    const body = req.rawBody
      ? new Uint8Array(req.rawBody)
      : typeof req.body === "string"
        ? req.body
        : JSON.stringify(req.body ?? "");
    const reply = await handleHttpRequest(
      { method: req.method, path: req.path, headers: req.headers, body },
      route,
      ctx,
    );
    res.status(reply.status).set(reply.headers).send(reply.body);
  };
}

/** Registers the target under the function's name (FUNCTION_TARGET in the container). */
export async function registerFunctionsFramework(
  fn: ProphetFunction,
  opts: AdapterOptions = {},
): Promise<void> {
  const ff = await import("@google-cloud/functions-framework");
  ff.http(fn.name, toFunctionsFrameworkTarget(fn, opts));
}
