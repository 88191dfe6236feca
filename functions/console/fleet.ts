import { html } from 'hono/html';
import type { ClassView } from '../../core/ops/fleet';
import { actionButton, type Html } from './layout';

export function fleetPage(classes: readonly ClassView[]): Html {
  return html`<h1>Fleet</h1>
<table data-testid="fleet"><thead><tr><th>slot class</th><th class="n">slots / runner</th><th class="n">demand (slots)</th><th class="n">due</th><th class="n">queued</th><th class="n">running</th><th class="n">runners desired / running</th><th class="n">queue depth</th><th class="n">dead letters</th><th></th></tr></thead><tbody>
${classes.map(
  (c) => html`<tr data-class="${c.name}"><td>${c.name}</td><td class="n">${c.slotsPerRunner}</td><td class="n">${c.demandSlots}</td><td class="n">${c.dueSlots}</td><td class="n">${c.queuedSlots}</td><td class="n">${c.runningSlots}</td>
<td class="n">${c.runners ? `${c.runners.desired} / ${c.runners.running}` : html`<span class="muted" title="ECS answers for a deployed stack (--stack)">n/a</span>`} <span class="muted">(${c.minRunners}-${c.maxRunners})</span></td>
<td class="n">${c.queueDepth ?? '-'}</td><td class="n">${c.deadLetter ? c.deadLetter.depth : '-'}</td>
<td>${c.deadLetter && c.deadLetter.depth > 0 ? actionButton(`/fleet/${c.name}/redrive`, 'redrive') : ''}</td></tr>`,
)}
</tbody></table>
<p class="muted">Demand = slots of due + queued + running tasks, read from the sched index as the ticker reads it (never the future backlog).</p>`;
}
