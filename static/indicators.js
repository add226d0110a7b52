// OPTIMUM BCP web app: the indicators page, #/indicadores.
//
// One screen for executives and continuity managers: open incidents against their SLA,
// volume over time, response times against the targets, acknowledgement per team and
// delivery per channel, from GET /api/v1/indicators. It stays live from the app's one
// websocket: any incident frame makes it fetch again, at most once every few seconds
// (with a last fetch after a burst). Charts are SVG drawn here, no library.
//
// #/indicadores?tv=1 is the executive room's wall screen: full screen, read-only, large
// type, no controls. Other parameters: periodo (24h, 7d, 30d, 90d, 365d), prioridad,
// equipo, sitio, servicio. A viewer limited to teams and sites gets their figures only
// (the server limits them; the page says so).

import { state, t, h, show, api, errorText, hashParams, hashParts, API_BASE, fmtDuration, fmtCountdown, fmtTime, priorityBadge, teamName, tn, can } from './core.js';

const PERIODS = { '24h': 864e5, '7d': 7 * 864e5, '30d': 30 * 864e5, '90d': 90 * 864e5, '365d': 365 * 864e5 };
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'];
const TABLES = ['summary', 'open', 'over_time', 'by_priority', 'by_team', 'by_site', 'channels'];
const REFRESH_MS = 3000; // at most one fetch per this, however busy the stream
const STALE_MS = 60000; // fetch at least this often
const PALETTE = ['#1557b0', '#b84300', '#1b6e32', '#5a2ea6', '#8a6d00', '#0f7c8c', '#b3141c', '#5b636b'];
const PRIORITY_COLORS = { P1: '#b3141c', P2: '#b84300', P3: '#c99700', P4: '#1557b0', P5: '#5b636b' };
const SVG = 'http://www.w3.org/2000/svg';

const page = {
  data: null,
  error: null,
  inflight: false,
  again: false,
  last: 0,
  timer: 0,
  seq: 0,
  dim: 'priority', // the over-time chart's breakdown
  root: null,
  slot: null,
  canary: null, // GET /api/v1/canary?limit=1 for managers; null otherwise
};

export function indicatorsRoute(path) { return path === 'indicadores' || path === 'indicators'; }

function open() { return indicatorsRoute(hashParts().path) && page.root?.isConnected; }

function tv() { return hashParams().get('tv') === '1'; }

// tvMode puts the page in (or out of) the wall-screen layout; app.js calls it on every render.
export function tvMode(on) { document.body.classList.toggle('tv', !!on && tv()); }

export function forgetIndicators() {
  clearTimeout(page.timer);
  Object.assign(page, { data: null, error: null, inflight: false, again: false, last: 0, timer: 0, seq: page.seq + 1, root: null, slot: null });
}

// ---------------------------------------------------------------- query and fetching

function params() {
  const p = hashParams();
  const period = PERIODS[p.get('periodo')] ? p.get('periodo') : '7d';
  return { period, priority: p.get('prioridad') || '', team: p.get('equipo') || '', site: p.get('sitio') || '', service: p.get('servicio') || '' };
}

function query() {
  const p = params();
  const q = new URLSearchParams({ from: new Date(Date.now() - PERIODS[p.period]).toISOString() });
  if (p.priority) q.set('priority', p.priority);
  if (p.team) q.set('team', p.team);
  if (p.site) q.set('site', p.site);
  if (p.service) q.set('service', p.service);
  return q.toString();
}

function setParam(name, value) {
  const p = hashParams();
  if (value) p.set(name, value); else p.delete(name);
  const qs = p.toString();
  location.hash = `#/${hashParts().path}${qs ? `?${qs}` : ''}`;
}

