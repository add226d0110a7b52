// OPTIMUM BCP web app: the incident page, #/incidente/<id or folio>.
//
// It shows one incident as GET /api/v1/incidents/{id} answers it — the incident, its
// timeline (the events of the log) and its recipients with each channel's deliveries —
// and keeps it live from the app's one websocket: a frame carrying a snapshot of this
// incident updates the page at once; frames about acknowledgements and deliveries make
// it fetch the incident again, at most once a second (with a last fetch after the burst).

import {
  state, t, h, $, view, show, api, ProblemError, errorText, can, hooks, hashParts, nav,
  fmtDuration, fmtCountdown, fmtTime, priorityBadge, teamName, tn,
} from './core.js';
import { I18N } from './i18n.js';

// siteName is the directory's name of a site id, or what was declared (a city: "CDMX").
function siteName(id) {
  return (state.meta?.sites || []).find((x) => x.id === id)?.name || id;
}
import { escalationCard, escalationEventText, tickEscalation } from './escalation.js';
import { workPanel, workData, workSignature, similarPanel, similarSignature, workEventText, tickWork } from './work.js';
import { bridgeCard, bridgeSignature, bridgeEventText } from './bridge.js'; // bridge
import { teamChatsCard, teamChatsSignature } from './chat.js'; // team chats

const REFRESH_MS = 1000;
const CHANNELS = ['sms', 'voice', 'webpush', 'email'];
const STATUSES = ['delivered', 'sent', 'sending', 'queued', 'undelivered', 'failed', 'cancelled'];
const CLOSED = new Set(['closed', 'cancelled']);
const DONE = new Set(['resolved', 'verified', 'closed', 'cancelled']);

const page = {
  key: null, // the id or folio in the address
  nav: -1, // the navigation it was loaded for
  data: null, // the incident with timeline and recipients
  error: null, // the problem of the last load, when there is no data to show
  status: 0, // its HTTP status
  inflight: false,
  again: false,
  timer: 0,
  last: 0, // when the last fetch started (ms)
  seq: 0, // bumps when the page changes incident, so late answers are dropped
  acking: false,
  ackError: null,
  els: null, // {root, slots: {name: {el, sig}}}
};

// incidentKey is the id or folio of the address #/incidente/<key>, or null.
export function incidentKey() {
  const m = /^(?:incidente|incident)\/(.+)$/.exec(hashParts().path);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return m[1]; }
}

// incidentHref is the address of an incident's page.
export function incidentHref(inc) {
  return `#/incidente/${encodeURIComponent(inc.folio || inc.id)}`;
}

export function forgetIncident() {
  clearTimeout(page.timer);
  Object.assign(page, {
    key: null, nav: -1, data: null, error: null, status: 0, inflight: false, again: false, timer: 0, last: 0,
    seq: page.seq + 1, acking: false, ackError: null, els: null,
  });
}

function matches(inc) {
  if (!inc || !page.key) return false;
  if (page.data) return inc.id === page.data.id;
  return inc.id === page.key || inc.folio === page.key;
}

function open() { return page.key != null && incidentKey() === page.key; }

// ---------------------------------------------------------------- loading

async function fetchNow() {
  clearTimeout(page.timer);
  page.timer = 0;
  if (!page.key || !state.me) return;
  page.inflight = true;
  page.last = Date.now();
  const seq = page.seq;
  const key = page.data?.id || page.key;
  try {
    const data = await api('GET', `incidents/${encodeURIComponent(key)}`);
    if (seq !== page.seq) return;
    // An older answer never replaces a newer snapshot that came on the stream meanwhile.
    const known = Date.parse(page.data?.updated_at) || 0;
    const got = Date.parse(data?.updated_at) || 0;
    page.data = got < known ? { ...data, ...pick(page.data) } : data;
    page.error = null;
    page.status = 200;
  } catch (err) {
    if (seq !== page.seq) return;
    if (err instanceof ProblemError && err.status === 401) return; // signed out
    page.status = err instanceof ProblemError ? err.status : 0;
    page.error = errorText(err);
  } finally {
    if (seq === page.seq) {
      page.inflight = false;
      if (page.again) {
        page.again = false;
        refresh();
      }
    }
  }
  if (seq === page.seq && open()) fill();
}

