import { html } from 'hono/html';
import { attemptRecordOf, isTerminal, type AttemptRecord, type TaskRecord } from '../../core/model/task';
import { duration, statusCell, time, type Html } from './layout';
import { taskActions } from './tasks';

export interface TaskDetail {
  readonly task: TaskRecord;
  /** The result, read from S3 when it was too large to keep on the task. */
  readonly result?: unknown;
  /** One log per attempt found under the task's log prefix. */
  readonly logs: readonly { readonly attempt: number; readonly key: string; readonly bytes?: number }[];
  readonly dependents: readonly string[];
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

/** The parts that change while a task runs (htmx polls them until it has ended for good). */
export function taskLive(t: TaskRecord): Html {
  const settled = isTerminal(t.status) && t.effectsDone;
  return html`<div id="live" ${settled ? '' : html`hx-get="/fragments/tasks/${t.id}" hx-trigger="every 2s" hx-swap="outerHTML"`}>
<p>Status: <strong data-testid="task-status">${statusCell(t.status)}</strong>${t.cancelRequested ? ' · cancel requested' : ''} · attempt ${t.attempt} of ${t.maxAttempts} ${taskActions(t)}</p>
${t.progress ? html`<p data-testid="progress">Progress: ${Math.round(t.progress.percent)}% ${t.progress.message ?? ''} <span class="bar" style="width:${Math.round(t.progress.percent * 2)}px"></span> (${time(t.progress.at)})</p>` : ''}
<h2>Timeline</h2><table><tbody>
<tr><td>created</td><td>${time(t.createdAt)}</td></tr>
<tr><td>due</td><td>${time(t.dueAt)}</td></tr>
${t.queuedAt ? html`<tr><td>queued (claimed)</td><td>${time(t.queuedAt)}</td></tr>` : ''}
${t.startedAt ? html`<tr><td>started${t.runnerId ? ` on ${t.runnerId}` : ''}</td><td>${time(t.startedAt)} (${duration(t.startedAt - t.dueAt)} after due)</td></tr>` : ''}
${t.endedAt ? html`<tr><td>${t.status}</td><td>${time(t.endedAt)}${t.startedAt ? ` (ran ${duration(t.endedAt - t.startedAt)})` : ''}</td></tr>` : ''}
${t.leaseUntil && !isTerminal(t.status) ? html`<tr><td>lease until</td><td>${time(t.leaseUntil)}</td></tr>` : ''}
</tbody></table>
${t.error ? html`<h2>Error (${t.error.reason}${t.error.exitCode !== undefined ? `, exit ${t.error.exitCode}` : ''})</h2><pre data-testid="error">${t.error.message}${t.error.stack ? `\n\n${t.error.stack}` : ''}</pre>` : ''}
</div>`;
}

export function taskPage(d: TaskDetail): Html {
  const t = d.task;
  return html`<h1>Task ${t.id}</h1>
<dl><dt>job</dt><dd><a href="/tasks?job=${t.job}">${t.job}</a> (class ${t.slotClass}, ${t.slots} slot${t.slots === 1 ? '' : 's'}, limit ${duration(t.maxExecutionMs)})</dd>
${t.scheduleId ? html`<dt>schedule</dt><dd><a href="/schedules#${t.scheduleId}">${t.scheduleId}</a>${t.occurrenceAt ? ` (occurrence due ${time(t.occurrenceAt)})` : ''}</dd>` : ''}
${t.startAfter ? html`<dt>after</dt><dd><a href="/tasks/${t.startAfter}">${t.startAfter}</a></dd>` : ''}
${d.dependents.length ? html`<dt>waiting on it</dt><dd>${d.dependents.map((id) => html`<a href="/tasks/${id}">${id}</a> `)}</dd>` : ''}
${t.idempotencyKey ? html`<dt>idempotency key</dt><dd>${t.idempotencyKey}</dd>` : ''}
<dt>priority</dt><dd>${t.priority}</dd></dl>
${taskLive(t)}
<h2>Attempts</h2><table data-testid="attempts"><thead><tr><th class="n">attempt</th><th>outcome</th><th>runner</th><th>started</th><th>ran</th><th>log</th></tr></thead><tbody>
${Array.from({ length: t.attempt }, (_, i) => i + 1).map((a) => {
  const log = d.logs.find((l) => l.attempt === a);
  const past = a === t.attempt ? attemptRecordOf(t) : t.attempts?.find((r) => r.attempt === a);
  return html`<tr data-testid="attempt-${a}"><td class="n">${a}</td><td>${attemptOutcome(past, a === t.attempt)}</td><td>${past?.runnerId ?? ''}</td><td>${past?.startedAt ? time(past.startedAt) : ''}</td><td>${past?.startedAt && past.endedAt ? duration(past.endedAt - past.startedAt) : ''}</td>
<td>${log ? html`<a href="/tasks/${t.id}/logs/${a}" data-testid="log-${a}">log</a>${log.bytes !== undefined ? ` (${log.bytes} bytes)` : ''}` : html`<span class="muted">${a === t.attempt && !isTerminal(t.status) ? 'not uploaded yet' : 'none'}</span>`}</td></tr>`;
})}
</tbody></table>
<h2>Arguments</h2><pre data-testid="args">${json(t.args)}</pre>
${t.result !== undefined || d.result !== undefined ? html`<h2>Result${t.resultS3Key ? ' (from S3)' : ''}</h2><pre data-testid="result">${json(d.result ?? t.result)}</pre>` : ''}`;
}

/** An attempt's outcome in words; an attempt from before histories were kept says only that it was retried. */
function attemptOutcome(r: AttemptRecord | undefined, current: boolean): string {
  if (!r) return 'failed (retried)';
  if (current && !isTerminal(r.status)) return r.status;
  const why = r.reason ? ` (${r.reason}${r.exitCode !== undefined ? `, exit ${r.exitCode}` : ''})` : '';
  return `${r.status}${why}${r.message ? `: ${r.message}` : ''}`;
}

export function logPage(t: TaskRecord, attempt: number, text: string): Html {
  return html`<h1>Log of <a href="/tasks/${t.id}">${t.id}</a>, attempt ${attempt}</h1><pre data-testid="log">${text}</pre>`;
}
