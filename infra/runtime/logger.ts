import pino from "pino";
import { secretKeys, type Logger } from "../../shared/ports/log.js";

/** Structured JSON logs; values under secret-looking keys are censored at any depth up to 2. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const paths = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino({ level, base: { app: "prophet", ...bindings }, redact: { paths, censor: "[redacted]" } });
}
