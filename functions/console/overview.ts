import { html } from 'hono/html';
import type { AggregateStore } from '../../core/ops/aggregate-store';
import { BUCKET_MS, COUNTERS, summarize, throughput, type WindowSummary } from '../../core/ops/aggregates';
import { duration, type Html } from './layout';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface JobOverview {
  readonly job: string;
  readonly hour: WindowSummary;
  readonly day: WindowSummary;
  /** Completed per 5-minute bucket over the last hour, oldest first. */
  readonly throughput: { bucket: number; count: number }[];
}

/** One Query per job of its last day's buckets (at most 288 small items), in parallel. */
export async function readOverview(aggregates: AggregateStore, jobs: readonly string[], now: number): Promise<JobOverview[]> {
  return Promise.all(
    jobs.map(async (job) => {
      const buckets = await aggregates.read(job, now - DAY);
      return { job, hour: summarize(buckets, now - HOUR), day: summarize(buckets, now - DAY), throughput: throughput(buckets, now - HOUR + BUCKET_MS, now) };
    }),
  );
}

const counts = (w: WindowSummary, job: string, window: string) => COUNTERS.map((c) => html`<td class="n" data-testid="count-${job}-${window}-${c}">${w.counts[c] ? html`<a href="/tasks?job=${job}${statusOf(c)}&from=-${window === 'hour' ? '1h' : '1d'}">${w.counts[c]}</a>` : '0'}</td>`);
const statusOf = (c: string) => (['completed', 'failed', 'cancelled'].includes(c) ? `&status=${c}` : c === 'started' ? '' : '');

/** The live part of the overview (refreshed by htmx every few seconds). */
export function overviewFragment(rows: readonly JobOverview[], now: number): Html {
  const reasons = new Map<string, number>();
  for (const r of rows) for (const [k, n] of Object.entries(r.day.reasons)) reasons.set(`${r.job}: ${k}`, (reasons.get(`${r.job}: ${k}`) ?? 0) + n);
  const perMinuteHour = rows.reduce((n, r) => n + r.hour.counts.completed, 0) / 60;
  const peak = Math.max(1, ...rows.flatMap((r) => r.throughput.map((t) => t.count)));
  return html`<p class="muted">Updated ${new Date(now).toISOString()} · throughput (last hour) ${perMinuteHour.toFixed(2)} completed/min · counts from the status-event aggregates (5-minute buckets)</p>
<table data-testid="overview"><thead>
<tr><th rowspan="2">job</th><th colspan="${COUNTERS.length}">last hour</th><th rowspan="2" class="n">late p50 / p99</th><th colspan="${COUNTERS.length}">last day</th><th rowspan="2" class="n">late p50 / p99</th><th rowspan="2">completed per 5 min (hour)</th></tr>
<tr>${COUNTERS.map((c) => html`<th class="n">${c}</th>`)}${COUNTERS.map((c) => html`<th class="n">${c}</th>`)}</tr></thead><tbody>
${rows.map(
  (r) => html`<tr data-job="${r.job}"><td><a href="/tasks?job=${r.job}">${r.job}</a></td>${counts(r.hour, r.job, 'hour')}
<td class="n">${late(r.hour)}</td>${counts(r.day, r.job, 'day')}<td class="n">${late(r.day)}</td>
<td>${r.throughput.map((t) => html`<span class="bar" title="${new Date(t.bucket).toISOString()}: ${t.count}" style="width:4px;height:${2 + Math.round((t.count / peak) * 14)}px"></span> `)}</td></tr>`,
)}
</tbody></table>
<h2>Failures by reason (last day)</h2>
${reasons.size === 0 ? html`<p class="muted">none</p>` : html`<table data-testid="failures"><thead><tr><th>job: reason</th><th class="n">failed attempts</th></tr></thead><tbody>${[...reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => html`<tr><td>${k}</td><td class="n">${n}</td></tr>`)}</tbody></table>`}`;
}

const late = (w: WindowSummary) => (w.latenessP50Ms === undefined ? '-' : `≤${duration(w.latenessP50Ms)} / ≤${duration(w.latenessP99Ms)}`);

export function overviewPage(fragment: Html): Html {
  return html`<h1>Overview</h1><div id="overview" hx-get="/fragments/overview" hx-trigger="every 3s" hx-swap="innerHTML">${fragment}</div>`;
}
