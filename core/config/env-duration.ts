import { z } from 'zod';
import { parseDuration } from '../input/duration';
import { ValidationError } from '../errors';

/**
 * A duration in an environment variable (JOBFLEET_*_MS, RUNNER_*_MS), read by the same parser as
 * every other duration: digits alone are milliseconds (the variables' names say so), and a unit
 * may be written out ("30s", "2 minutes"). "", "1e3", "0x10" and "30 sec later" are refused.
 */
export function envDuration(min: number, max = 86_400_000): z.ZodType<number, string> {
  return z.string().transform((raw, ctx) => {
    const text = raw.trim();
    try {
      return parseDuration(/^\d+$/.test(text) ? Number(text) : text, 'value', { min, max });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.addIssue({ code: 'custom', message: text === '' ? 'is empty; give a number of milliseconds, e.g. 5000, or a duration such as "5s"' : err.problem });
      return z.NEVER;
    }
  });
}
