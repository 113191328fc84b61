// `prophet anomalies`: scores every `<category>/<file>.csv` (header timestamp,value) under --input
// with the streaming detector and writes `<output>/<category>/prophet_<file>.csv` with an
// anomaly_score column, the layout NAB's scorer reads.

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { scoreSeries } from "../../../shared/anomaly/detector.js";
import { formatResultCsv, parseTimestampValueCsv } from "../../../shared/anomaly/nab-format.js";
import { describeIssues, issuesFromZod, ProphetError } from "../../../shared/errors.js";

const OptionsSchema = z.object({ input: z.string().min(1), output: z.string().min(1) });

export function register(program: Command): void {
  program
    .command("anomalies")
    .description("score <category>/<file>.csv series with the streaming anomaly detector")
    .requiredOption("--input <dir>", "directory of <category>/<file>.csv files with header timestamp,value")
    .requiredOption("--output <dir>", "where to write <category>/prophet_<file>.csv")
    .action((raw: unknown) => {
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) {
        fail(
          new ProphetError("bad_request", `anomalies: ${describeIssues(issuesFromZod(parsed.error.issues))}`),
        );
        return;
      }
      try {
        const count = scoreDirectory(parsed.data.input, parsed.data.output);
        console.error(`anomalies: scored ${count} files -> ${parsed.data.output}`);
      } catch (err) {
        fail(err);
      }
    });
}

export function scoreDirectory(input: string, output: string): number {
  let count = 0;
  for (const category of readdirSync(input).sort()) {
    const dir = join(input, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".csv"))
      .sort()) {
      const parsed = parseTimestampValueCsv(readFileSync(join(dir, file), "utf8"));
      if (!parsed.ok) throw new ProphetError("invalid_data", `${category}/${file}: ${parsed.error.message}`);
      const scores = scoreSeries(parsed.value.timestamps, parsed.value.values);
      mkdirSync(join(output, category), { recursive: true });
      writeFileSync(join(output, category, `prophet_${file}`), formatResultCsv(parsed.value, scores));
      count++;
    }
  }
  return count;
}

function fail(err: unknown): void {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
