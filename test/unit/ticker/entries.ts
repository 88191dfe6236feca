import { schedSk } from '../../../core/model/keys';
import type { SchedEntry } from '../../../core/store/task-store';

/** A due index entry as the store returns it. */
export function dueEntry(id: string, dueAt: number, priority = 100, extra: Partial<SchedEntry> = {}): SchedEntry {
  return { id, at: dueAt, sk: schedSk(dueAt, priority, id), token: `tok-${id}`, job: 'email', slots: 1, slotClass: 'small', ...extra };
}