// refresh fetches the incident again: now if the last fetch is a second old, else once
// the second is up; requests meanwhile fold into that one.
function refresh() {
  if (!page.key) return;
  if (page.inflight) {
    page.again = true;
    return;
  }
  if (page.timer) return;
  const wait = page.last + REFRESH_MS - Date.now();
  if (wait <= 0) fetchNow();
  else page.timer = setTimeout(fetchNow, wait);
}

// pick keeps the incident's own fields of a snapshot (no timeline, no recipients).
function pick(inc) {
  const { timeline, recipients, ...rest } = inc || {};
  return rest;
}

// incidentFrame takes every frame of the stream while the page is open.
export function incidentFrame(ev) {
  if (!open()) return;
  const inc = ev.incident;
  if (inc && inc.id) {
    if (!matches(inc)) return;
    if (page.data && (Date.parse(inc.updated_at) || 0) >= (Date.parse(page.data.updated_at) || 0)) {
      page.data = { ...page.data, ...pick(inc) };
      fill();
    }
    refresh(); // the timeline and the recipients changed too
    return;
  }
  if (ev.type === 'incident.deliveries_progress' || ev.type === 'incident.delivery_updated' || ev.type === 'incident.acknowledged') {
    // These frames carry no incident; when one names its incident, others are skipped.
    const target = ev.data?.incident_id;
    if (typeof target === 'string' && page.data && target !== page.data.id) return;
    refresh();
  }
}

// incidentStreamResumed fetches again after the stream was down (the frames it missed
// are replayed too, but the fetch also covers a server that lost its log).
export function incidentStreamResumed() {
  if (open() && page.data) refresh();
}

// ---------------------------------------------------------------- acknowledging

function myPersonId() { return state.me ? (state.me.person_id || state.me.id) : null; }

function mine(inc) {
  if (!inc) return false;
  if (state.mine.has(inc.id)) return true;
  const me = myPersonId();
  return (inc.recipients || []).some((r) => r.person_id === me && r.acknowledged_at);
}

async function acknowledge(safety) {
  const inc = page.data;
  if (!inc || page.acking) return;
  page.acking = true;
  page.ackError = null;
  fill();
  const seq = page.seq;
  try {
    const got = await api('POST', `incidents/${encodeURIComponent(inc.id)}/ack`, safety ? { body: { safety } } : undefined);
    hooks.acked(got && got.id ? got : { id: inc.id });
    if (seq === page.seq && page.data && got && got.id === page.data.id) page.data = { ...page.data, ...pick(got) };
  } catch (err) {
    if (seq === page.seq) page.ackError = errorText(err);
  } finally {
    if (seq === page.seq) page.acking = false;
  }
  if (seq !== page.seq) return;
  refresh();
  if (open()) {
    fill();
    $('[data-testid="incident-ack"]', view())?.focus();
  }
}

// ---------------------------------------------------------------- rendering

// renderIncident draws the page; it loads the incident when the page is opened (or
// opened again) and only redraws it otherwise (a change of language).
export function renderIncident() {
  const key = incidentKey();
  if (key !== page.key) {
    forgetIncident();
    page.key = key;
  }
  if (page.nav !== nav.seq) {
    page.nav = nav.seq;
    page.last = 0;
    if (page.inflight) page.again = true;
    else {
      clearTimeout(page.timer);
      page.timer = 0;
      fetchNow();
    }
  }
  const slot = (name, testid) => {
    const el = h('div', { class: `inc-${name}`, testid });
    page.els.slots[name] = { el, sig: null };
    return el;
  };
  page.els = { root: null, slots: {} };
  const root = h('section', { class: 'page page-wide incident', testid: 'incident', 'aria-busy': 'true' },
    h('a', { class: 'back', href: '#/tablero', testid: 'incident-back' }, t('inc.back')),
    slot('head', 'incident-head'),
    // First what the alerted person needs: what happened, where, the message, their own
    // buttons and the deadlines. Then the management, under "Gestionar".
    h('div', { class: 'inc-lead' },
      slot('facts', 'incident-facts'),
      slot('sla', 'incident-sla'),
      slot('help', 'incident-help'),
      slot('bridge', 'incident-bridge')),
    h('section', { class: 'inc-manage', testid: 'incident-manage', 'aria-labelledby': 'inc-manage-title' },
      h('h2', { id: 'inc-manage-title', class: 'inc-manage-title' }, t('inc.manage')),
      h('div', { class: 'inc-grid' },
        h('div', { class: 'inc-main' },
          slot('details', 'incident-details'),
          slot('work', 'incident-work'),
          slot('recipients', 'incident-recipients'),
          slot('chats', 'incident-chats')),
        h('div', { class: 'inc-side' },
          slot('escalation', 'incident-escalation'),
          slot('timeline', 'incident-timeline'),
          slot('similar', 'incident-similar')))));
  page.els.root = root;
  show(root);
  fill();
}

