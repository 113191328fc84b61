import pino, { type DestinationStream } from "pino";
import { secretKeys, type Logger } from "../../shared/ports/log.js";

/** Structured JSON logs; values under secret-looking keys are censored at any depth up to 2. */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const paths = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const options = { level, base: { app: "prophet", ...bindings }, redact: { paths, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
