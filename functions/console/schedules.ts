import { html } from 'hono/html';
import type { ScheduleRecord } from '../../core/model/task';
import { describeSpec, nextDueTimes, scheduleState } from '../../core/ops/schedule-words';
import { actionButton, time, type Html } from './layout';

export function schedulesPage(schedules: readonly ScheduleRecord[]): Html {
  return html`<h1>Schedules</h1>
<table data-testid="schedules"><thead><tr><th>id</th><th>job</th><th>when</th><th>next five</th><th>last completed</th><th>state</th><th></th></tr></thead><tbody>
${schedules.map((s) => {
  const state = scheduleState(s);
  return html`<tr id="${s.id}" data-schedule="${s.id}"><td>${s.id}${s.declared ? html` <span class="muted">(catalogue)</span>` : ''}</td><td><a href="/tasks?job=${s.job}">${s.job}</a></td>
<td>${describeSpec(s.spec)}<br><span class="muted">missed runs: ${s.missedRuns}</span></td>
<td>${nextDueTimes(s, 5).map((t) => html`${time(t)}<br>`)}</td><td>${time(s.lastCompletedAt)}</td><td data-testid="state-${s.id}">${state}</td>
<td>${state === 'active' ? actionButton(`/schedules/${s.id}/pause`, 'pause') : ''}${state === 'paused' ? actionButton(`/schedules/${s.id}/resume`, 'resume') : ''}
${state !== 'stopped' ? actionButton(`/schedules/${s.id}/stop`, 'stop') : ''}${actionButton(`/schedules/${s.id}/run-now`, 'run now')}</td></tr>`;
})}
</tbody></table>${schedules.length === 0 ? html`<p class="muted">No schedules.</p>` : ''}`;
}