function fill() {
  const els = page.els;
  if (!els || !els.root.isConnected) return;
  const inc = page.data;
  const root = els.root;
  root.dataset.state = inc ? 'ready' : page.error ? 'error' : 'loading';
  root.dataset.id = inc?.id || '';
  root.dataset.folio = inc?.folio || '';
  root.setAttribute('aria-busy', inc || page.error ? 'false' : 'true');
  if (!inc) {
    put('head', [page.error, state.lang], () => page.error
      ? [h('h1', {}, t('inc.error')), h('p', { class: 'alert alert-error', role: 'alert', testid: 'incident-error' }, page.error)]
      : h('p', { class: 'loading' }, t('loading')));
    for (const name of ['facts', 'details', 'help', 'bridge', 'recipients', 'chats', 'sla', 'escalation', 'timeline', 'work', 'similar']) put(name, [], () => null);
    return;
  }
  root.classList.toggle('incident-drill', !!inc.drill);
  const first = els.slots.head.el.querySelector('h1') == null;
  put('head', [inc.folio, inc.priority, inc.status, inc.title, inc.drill, state.lang], () => head(inc));
  put('facts', [inc.description, inc.services, inc.causes, inc.location, inc.teams, inc.reporter, inc.created_at,
    inc.impact, inc.urgency, inc.messages, state.lang], () => facts(inc));
  put('details', [inc.services, inc.causes, inc.location, inc.teams, inc.sites, inc.reporter, inc.created_at, inc.impact, inc.urgency, state.lang], () => details(inc));
  put('sla', [inc.sla, inc.acknowledged_at, inc.status, inc.ack_count, inc.audience, mine(inc), page.acking,
    page.ackError, state.me?.role, state.lang, inc.safety_poll, inc.safety, myAnswer(inc)], () => slaCard(inc));
  put('recipients', [inc.recipients, state.lang], () => recipients(inc));
  put('help', [inc.safety_poll, needHelp(inc).map((r) => [r.person_id, r.name, r.safety_at, phones.get(r.person_id)]), state.lang], () => helpCard(inc));
  put('bridge', [bridgeSignature(inc), state.lang], () => bridgeCard(inc, () => { if (open()) fill(); }, (got) => {
    if (got && got.id === page.data?.id) page.data = { ...page.data, ...pick(got) };
    refresh();
  }));
  put('chats', teamChatsSignature(inc), () => teamChatsCard(inc, () => { if (open()) fill(); }));
  put('escalation', [inc.escalation, inc.status, state.me?.role, state.lang], () => escalationCard(inc, refresh));
  put('timeline', [inc.timeline, inc.recipients?.map((r) => [r.person_id, r.name]), state.lang], () => timeline(inc));
  workData(inc, () => { if (open()) fill(); });
  put('work', workSignature(inc), () => workPanel(inc, {
    redraw: () => { if (open()) fill(); },
    reload: (got) => {
      if (got && got.id === page.data?.id) page.data = { ...page.data, ...pick(got) };
      refresh();
      if (open()) fill();
    },
  }));
  put('similar', similarSignature(), () => similarPanel());
  tickIncident();
  // The page opened while loading: once the incident is there, start at its title.
  const active = document.activeElement;
  if (first && (!active || active === document.body || active === view())) {
    const h1 = els.slots.head.el.querySelector('h1');
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
}

// put redraws a part of the page when what it shows changed.
function put(name, deps, build) {
  const s = page.els.slots[name];
  const sig = JSON.stringify(deps);
  if (s.sig === sig) return;
  s.sig = sig;
  const out = build();
  s.el.replaceChildren(...[out].flat(Infinity).filter(Boolean));
}

function head(inc) {
  return [
    inc.drill ? h('p', { class: 'drill-banner', testid: 'incident-drill' }, h('span', { class: 'tag tag-drill' }, t('drill')), ' ', t('inc.drillNote')) : null,
    h('p', { class: 'inc-badges' },
      priorityBadge(inc.priority, 'incident-priority'),
      h('span', { class: 'inc-folio', testid: 'incident-folio' }, inc.folio || ''),
      h('span', { class: `status status-${inc.status}`, testid: 'incident-status' }, t(`status.${inc.status}`))),
    h('h1', { class: 'inc-title', testid: 'incident-title' }, inc.title || inc.folio || ''),
  ];
}

// facts is what happened, where, and what the alerted are told: the top of the page.
function facts(inc) {
  const message = inc.messages?.[state.lang] || inc.messages?.es || inc.messages?.en || '';
  return h('section', { class: 'card inc-facts-card', 'aria-labelledby': 'inc-facts-title' },
    h('h2', { id: 'inc-facts-title', class: 'sr-only' }, t('inc.facts')),
    inc.location ? h('p', { class: 'inc-where', testid: 'incident-where' }, h('span', { class: 'inc-where-label' }, `${t('f.location')} `), inc.location) : null,
    message ? h('blockquote', { class: 'inc-message', testid: 'incident-message' }, message) : null,
    inc.description ? h('p', { class: 'inc-description', testid: 'incident-description' }, inc.description) : null,
    !inc.location && !message && !inc.description ? h('p', { class: 'muted' }, t('inc.noFacts')) : null);
}

// details are the incident's classification and bookkeeping, for those who manage it.
function details(inc) {
  const row = (label, testid, ...value) => [h('dt', {}, label), h('dd', { testid }, ...value)];
  const list = (xs) => (Array.isArray(xs) ? xs.filter(Boolean) : []);
  const services = list(inc.services);
  const causes = list(inc.causes);
  const teams = list(inc.teams);
  return h('section', { class: 'card inc-facts-card', 'aria-labelledby': 'inc-details-title' },
    h('h2', { id: 'inc-details-title' }, t('inc.details')),
    h('dl', { class: 'summary inc-dl' },
      row(t('inc.impact'), 'incident-impact', inc.impact ? t(`level.${inc.impact}`) : '—',
        inc.urgency ? h('span', { class: 'muted' }, ` · ${t('inc.urgency')}: ${t(`level.${inc.urgency}`)}`) : null),
      inc.location ? row(t('f.location'), 'incident-location', inc.location) : null,
      services.length ? row(t('f.services'), 'incident-services', chips(services)) : null,
      causes.length ? row(t('f.causes'), 'incident-causes', chips(causes)) : null,
      teams.length ? row(t('inc.teams'), 'incident-teams', chips(teams.map(teamName))) : null,
      list(inc.sites).length ? row(t('item.sites'), 'incident-sites', chips(list(inc.sites).map(siteName))) : null,
      row(t('item.reporter'), 'incident-reporter', inc.reporter?.name || inc.reporter?.id || '—'),
      row(t('inc.created'), 'incident-created', fmtTime(inc.created_at), ' ',
        h('span', { class: 'muted', 'data-since': inc.created_at || '' }))));
}

function chips(xs) {
  return h('ul', { class: 'chips' }, xs.map((x) => h('li', { class: 'chip' }, x)));
}

function slaCard(inc) {
  const total = Number.isFinite(inc.audience) && inc.audience > 0 ? inc.audience : null;
  const n = Number.isFinite(inc.ack_count) ? inc.ack_count : 0;
  const acked = mine(inc);
  // Responders acknowledge any incident; anyone else (a reporter in a safety poll's
  // audience) the ones sent to them: the server then lists their own row.
  const sentToMe = !!state.me?.person_id && (inc.recipients || []).some((r) => r.person_id === state.me.person_id);
  const canAck = (can('responder') || sentToMe) && !CLOSED.has(inc.status);
  return h('section', { class: 'card inc-sla-card', 'aria-labelledby': 'inc-sla-title' },
    h('h2', { id: 'inc-sla-title' }, t('inc.sla')),
    page.ackError ? h('p', { class: 'field-error', role: 'alert', testid: 'incident-ack-error' }, page.ackError) : null,
    canAck && inc.safety_poll && state.me?.person_id ? pollButtons(inc) : null,
    canAck && !(inc.safety_poll && state.me?.person_id) ? h('button', {
      type: 'button', class: `btn btn-block btn-big ${acked ? 'btn-done' : 'btn-primary'}`, testid: 'incident-ack',
      disabled: acked || page.acking, 'data-acked': acked ? 'true' : 'false', 'aria-pressed': acked ? 'true' : 'false',
      onclick: () => acknowledge(),
    }, acked ? `✓ ${t('item.ackDone')}` : page.acking ? t('item.acking') : t('item.ack')) : null,
    h('dl', { class: 'inc-deadlines' },
      h('dt', {}, t('inc.sla.ack')),
      h('dd', {
        class: 'sla', testid: 'incident-sla-ack', 'data-due': inc.sla?.ack_by || '', 'data-done': inc.acknowledged_at || '', 'data-kind': 'ack',
      }),
      h('dt', {}, t('inc.sla.resolve')),
      h('dd', {
        class: 'sla', testid: 'incident-sla-resolve', 'data-due': inc.sla?.resolve_by || '', 'data-done': DONE.has(inc.status) ? (inc.updated_at || 'done') : '', 'data-kind': 'resolve',
      })),
    h('p', { class: 'inc-acks', testid: 'incident-acks' }, total ? t('item.acksOf', { n, total }) : t('item.acks', { n })),
    inc.safety_poll ? safetyLine(inc) : null);
}

// pollButtons answer the safety poll for the signed-in person: either answer also
// acknowledges. The current answer is pressed; it can be changed.
function myAnswer(inc) {
  const me = myPersonId();
  return (inc.recipients || []).find((r) => r.person_id === me)?.safety || '';
}

function pollButtons(inc) {
  const mineNow = myAnswer(inc);
  const button = (answer, cls) => h('button', {
    type: 'button', class: `btn btn-block btn-big ${cls}`, testid: `incident-answer-${answer}`,
    disabled: page.acking, 'aria-pressed': mineNow === answer ? 'true' : 'false',
    onclick: () => acknowledge(answer),
  }, `${mineNow === answer ? '✓ ' : ''}${t(`safety.answer.${answer}`)}`);
  return h('div', { class: 'poll-buttons', role: 'group', 'aria-label': t('safety.question') },
    h('p', { class: 'poll-question' }, t('safety.question')),
    button('safe', 'btn-primary'),
    button('help_needed', 'btn-danger'));
}

// ---------------------------------------------------------------- who needs help

// phones are the directory's phone numbers of people who asked for help (person id →
// number, '' when none, null while asked), for a tap-to-call link.
const phones = new Map();

function needHelp(inc) {
  return (inc.recipients || []).filter((r) => r.safety === 'help_needed')
    .sort((a, b) => (Date.parse(a.safety_at) || 0) - (Date.parse(b.safety_at) || 0));
}

function lookUpPhone(id) {
  if (phones.has(id) || !can('responder')) return;
  phones.set(id, null);
  api('GET', `people/${encodeURIComponent(id)}`)
    .then((p) => { phones.set(id, p?.phone || ''); })
    .catch(() => { phones.set(id, ''); })
    .finally(() => { if (open()) fill(); });
}

// helpCard lists who answered "Necesito ayuda", the first first, with the time of the
// answer and a link that calls them.
function helpCard(inc) {
  if (!inc.safety_poll) return null;
  const list = needHelp(inc);
  if (!list.length) return null;
  for (const r of list) lookUpPhone(r.person_id);
  return h('section', { class: 'card help-card', testid: 'help-list', 'aria-labelledby': 'inc-help-title' },
    h('h2', { id: 'inc-help-title' }, t('help.title'), ' ', h('span', { class: 'help-n' }, `(${list.length})`)),
    h('ul', { class: 'help-people' }, list.map((r) => {
      const phone = phones.get(r.person_id);
      return h('li', { class: 'help-person', testid: 'help-person', 'data-person-id': r.person_id },
        h('span', { class: 'help-name' }, r.name || r.person_id),
        h('span', { class: 'help-at muted', testid: 'help-at' }, r.safety_at ? t('help.at', { time: fmtTime(r.safety_at) }) : ''),
        phone ? h('a', { class: 'btn btn-danger help-call', href: `tel:${phone.replace(/[^+\d]/g, '')}`, testid: 'help-call' },
          t('help.call'), h('span', { class: 'sr-only' }, ` ${r.name || ''}`), ` ${phone}`) : null);
    })));
}

// safetyLine tells a poll's answers so far; people needing help stand out.
export function safetyLine(inc) {
  const safe = inc.safety?.safe || 0;
  const help = inc.safety?.help_needed || 0;
  return h('p', { class: 'item-safety', testid: 'item-safety', 'data-safe': String(safe), 'data-help': String(help) },
    h('span', { class: 'safe-count' }, tn('safety.safe', safe)),
    help ? h('strong', { class: 'help-count', role: 'status' }, tn('safety.help', help)) : null);
}

// ---------------------------------------------------------------- recipients

function label(key, fallback) {
  return key in I18N.es ? t(key) : fallback;
}

function chanName(c) { return label(`chan.${c}`, c || '?'); }
function statusName(s) { return label(`dst.${s}`, s || '?'); }
// countName is "1 enviado", "14 enviados": a count of deliveries in a status.
function countName(s, n) { return `dcount.${s}.one` in I18N.es ? tn(`dcount.${s}`, n) : `${n} ${s}`; }

// latest is the newest delivery of each channel of a recipient (the list comes oldest
// first), with how many there were.
function latest(r) {
  const out = new Map();
  for (const d of Array.isArray(r.deliveries) ? r.deliveries : []) {
    const prev = out.get(d.channel);
    out.set(d.channel, { d, all: [...(prev?.all || []), d] });
  }
  return out;
}

function channelsOf(list) {
  const seen = new Set();
  for (const r of list) for (const c of latest(r).keys()) seen.add(c);
  return [...CHANNELS.filter((c) => seen.has(c)), ...[...seen].filter((c) => !CHANNELS.includes(c)).sort()];
}

// summaryText: "5 de 12 confirmaron · SMS: 10 entregados, 1 fallido · Push: 4 enviados".
function summaryText(list, channels) {
  const acked = list.filter((r) => r.acknowledged_at).length;
  const parts = [t('rec.confirmed', { n: acked, total: list.length })];
  for (const c of channels) {
    const counts = new Map();
    for (const r of list) {
      const x = latest(r).get(c);
      if (x) counts.set(x.d.status, (counts.get(x.d.status) || 0) + 1);
    }
    const order = [...STATUSES.filter((s) => counts.has(s)), ...[...counts.keys()].filter((s) => !STATUSES.includes(s))];
    const words = order.map((s) => {
      const k = counts.get(s);
      return countName(s, k);
    });
    parts.push(`${chanName(c)}: ${words.join(', ')}`);
  }
  return parts.join(' · ');
}

function deliveryChip(c, x) {
  const { d, all } = x;
  const detail = [
    `${chanName(c)}: ${statusName(d.status)}`,
    d.at ? fmtTime(d.at) : '',
    d.attempts > 1 ? t('rec.attempts', { n: d.attempts }) : '',
    // sms2: the provider of each attempt (a failover shows "twilio → vonage").
    d.providers && d.providers.length ? t('rec.via', { p: d.providers.join(' → ') }) : '',
    all.length > 1 ? t('rec.messages', { n: all.length }) : '',
    d.error || '',
  ].filter(Boolean).join(' · ');
  return h('span', { class: 'dchip-wrap' },
    h('span', {
      class: `dchip dchip-${/^[a-z]+$/.test(d.status) ? d.status : 'other'}`, testid: 'delivery', 'data-channel': c, 'data-status': d.status, title: detail,
    },
    h('span', { class: 'sr-only' }, `${chanName(c)}: `),
    statusName(d.status),
    all.length > 1 ? h('span', { class: 'dchip-count' }, ` ×${all.length}`) : null),
    d.error ? h('span', { class: 'dchip-error', testid: 'delivery-error' }, d.error) : null);
}

function recipients(inc) {
  const list = Array.isArray(inc.recipients) ? inc.recipients : [];
  const channels = channelsOf(list);
  const heading = h('h2', { id: 'inc-rec-title', class: 'section-title' }, t('rec.title'));
  if (!list.length) {
    return h('section', { 'aria-labelledby': 'inc-rec-title' }, heading,
      h('p', { class: 'empty', testid: 'recipients-empty' }, t('rec.none')));
  }
  const acked = list.filter((r) => r.acknowledged_at).length;
  return h('section', { 'aria-labelledby': 'inc-rec-title' },
    heading,
    h('div', { class: 'rec-summary card' },
      h('p', { class: 'rec-summary-text', testid: 'recipients-summary', 'data-acked': String(acked), 'data-total': String(list.length) },
        summaryText(list, channels)),
      h('progress', { class: 'meter', max: String(list.length), value: String(acked), 'aria-hidden': 'true' }),
      channels.length ? null : h('p', { class: 'muted small', testid: 'recipients-nodeliveries' }, t('rec.noDeliveries'))),
    h('table', { class: 'dtable recipients', testid: 'recipients-table' },
      h('caption', { class: 'sr-only' }, t('rec.title')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('rec.person')),
        h('th', { scope: 'col' }, t('rec.ack')),
        channels.map((c) => h('th', { scope: 'col' }, chanName(c))))),
      h('tbody', {}, list.map((r) => {
        const by = latest(r);
        return h('tr', {
          class: r.acknowledged_at ? 'rec-acked' : 'rec-pending', testid: 'recipient-row',
          'data-person-id': r.person_id || '', 'data-acked': r.acknowledged_at ? 'true' : 'false',
        },
        h('td', { class: 'cell-name' }, h('strong', { testid: 'recipient-name' }, r.name || r.person_id || '')),
        h('td', { 'data-label': t('rec.ack'), testid: 'recipient-ack' },
          r.acknowledged_at
            ? h('span', { class: 'ack-yes' }, `✓ ${fmtTime(r.acknowledged_at)}`, r.ack_channel ? h('span', { class: 'ack-via', testid: 'recipient-ack-channel', 'data-channel': r.ack_channel }, ` · ${chanName(r.ack_channel)}`) : null)
            : h('span', { class: 'ack-no' }, t('rec.pending')),
          r.safety ? h('span', { class: `safety safety-${r.safety}`, testid: 'recipient-safety', 'data-safety': r.safety }, ` · ${t(`safety.answer.${r.safety}`)}`) : null),
        channels.map((c) => {
          const x = by.get(c);
          return h('td', { 'data-label': chanName(c), class: x ? 'cell-delivery' : 'cell-delivery cell-none', 'data-channel': c },
            x ? deliveryChip(c, x) : h('span', { class: 'muted', 'aria-label': t('rec.noMessage') }, '—'));
        }));
      }))));
}

