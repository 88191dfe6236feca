/** How the CLI prints: JSON with --json (for scripts), readable tables otherwise. */
export interface Output {
  readonly json: boolean;
  /** The command's result: JSON as is, or through `human` as lines of text. */
  result(value: unknown, human?: () => string | string[]): void;
  /** Progress and notes for a person, on stderr (never mixed into --json output). */
  note(text: string): void;
}

export function createOutput(json: boolean, quiet = false): Output {
  return {
    json,
    result(value, human) {
      if (json || !human) console.log(JSON.stringify(value, null, 2));
      else {
        const text = human();
        console.log(Array.isArray(text) ? text.join('\n') : text);
      }
    },
    note(text) {
      if (!quiet) process.stderr.write(`${text}\n`);
    },
  };
}

/** A plain-text table: a header, a rule, then aligned rows. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/**
 * Exit codes scripts can rely on: 0 done; 1 the work failed (a task ended other than completed,
 * or some of a bulk action failed); 2 usage or invalid input; 3 not found; 4 configuration or
 * AWS unreachable; 5 timed out waiting.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, config: 4, timeout: 5 } as const;