async function fetchNow() {
  if (page.inflight) { page.again = true; return; }
  page.inflight = true;
  page.last = Date.now();
  const seq = page.seq;
  try {
    const [data, canary] = await Promise.all([api('GET', `indicators?${query()}`), fetchCanary()]);
    if (seq !== page.seq) return;
    page.data = data;
    page.canary = canary;
    page.error = null;
  } catch (err) {
    if (seq !== page.seq) return;
    page.error = errorText(err);
  } finally {
    if (seq === page.seq) page.inflight = false;
  }
  if (open()) fill();
  if (page.again) { page.again = false; refresh(); }
}

// refresh fetches again, at most once every REFRESH_MS.
function refresh() {
  if (page.timer) return;
  const wait = page.last + REFRESH_MS - Date.now();
  if (wait <= 0) { fetchNow(); return; }
  page.timer = setTimeout(() => { page.timer = 0; if (open()) fetchNow(); }, wait);
}

// indicatorsFrame takes every frame of the stream: incident changes move the figures.
export function indicatorsFrame(ev) {
  if (!open() || !ev || typeof ev.type !== 'string') return;
  if (ev.type.startsWith('incident.') || ev.type.startsWith('escalation.') || ev.type === 'stream.ready') refresh();
}

// ---------------------------------------------------------------- formatting

function pct(v) { return v == null ? '—' : `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(v)} %`; }
function secs(v) { return v == null ? '—' : fmtDuration(v * 1000); }
function locale() { return state.lang === 'es' ? 'es-MX' : 'en-GB'; }
function chanName(c) { const k = `ind.chan.${c}`; const v = t(k); return v === k ? c : v; }
function num(v) { return new Intl.NumberFormat(locale()).format(v || 0); }

function bucketLabel(iso, bucket, tz) {
  const opts = bucket === 'hour' ? { hour: '2-digit', minute: '2-digit', hour12: false } : { day: 'numeric', month: 'short' };
  try { return new Intl.DateTimeFormat(locale(), { ...opts, timeZone: tz }).format(new Date(iso)); } catch { return new Intl.DateTimeFormat(locale(), opts).format(new Date(iso)); }
}

// ---------------------------------------------------------------- SVG charts

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// chartBox holds a chart drawn at the box's width in pixels (so its text keeps its size on
// a phone and on a wall screen); fill and a resize draw it again.
function chartBox(draw) {
  const box = h('div', { class: 'chart-box' });
  box.draw = () => box.replaceChildren(draw(Math.max(260, Math.min(1400, box.clientWidth || 600))));
  return box;
}

function drawCharts() {
  for (const box of page.slot?.querySelectorAll('.chart-box') || []) box.draw();
}

let resizeFrame = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => { if (open()) drawCharts(); });
});

function clip(s, n) { return s.length > n ? `${s.slice(0, n - 1)}…` : s; }

// stackedBars draws a count per bucket, stacked by series, with a y axis of whole numbers.
function stackedBars(W, starts, series, { bucket, tz, label, colors }) {
  const H = W < 500 ? 200 : 250; const L = 34; const B = 30; const T = 10; const R = 6;
  const n = starts.length;
  const totals = starts.map((_, i) => series.reduce((s, x) => s + (x.counts[i] || 0), 0));
  const max = Math.max(1, ...totals);
  const step = Math.max(1, Math.ceil(max / 4));
  const top = step * Math.ceil(max / step);
  const pw = W - L - R; const ph = H - T - B;
  const y = (v) => T + ph - (v / top) * ph;
  const bw = pw / Math.max(1, n);
  const kids = [];
  for (let v = 0; v <= top; v += step) {
    kids.push(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'ch-grid' }));
    kids.push(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'ch-tick' }, num(v)));
  }
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(pw / 70))));
  starts.forEach((s, i) => {
    let acc = 0;
    series.forEach((x, j) => {
      const c = x.counts[i] || 0;
      if (!c) return;
      kids.push(svg('rect', {
        x: L + i * bw + bw * 0.12, width: Math.max(1, bw * 0.76), y: y(acc + c), height: y(acc) - y(acc + c),
        fill: colors(x.key, j), class: 'ch-bar', 'data-key': x.key,
      }, svg('title', {}, `${bucketLabel(s, bucket, tz)} · ${x.label || x.key}: ${c}`)));
      acc += c;
    });
    if (i % every === 0) kids.push(svg('text', { x: L + i * bw + bw / 2, y: H - 10, 'text-anchor': 'middle', class: 'ch-tick' }, bucketLabel(s, bucket, tz)));
  });
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', role: 'img', 'aria-label': label, 'data-testid': 'ind-chart-time' }, kids);
}