// ---------------------------------------------------------------- timeline

function eventText(ev, names) {
  const esc = escalationEventText(ev);
  if (esc) return esc;
  const bridge = bridgeEventText(ev);
  if (bridge) return bridge;
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  const actor = ev.actor?.name || ev.actor?.id || '';
  switch (ev.type) {
    case 'incident.declared':
      return t('tl.declared', { actor: actor || '—' });
    case 'incident.acknowledged': {
      const name = d.name || names.get(d.person_id) || actor || '—';
      return d.channel ? t('tl.acknowledged', { name, via: label(`via.${d.channel}`, d.channel) }) : t('tl.acknowledged0', { name });
    }
    case 'incident.delivery_updated': {
      const name = names.get(d.person_id);
      const vars = { channel: chanName(d.channel), status: statusName(d.status), name };
      return name ? t('tl.delivery', vars) : t('tl.deliveryAnon', vars);
    }
    case 'incident.deliveries_progress': {
      // {channels: {sms: {delivered: 120, sent: 3}, …}}: one clause per channel.
      const chans = d.channels && typeof d.channels === 'object' ? d.channels : {};
      const parts = Object.keys(chans).sort().map((c) => {
        const by = chans[c] || {};
        const counts = STATUSES.filter((st) => by[st] > 0).map((st) => countName(st, by[st]));
        return `${chanName(c)}: ${counts.join(', ') || '0'}`;
      });
      return t('tl.progress', { counts: parts.join(' · ') || '—' });
    }
    default:
      if (workEventText(ev)) return workEventText(ev);
      return actor ? t('tl.otherBy', { type: ev.type || '?', actor }) : t('tl.other', { type: ev.type || '?' });
  }
}

