import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:center}
header a{color:#cfd6e4;text-decoration:none}header a.on{color:#fff;font-weight:600}
header .ro{margin-left:auto;background:#b54708;padding:2px 8px;border-radius:4px}
main{padding:16px}h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:18px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:12px}
th,td{border-bottom:1px solid #e3e6eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.s-pending{color:#555}.s-queued{color:#6941c6}.s-running{color:#175cd3}.s-completed{color:#067647}.s-failed{color:#b42318}.s-cancelled{color:#93370d}
form.inline{display:inline}button{cursor:pointer}pre{background:#fff;border:1px solid #e3e6eb;padding:8px;overflow:auto;max-height:480px}
.flash{padding:8px 12px;border-radius:4px;margin-bottom:12px;background:#ecfdf3;border:1px solid #abefc6}
.flash.err{background:#fef3f2;border-color:#fecdca}.muted{color:#667085}.bar{display:inline-block;background:#2e90fa;height:10px;vertical-align:middle}
.filters input,.filters select{margin-right:8px}dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;background:#fff;padding:8px}dt{font-weight:600}
`;

const NAV = [
  ['/', 'Overview'],
  ['/tasks', 'Tasks'],
  ['/schedules', 'Schedules'],
  ['/fleet', 'Fleet'],
] as const;

export interface PageContext {
  readonly readOnly: boolean;
  readonly path: string;
  readonly flash?: { readonly ok: boolean; readonly text: string };
}

export function page(ctx: PageContext, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · jobfleet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${raw(CSS)}</style><script src="/static/htmx.min.js"></script></head>
<body><header><strong>jobfleet</strong>${NAV.map(([href, label]) => html`<a href="${href}" class="${(href === '/' ? ctx.path === '/' : ctx.path.startsWith(href)) ? 'on' : ''}">${label}</a>`)}
${ctx.readOnly ? html`<span class="ro" data-testid="read-only">read-only</span>` : ''}</header>
<main>${ctx.flash ? html`<div class="flash${ctx.flash.ok ? '' : ' err'}" data-testid="flash">${ctx.flash.text}</div>` : ''}${body}</main></body></html>`;
}

export const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export const statusCell = (status: string) => html`<span class="s-${status}" data-status="${status}">${status}</span>`;

/** A POST button (no script needed); `confirm` asks first. */
export function actionButton(action: string, label: string, fields: Record<string, string> = {}, confirm?: string): Html {
  return html`<form class="inline" method="post" action="${action}"${confirm ? html` onsubmit="return confirm('${confirm}')"` : ''}>${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${label}</button></form>`;
}