// hbars draws one horizontal bar per row on a 0–max scale, with an optional target mark.
function hbars(W, rows, { max = 100, label, testid, format = pct }) {
  const rowH = 34; const L = Math.min(200, Math.round(W * 0.32)); const R = 76;
  const chars = Math.floor((L - 12) / 9);
  const H = Math.max(1, rows.length) * rowH + 6;
  const pw = W - L - R;
  const kids = [];
  rows.forEach((r, i) => {
    const y0 = 4 + i * rowH;
    kids.push(svg('text', { x: L - 8, y: y0 + rowH / 2 + 2, 'text-anchor': 'end', class: 'ch-label' }, clip(r.label, chars), svg('title', {}, r.label)));
    kids.push(svg('rect', { x: L, y: y0 + 6, width: pw, height: rowH - 14, class: 'ch-track', rx: 4 }));
    if (r.value != null) {
      kids.push(svg('rect', { x: L, y: y0 + 6, width: Math.max(0, Math.min(1, r.value / max)) * pw, height: rowH - 14, fill: r.color || '#1557b0', rx: 4, class: 'ch-bar' },
        svg('title', {}, `${r.label}: ${format(r.value)}`)));
    }
    if (r.target != null) {
      const x = L + Math.min(1, r.target / max) * pw;
      kids.push(svg('line', { x1: x, x2: x, y1: y0 + 2, y2: y0 + rowH - 4, class: 'ch-target' }));
    }
    kids.push(svg('text', { x: W - R + 8, y: y0 + rowH / 2 + 2, class: 'ch-value' }, format(r.value)));
  });
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart chart-h', role: 'img', 'aria-label': label, 'data-testid': testid }, kids);
}

// ---------------------------------------------------------------- rendering

// renderIndicators draws the page: the controls once, then the figures into a slot that
// each fetch refills. Opening (or re-opening) the page fetches.
export function renderIndicators() {
  tvMode(true);
  page.seq += 1;
  page.data = null;
  page.error = null;
  page.inflight = false;
  clearTimeout(page.timer);
  page.timer = 0;
  page.slot = h('div', { class: 'ind-slot', testid: 'ind-slot', 'aria-live': 'polite' }, h('p', { class: 'loading' }, t('loading')));
  page.root = h('section', { class: `page page-wide ind${tv() ? ' ind-tv' : ''}`, testid: 'indicators-page', 'aria-labelledby': 'ind-title' },
    h('div', { class: 'page-head' },
      h('h1', { id: 'ind-title' }, t('ind.title')),
      h('span', { class: 'muted ind-updated', testid: 'ind-updated' })),
    tv() ? tvBar() : controls(),
    page.slot);
  show(page.root);
  fetchNow();
}

function tvBar() {
  const p = hashParams();
  p.delete('tv');
  const qs = p.toString();
  return h('div', { class: 'ind-tvbar' },
    h('span', { class: 'ind-period' }, t(`ind.period.${params().period}`)),
    h('button', { type: 'button', class: 'btn btn-small ind-fs', testid: 'ind-fullscreen', onclick: () => document.documentElement.requestFullscreen?.().catch(() => {}) }, t('ind.fullscreen')),
    h('a', { class: 'ind-exit', href: `#/indicadores${qs ? `?${qs}` : ''}`, testid: 'ind-exit-tv' }, t('ind.exitTv')));
}

