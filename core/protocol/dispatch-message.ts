import { z } from 'zod';

/**
 * The message the ticker sends a runner through its class's queue: the task and the claim's token,
 * never arguments (the runner reads the task, fenced by that token). Defined once for both sides.
 */
export const DispatchMessageSchema = z.object({
  v: z.literal(1),
  taskId: z.string().min(1).max(200),
  token: z.string().min(1).max(200),
});

export interface DispatchMessage {
  readonly taskId: string;
  readonly token: string;
}

/** The body the ticker sends. */
export const dispatchBody = (m: DispatchMessage): string => JSON.stringify({ v: 1, taskId: m.taskId, token: m.token });

export type ParsedMessage = { readonly ok: true; readonly message: DispatchMessage } | { readonly ok: false; readonly error: string };

/** Parses a body as the runner receives it; never throws. */
export function parseDispatchMessage(body: string | undefined): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { ok: false, error: `not JSON: ${JSON.stringify((body ?? '').slice(0, 80))}` };
  }
  const parsed = DispatchMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') };
  return { ok: true, message: { taskId: parsed.data.taskId, token: parsed.data.token } };
}