function timeline(inc) {
  let events = Array.isArray(inc.timeline) ? [...inc.timeline] : [];
  // Newest first: what just happened is what a responder looks for.
  events.sort((a, b) => (b.id || 0) - (a.id || 0));
  // Delivery progress comes once a second while sending: only the newest one says how
  // things stand.
  const newestProgress = events.find((ev) => ev.type === 'incident.deliveries_progress');
  events = events.filter((ev) => ev.type !== 'incident.deliveries_progress' || ev === newestProgress);
  const names = new Map((inc.recipients || []).map((r) => [r.person_id, r.name]));
  const kind = (ev) => {
    if (ev.type === 'incident.declared') return 'tl-declared';
    if (ev.type === 'incident.acknowledged') return 'tl-ack';
    if (ev.type === 'incident.deliveries_progress') return 'tl-delivery tl-progress';
    if (ev.type !== 'incident.delivery_updated') return 'tl-other';
    const st = String(ev.data?.status || '');
    return `tl-delivery${/^[a-z]+$/.test(st) ? ` tl-st-${st}` : ''}`;
  };
  return h('section', { class: 'card inc-tl-card', 'aria-labelledby': 'inc-tl-title' },
    h('h2', { id: 'inc-tl-title' }, t('tl.title')),
    events.length ? h('ol', { class: 'timeline', testid: 'timeline' }, events.map((ev) => h('li', {
      class: `tl-item ${kind(ev)}`,
      testid: 'timeline-item', 'data-type': ev.type || '', 'data-id': String(ev.id ?? ''),
    },
    h('time', { class: 'tl-time', datetime: ev.at || '' }, fmtTime(ev.at)),
    h('span', { class: 'tl-text' }, eventText(ev, names)))))
      : h('p', { class: 'muted' }, t('tl.empty')));
}