function controls() {
  const p = params();
  const sel = (name, value, options, testid) => h('select', {
    class: 'input', testid, 'aria-label': t(`ind.filter.${name}`), onchange: (e) => setParam(name, e.target.value),
  }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  const periods = h('div', { class: 'ind-periods', role: 'group', 'aria-label': t('ind.filter.period') },
    Object.keys(PERIODS).map((k) => h('button', {
      type: 'button', class: `btn btn-small${k === p.period ? ' btn-primary' : ''}`, 'aria-pressed': String(k === p.period), testid: `ind-period-${k}`,
      onclick: () => setParam('periodo', k === '7d' ? '' : k),
    }, t(`ind.period.${k}`))));
  const service = h('input', {
    class: 'input', type: 'search', value: p.service, placeholder: t('ind.filter.servicio'), 'aria-label': t('ind.filter.servicio'), testid: 'ind-service',
    onchange: (e) => setParam('servicio', e.target.value.trim()),
  });
  const teams = (state.meta?.teams || []).map((x) => [x.id, teamName(x.id)]);
  const sites = (state.meta?.sites || []).map((x) => [x.id, x.name]);
  if (p.site && !sites.some(([id]) => id === p.site)) sites.push([p.site, p.site]);
  const here = hashParams();
  here.set('tv', '1');
  return h('div', { class: 'ind-controls' },
    periods,
    h('div', { class: 'ind-filters' },
      sel('prioridad', p.priority, [['', t('ind.all.priorities')], ...PRIORITIES.map((x) => [x, x])], 'ind-priority'),
      sel('equipo', p.team, [['', t('ind.all.teams')], ...teams], 'ind-team'),
      sites.length ? sel('sitio', p.site, [['', t('ind.all.sites')], ...sites], 'ind-site') : null,
      service,
      h('a', { class: 'btn btn-small', href: `#/indicadores?${here}`, testid: 'ind-tv-link' }, t('ind.tv'))));
}

function fill() {
  const slot = page.slot;
  if (!slot) return;
  const d = page.data;
  const updated = page.root.querySelector('[data-testid="ind-updated"]');
  if (!d) {
    slot.replaceChildren(page.error
      ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'ind-error' }, page.error)
      : h('p', { class: 'loading' }, t('loading')));
    return;
  }
  updated.textContent = t('ind.updated', { time: fmtTime(d.generated_at) });
  const nodes = [];
  if (page.error) nodes.push(h('p', { class: 'alert alert-error', role: 'alert', testid: 'ind-error' }, page.error));
  const empty = d.summary.declared === 0 && d.open.length === 0;
  if (empty) nodes.push(h('div', { class: 'card ind-empty', testid: 'ind-empty' }, h('p', { class: 'ind-empty-title' }, t('ind.empty.title')), h('p', { class: 'muted' }, t('ind.empty.text'))));
  const sc = scopeNote();
  if (sc) nodes.push(sc);
  nodes.push(kpis(d), openCard(d), timeCard(d), priorityCard(d), teamCard(d), siteCard(d), channelCard(d));
  if (page.canary) nodes.push(canaryCard(page.canary));
  if (!tv()) nodes.push(downloads());
  slot.replaceChildren(...nodes);
  drawCharts();
  tickIndicators();
}

function delta(cur, prev) {
  if (prev == null) return null;
  const diff = cur - prev;
  const sign = diff > 0 ? '▲' : diff < 0 ? '▼' : '=';
  return h('span', { class: `ind-delta ${diff > 0 ? 'up' : diff < 0 ? 'down' : ''}`, title: t('ind.vsPrevious') }, `${sign} ${num(Math.abs(diff))} ${t('ind.vsPrevShort')}`);
}

