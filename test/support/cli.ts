// Runs one CLI command in-process (its commander registration), capturing what it prints on
// stdout and console.error and the exit code it sets; the process' own exit code is restored.
import type { Command } from "commander";
import { Command as Program } from "commander";
import { vi } from "vitest";

export async function runCommand(
  register: (program: Command) => void,
  argv: string[],
): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = "";
  let err = "";
  const w = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(console, "error").mockImplementation((m: unknown) => {
    err += `${String(m)}\n`;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = new Program().exitOverride();
    register(program);
    await program.parseAsync(argv, { from: "user" });
    return { out, err, code: process.exitCode as number | undefined };
  } finally {
    w.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}