// ---------------------------------------------------------------- clocks

// tickIncident refreshes the countdowns and relative times of the page each second.
export function tickIncident() {
  const root = page.els?.root;
  if (!root || !root.isConnected) return;
  tickWork(root);
  const now = Date.now();
  tickEscalation(root);
  for (const el of root.querySelectorAll('[data-since]')) {
    const ts = Date.parse(el.dataset.since);
    el.textContent = Number.isFinite(ts) ? `(${t('ago', { d: fmtDuration(now - ts) })})` : '';
  }
  for (const el of root.querySelectorAll('[data-due]')) {
    const due = Date.parse(el.dataset.due);
    const done = el.dataset.done;
    el.classList.remove('sla-late', 'sla-soon', 'sla-ok');
    if (done && el.dataset.kind === 'ack') {
      el.textContent = t('inc.ackedAt', { time: fmtTime(done) });
      el.classList.add('sla-ok');
    } else if (!Number.isFinite(due)) {
      el.textContent = '—';
    } else if (done) {
      el.textContent = t('inc.dueAt', { time: fmtTime(el.dataset.due) });
    } else if (due <= now) {
      el.textContent = t('inc.late', { time: fmtTime(el.dataset.due), late: fmtDuration(now - due) });
      el.classList.add('sla-late');
    } else {
      el.textContent = t('inc.due', { time: fmtTime(el.dataset.due), left: fmtCountdown(due - now) });
      if (due - now < 60000) el.classList.add('sla-soon');
    }
  }
}
