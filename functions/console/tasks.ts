import { html } from 'hono/html';
import { TASK_STATUSES, isTerminal, type TaskRecord } from '../../core/model/task';
import type { BulkAction, BulkResult, TaskFilter } from '../../core/ops/task-filter';
import type { TaskPage } from '../../core/sdk/client';
import { actionButton, statusCell, time, type Html } from './layout';

/** The raw query strings of a filter, so a link or a form keeps it as typed (relative times stay relative). */
export type RawFilter = Record<'job' | 'status' | 'from' | 'to' | 'id', string>;

export const queryOf = (raw: Partial<RawFilter>, extra: Record<string, string> = {}): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...raw, ...extra })) if (v) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
};

export function tasksPage(jobs: readonly string[], raw: RawFilter, result: TaskPage, readOnly: boolean): Html {
  return html`<h1>Tasks</h1>
<form class="filters" method="get" action="/tasks" data-testid="filters">
<label>job <select name="job"><option value="">any</option>${jobs.map((j) => html`<option${j === raw.job ? html` selected` : ''}>${j}</option>`)}</select></label>
<label>status <select name="status"><option value="">any</option>${TASK_STATUSES.map((s) => html`<option${s === raw.status ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>from <input name="from" value="${raw.from}" placeholder="-1h or 2026-12-01T10:00Z" size="18"></label>
<label>to <input name="to" value="${raw.to}" placeholder="now" size="18"></label>
<label>id <input name="id" value="${raw.id}" size="30"></label>
<button type="submit">Filter</button> <a href="/tasks">clear</a></form>
<p>Bulk, by this filter (the count comes first):
<a href="/tasks/bulk${queryOf(raw, { action: 'cancel' })}" data-testid="bulk-cancel">cancel…</a> ·
<a href="/tasks/bulk${queryOf(raw, { action: 'retry' })}" data-testid="bulk-retry">retry failed…</a></p>
<table data-testid="tasks"><thead><tr><th>id</th><th>job</th><th>status</th><th class="n">attempt</th><th>due</th><th>started</th><th>ended</th><th>reason</th><th></th></tr></thead><tbody>
${result.tasks.map((t) => taskRow(t, readOnly))}
</tbody></table>
${result.tasks.length === 0 ? html`<p class="muted" data-testid="empty">No task matches.</p>` : ''}
${result.cursor ? html`<a href="/tasks${queryOf(raw, { cursor: result.cursor })}" data-testid="next-page">next page →</a>` : ''}`;
}

function taskRow(t: TaskRecord, _readOnly: boolean): Html {
  return html`<tr data-task="${t.id}"><td><a href="/tasks/${t.id}">${t.id}</a></td><td>${t.job}</td><td>${statusCell(t.status)}${t.cancelRequested ? ' (cancel requested)' : ''}${t.held ? ' (held)' : ''}</td>
<td class="n">${t.attempt}/${t.maxAttempts}</td><td>${time(t.dueAt)}</td><td>${time(t.startedAt)}</td><td>${time(t.endedAt)}</td><td>${t.error?.reason ?? ''}</td>
<td>${taskActions(t)}</td></tr>`;
}

/** The actions that apply to a task as it is now. Each is one SDK call. */
export function taskActions(t: TaskRecord): Html {
  return html`${!isTerminal(t.status) && !t.cancelRequested ? actionButton(`/tasks/${t.id}/cancel`, 'cancel') : ''}
${t.held && t.status === 'pending' ? actionButton(`/tasks/${t.id}/release`, 'release') : ''}
${t.status === 'failed' && t.effectsDone && !t.scheduleId ? actionButton(`/tasks/${t.id}/reschedule`, 'retry') : ''}`;
}

export function bulkPage(action: BulkAction, raw: RawFilter, filter: TaskFilter, preview: BulkResult): Html {
  const described = Object.entries(raw).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(', ') || 'every task';
  return html`<h1>Bulk ${action}</h1>
<p>Filter: ${described}${filter.status === undefined && action === 'retry' ? ' (only failed tasks can be retried)' : ''}</p>
<p data-testid="bulk-count">${preview.matched}${preview.truncated ? '+' : ''} tasks match; <strong>${preview.eligible}</strong> can be ${action === 'cancel' ? 'cancelled' : 'retried'}.</p>
${preview.eligible > 0
  ? html`<form method="post" action="/actions/bulk"><input type="hidden" name="action" value="${action}">${Object.entries(raw).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<input type="hidden" name="expected" value="${preview.eligible}"><button type="submit" data-testid="bulk-confirm">${action} ${preview.eligible} tasks</button></form>`
  : ''}
<p><a href="/tasks${queryOf(raw)}">back to the list</a></p>`;
}