function kpi(testid, label, value, extra) {
  return h('div', { class: 'ind-kpi', testid }, h('span', { class: 'ind-kpi-label' }, label), h('span', { class: 'ind-kpi-value' }, value), extra);
}

function kpis(d) {
  const s = d.summary; const p = d.previous;
  const breached = d.open.filter((o) => o.breached).length;
  return h('div', { class: 'ind-kpis', testid: 'ind-kpis' },
    kpi('kpi-declared', t('ind.kpi.declared'), num(s.declared), delta(s.declared, p.declared)),
    kpi('kpi-open', t('ind.kpi.open'), num(d.open.length), breached ? h('span', { class: 'ind-delta up' }, t('ind.kpi.breached', { n: breached })) : null),
    kpi('kpi-tta', t('ind.kpi.tta'), secs(s.time_to_ack.median_seconds), h('span', { class: 'muted small' }, `p90 ${secs(s.time_to_ack.p90_seconds)}`)),
    kpi('kpi-ttr', t('ind.kpi.ttr'), secs(s.time_to_resolve.median_seconds), h('span', { class: 'muted small' }, `p90 ${secs(s.time_to_resolve.p90_seconds)}`)),
    kpi('kpi-sla', t('ind.kpi.sla'), pct(s.ack_sla.percent_within), h('span', { class: 'muted small' }, `${t('ind.kpi.resolveSla')} ${pct(s.resolve_sla.percent_within)}`)),
    kpi('kpi-ackrate', t('ind.kpi.ackRate'), pct(s.ack_rate), h('span', { class: 'muted small' }, t('ind.kpi.people', { n: num(s.recipients_acknowledged), of: num(s.recipients) }))),
    kpi('kpi-delivery', t('ind.kpi.delivery'), pct(s.delivery_success), h('span', { class: 'muted small' }, tn('messages', s.deliveries, { n: num(s.deliveries) }))),
    kpi('kpi-escalations', t('ind.kpi.escalations'), num(s.escalations), delta(s.escalations, p.escalations)));
}

function card(testid, title, ...children) {
  return h('section', { class: 'card ind-card', testid }, h('h2', {}, title), ...children);
}

function table(testid, head, rows) {
  // The wrapper scrolls sideways on a phone: it takes the focus, so a keyboard can scroll it too.
  return h('div', { class: 'ind-table-wrap', tabindex: '0', role: 'region', 'aria-label': t('ind.scrollTable') }, h('table', { class: 'ind-table', testid },
    h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}

function openCard(d) {
  const counts = h('p', { class: 'ind-chips' }, d.open_counts.map((c) => h('span', { class: 'ind-chip' }, priorityBadge(c.priority), ` ${t(`status.${c.status}`)} `, h('b', {}, num(c.count)))));
  const rows = d.open.map((o) => h('tr', { class: o.breached ? 'ind-breached' : '' },
    h('td', {}, priorityBadge(o.priority)),
    h('td', {}, tv() ? o.folio : h('a', { class: 'cell-link', href: `#/incidente/${encodeURIComponent(o.folio || o.id)}` }, o.folio)),
    h('td', { class: 'ind-title-cell' }, o.title),
    h('td', {}, t(`status.${o.status}`)),
    h('td', { class: 'sla', 'data-due': o.acknowledged_at ? '' : o.ack_by, 'data-done': o.acknowledged_at || '' }),
    h('td', { class: 'sla', 'data-due': o.resolve_by })));
  return card('ind-open', t('ind.open.title'),
    d.open.length ? [counts, table('ind-open-table', [t('priority'), t('ind.col.folio'), t('ind.col.title'), t('ind.col.status'), t('ind.col.ackDue'), t('ind.col.resolveDue')], rows)]
      : h('p', { class: 'muted', testid: 'ind-open-none' }, t('ind.open.none')));
}

function timeCard(d) {
  const ot = d.over_time;
  const dims = { priority: ot.by_priority, service: ot.by_service, cause: ot.by_cause };
  const series = dims[page.dim] || [];
  const colors = page.dim === 'priority' ? (k) => PRIORITY_COLORS[k] || '#5b636b' : (k, j) => PALETTE[j % PALETTE.length];
  const chart = chartBox((w) => stackedBars(w, ot.starts, series, { bucket: ot.bucket, tz: d.time_zone, label: t('ind.time.title'), colors }));
  const legend = h('ul', { class: 'ind-legend' }, series.map((x, j) => h('li', {}, svg('svg', { viewBox: '0 0 12 12', class: 'ind-swatch', 'aria-hidden': 'true' }, svg('rect', { width: 12, height: 12, rx: 3, fill: colors(x.key, j) })), x.key)));
  const switcher = tv() ? null : h('div', { class: 'ind-periods', role: 'group', 'aria-label': t('ind.time.by') }, Object.keys(dims).map((k) => h('button', {
    type: 'button', class: `btn btn-small${k === page.dim ? ' btn-primary' : ''}`, 'aria-pressed': String(k === page.dim), testid: `ind-dim-${k}`,
    onclick: () => { page.dim = k; fill(); },
  }, t(`ind.dim.${k}`))));
  return card('ind-time', t('ind.time.title'), h('p', { class: 'muted small' }, t(`ind.bucket.${ot.bucket}`, { tz: d.time_zone })), switcher, chart, legend);
}

function priorityCard(d) {
  const rows = d.by_priority.filter((r) => r.declared > 0 || !tv());
  const charted = d.by_priority.filter((r) => r.declared > 0);
  const bars = charted.length ? chartBox((w) => hbars(w, charted.map((r) => ({ label: r.priority, value: r.ack_sla.percent_within, color: PRIORITY_COLORS[r.priority] })), { label: t('ind.prio.chart'), testid: 'ind-chart-sla' })) : null;
  const trs = rows.map((r) => h('tr', {},
    h('td', {}, priorityBadge(r.priority)), h('td', {}, num(r.declared)),
    h('td', {}, secs(r.time_to_ack.median_seconds)), h('td', {}, secs(r.time_to_ack.p90_seconds)), h('td', {}, secs(r.ack_target_seconds)), h('td', {}, pct(r.ack_sla.percent_within)),
    h('td', {}, secs(r.time_to_resolve.median_seconds)), h('td', {}, secs(r.time_to_resolve.p90_seconds)), h('td', {}, secs(r.resolve_target_seconds)), h('td', {}, pct(r.resolve_sla.percent_within))));
  return card('ind-priority', t('ind.prio.title'), h('p', { class: 'muted small' }, t('ind.prio.chart')), bars,
    table('ind-priority-table', [t('priority'), t('ind.col.declared'), t('ind.col.ttaMed'), t('ind.col.ttaP90'), t('ind.col.ackTarget'), t('ind.col.ackSla'),
      t('ind.col.ttrMed'), t('ind.col.ttrP90'), t('ind.col.resolveTarget'), t('ind.col.resolveSla')], trs));
}

function teamCard(d) {
  const rows = d.by_team;
  if (!rows.length) return card('ind-teams', t('ind.team.title'), h('p', { class: 'muted' }, t('ind.none')));
  const bars = chartBox((w) => hbars(w, rows.map((r, j) => ({ label: teamName(r.team), value: r.ack_rate, color: PALETTE[j % PALETTE.length] })), { label: t('ind.team.chart'), testid: 'ind-chart-teams' }));
  const trs = rows.map((r) => h('tr', {}, h('td', {}, teamName(r.team)), h('td', {}, num(r.incidents)), h('td', {}, `${num(r.acknowledged)} / ${num(r.recipients)}`),
    h('td', {}, pct(r.ack_rate)), h('td', {}, secs(r.time_to_first_ack.median_seconds)), h('td', {}, secs(r.time_to_first_ack.p90_seconds)), h('td', {}, pct(r.ack_sla.percent_within))));
  return card('ind-teams', t('ind.team.title'), h('p', { class: 'muted small' }, t('ind.team.chart')), bars,
    table('ind-team-table', [t('ind.col.team'), t('ind.col.incidents'), t('ind.col.people'), t('ind.col.ackRate'), t('ind.col.firstMed'), t('ind.col.firstP90'), t('ind.col.ackSla')], trs));
}

// siteCard is the figures of the incidents declared to each site (a city counts at each
// of its sites): how many, who acknowledged, and the times against the SLA.
function siteCard(d) {
  const rows = d.by_site || [];
  if (!rows.length) return card('ind-sites', t('ind.site.title'), h('p', { class: 'muted', testid: 'ind-sites-none' }, t('ind.none')));
  const name = (r) => r.name || r.site;
  const bars = chartBox((w) => hbars(w, rows.map((r, j) => ({ label: name(r), value: r.ack_sla.percent_within, color: PALETTE[j % PALETTE.length] })), { label: t('ind.site.chart'), testid: 'ind-chart-sites' }));
  const trs = rows.map((r) => h('tr', { testid: 'ind-site-row', 'data-site': r.site },
    h('td', {}, name(r), r.city ? h('span', { class: 'muted small' }, ` · ${r.city}`) : null), h('td', {}, num(r.incidents)), h('td', {}, `${num(r.acknowledged)} / ${num(r.recipients)}`),
    h('td', {}, pct(r.ack_rate)), h('td', {}, secs(r.time_to_ack.median_seconds)), h('td', {}, pct(r.ack_sla.percent_within)),
    h('td', {}, secs(r.time_to_resolve.median_seconds)), h('td', {}, pct(r.resolve_sla.percent_within))));
  return card('ind-sites', t('ind.site.title'), h('p', { class: 'muted small' }, t('ind.site.chart')), bars,
    table('ind-site-table', [t('ind.col.site'), t('ind.col.incidents'), t('ind.col.people'), t('ind.col.ackRate'), t('ind.col.ttaMed'), t('ind.col.ackSla'),
      t('ind.col.ttrMed'), t('ind.col.resolveSla')], trs));
}

// scopeNote tells a viewer limited to teams and sites that the figures are theirs only.
function scopeNote() {
  const sc = state.me?.scope;
  const ids = [...(sc?.teams || []).map((id) => teamName(id)), ...(sc?.sites || []).map((id) => state.meta?.sites?.find((x) => x.id === id)?.name || id)];
  if (!ids.length || state.me?.role === 'admin') return null;
  return h('p', { class: 'alert ind-scope', role: 'note', testid: 'ind-scope' }, t('ind.scoped', { what: ids.join(' · ') }));
}

function channelCard(d) {
  const rows = d.channels;
  if (!rows.length) return card('ind-channels', t('ind.chan.title'), h('p', { class: 'muted' }, t('ind.none')));
  const trs = rows.map((r) => h('tr', {}, h('td', {}, chanName(r.channel)), h('td', {}, num(r.total)), h('td', {}, num(r.sent)), h('td', {}, num(r.delivered)),
    h('td', {}, num(r.failed)), h('td', {}, num(r.pending)), h('td', {}, pct(r.success)), h('td', {}, secs(r.delivery_latency.median_seconds)), h('td', {}, secs(r.provider_latency.median_seconds))));
  return card('ind-channels', t('ind.chan.title'),
    chartBox((w) => hbars(w, rows.map((r) => ({ label: chanName(r.channel), value: r.success, color: '#1b6e32' })), { label: t('ind.chan.chart'), testid: 'ind-chart-channels' })),
    table('ind-channel-table', [t('ind.col.channel'), t('ind.col.total'), t('ind.col.sent'), t('ind.col.delivered'), t('ind.col.failed'), t('ind.col.pending'), t('ind.col.success'),
      t('ind.col.latency'), t('ind.col.provider')], trs));
}

function downloads() {
  const q = query();
  return card('ind-downloads', t('ind.csv.title'), h('ul', { class: 'ind-csv' }, TABLES.map((name) => h('li', {},
    h('a', { href: new URL(`indicators/${name}.csv?${q}`, API_BASE).href, download: '', testid: `ind-csv-${name}` }, t(`ind.csv.${name}`))))));
}

// ---------------------------------------------------------------- clocks

// tickIndicators refreshes the SLA countdowns of the open incidents each second.
export function tickIndicators() {
  const root = page.root;
  if (!root || !root.isConnected) return;
  const now = Date.now();
  // The period slides with the clock: fetch once a minute even when nothing happens.
  if (!page.inflight && page.last && now - page.last > STALE_MS) refresh();
  for (const el of root.querySelectorAll('td[data-due]')) {
    el.classList.remove('sla-late', 'sla-soon', 'sla-ok');
    if (el.dataset.done) { el.textContent = t('ind.acked'); el.classList.add('sla-ok'); continue; }
    const due = Date.parse(el.dataset.due);
    if (!Number.isFinite(due)) { el.textContent = '—'; continue; }
    if (due <= now) {
      el.textContent = t('ind.late', { d: fmtDuration(now - due) });
      el.classList.add('sla-late');
    } else {
      el.textContent = fmtCountdown(due - now);
      if (due - now < 15 * 60000) el.classList.add('sla-soon');
    }
  }
}

// ---------------------------------------------------------------- canary

// The canary (the scheduled end-to-end test alert) is for managers: others see no card.
// Its texts live here, to keep the card in one place.
const CANARY_TEXT = {
  es: {
    title: 'Alerta de prueba (canario)', off: 'Desactivada: configura canary en el archivo de configuración.',
    none: 'Todavía no se ha ejecutado.', passed: 'Pasó', failed: 'Falló', running: 'En curso',
    when: 'Última: {time}', timings: 'Aceptada en {a} · entregada en {d}', paged: 'Se avisó al equipo de continuidad.',
  },
  en: {
    title: 'Test alert (canary)', off: 'Off: configure canary in the configuration file.',
    none: 'It has not run yet.', passed: 'Passed', failed: 'Failed', running: 'Running',
    when: 'Last: {time}', timings: 'Accepted in {a} · delivered in {d}', paged: 'The continuity team was paged.',
  },
};

function ct(key, vars) {
  let s = (CANARY_TEXT[state.lang] || CANARY_TEXT.es)[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

async function fetchCanary() {
  if (!can('manager')) return null;
  try { return await api('GET', 'canary?limit=1'); } catch { return null; }
}

function canaryCard(c) {
  const run = c.runs?.[0];
  let body;
  if (!c.enabled && !run) body = [h('p', { class: 'muted' }, ct('off'))];
  else if (!run) body = [h('p', { class: 'muted' }, ct('none'))];
  else {
    body = [
      h('p', { class: 'ind-canary-line' },
        h('span', { class: `ind-canary-status ind-canary-${run.status}`, testid: 'ind-canary-status' }, ct(run.status)),
        ' ', h('span', { class: 'muted small' }, ct('when', { time: fmtTime(run.started_at) }))),
    ];
    if (run.accepted_seconds != null || run.delivered_seconds != null) {
      body.push(h('p', { class: 'small', testid: 'ind-canary-timings' }, ct('timings', { a: secs(run.accepted_seconds), d: secs(run.delivered_seconds) })));
    }
    if (run.status === 'failed') {
      body.push(h('p', { class: 'alert alert-error small', testid: 'ind-canary-reason' }, clip(run.reason || '', 200)));
      if (run.paged_incident_id) body.push(h('p', { class: 'muted small' }, ct('paged')));
    }
  }
  return card('ind-canary', ct('title'), ...body);
}
