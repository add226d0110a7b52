// OPTIMUM BCP web app: alerts from monitoring waiting for a human (proposals). They sit at
// the top of the board for responders, who declare the crisis from one or dismiss it with
// a reason; nobody is paged before that. The list comes from GET /api/v1/proposals and is
// kept current by the stream's proposal.* frames.
import { t, h, api, errorText, can, fmtTime } from './core.js';
// Its strings are in i18n.js (prop.*).

const prop = { list: new Map(), el: null, busy: '', errors: new Map(), reasons: new Map() };

const waiting = (p) => p.status === 'open' || p.status === 'confirming';

// proposalsSection is the board's section; it fills itself.
export function proposalsSection() {
  prop.el = h('section', { class: 'proposals', testid: 'proposals', hidden: true, 'aria-labelledby': 'proposals-title' });
  draw();
  loadProposals();
  return prop.el;
}

// loadProposals fetches the open proposals (on the board, and when the stream resumes).
// loads orders the list's loads with the stream: the board loads the list when it opens
// and again when the stream is ready, and an answer may come after a frame that is newer
// than it (or after a newer answer). A list answer older than one already shown is
// dropped, and the frames that came while it was on its way are applied again on top of
// it, so a proposal announced in between never vanishes from the board.
const loads = { next: 0, applied: 0, inFlight: 0, frames: [] };

export async function loadProposals() {
  if (!can('responder')) return;
  const seq = ++loads.next;
  const from = loads.frames.length;
  loads.inFlight += 1;
  try {
    const list = await api('GET', 'proposals');
    if (seq < loads.applied) return;
    loads.applied = seq;
    const next = new Map(list.map((p) => [p.id, p]));
    for (const p of loads.frames.slice(from)) {
      const had = next.get(p.id);
      if (!had || !(Date.parse(had.updated_at) > Date.parse(p.updated_at))) next.set(p.id, p);
    }
    prop.list = next;
    draw();
  } catch { /* the stream keeps the board current; the next load retries */ } finally {
    loads.inFlight -= 1;
    if (loads.inFlight === 0) loads.frames = [];
  }
}

// proposalsFrame takes the stream's frames: a proposal.* frame carries the proposal.
export function proposalsFrame(ev) {
  const p = ev?.data?.proposal;
  if (!ev?.type?.startsWith('proposal.') || !p?.id) return;
  prop.list.set(p.id, p);
  if (loads.inFlight > 0) loads.frames.push(p);
  draw();
}

export function forgetProposals() {
  prop.list.clear();
  loads.frames = [];
  prop.errors.clear();
  prop.reasons.clear();
  prop.busy = '';
}

function draw() {
  if (!prop.el) return;
  const open = [...prop.list.values()].filter(waiting).sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
  prop.el.hidden = !can('responder') || open.length === 0;
  prop.el.replaceChildren(
    h('div', { class: 'page-head' },
      h('h2', { id: 'proposals-title' }, t('prop.title')),
      h('span', { class: 'count', testid: 'proposals-count' }, t('prop.count', { n: open.length }))),
    h('p', { class: 'muted' }, t('prop.lead')),
    h('ol', { class: 'board proposals-list' }, open.map(item)));
}

function item(p) {
  const reasonId = `prop-reason-${p.id}`;
  const reason = h('textarea', { id: reasonId, class: 'input', rows: '2', maxlength: '2000', testid: 'proposal-reason' });
  reason.value = prop.reasons.get(p.id) || '';
  reason.addEventListener('input', () => prop.reasons.set(p.id, reason.value));
  const err = prop.errors.get(p.id);
  return h('li', { class: 'item proposal', testid: 'proposal', 'data-id': p.id, 'data-status': p.status },
    h('h3', { class: 'item-title' }, p.title),
    h('p', { class: 'muted' }, [p.source, p.alert_name, p.severity].filter(Boolean).join(' · ')),
    h('p', {}, t('prop.alerts', { firing: p.firing, resolved: p.resolved }),
      p.all_resolved ? h('span', { class: 'tag', testid: 'proposal-resolved' }, ' ', t('prop.allResolved')) : null),
    h('p', { class: 'muted' }, t('prop.received', { time: fmtTime(p.updated_at) })),
    p.status === 'confirming' ? h('p', { class: 'muted' }, t('prop.confirming')) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-primary', testid: 'proposal-confirm', disabled: !!prop.busy,
        onclick: () => decide(p, 'confirm', {}) }, t('prop.confirm'))),
    h('label', { for: reasonId }, t('prop.reason')), reason,
    h('button', { type: 'button', class: 'btn', testid: 'proposal-dismiss', disabled: !!prop.busy,
      onclick: () => {
        if (!reason.value.trim()) {
          prop.errors.set(p.id, t('prop.reasonRequired'));
          draw();
          return;
        }
        decide(p, 'dismiss', { reason: reason.value });
      } }, t('prop.dismiss')),
    err ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'proposal-error' }, err) : null);
}

async function decide(p, what, body) {
  if (prop.busy) return;
  prop.busy = p.id;
  prop.errors.delete(p.id);
  draw();
  try {
    const got = await api('POST', `proposals/${encodeURIComponent(p.id)}/${what}`, { body });
    prop.list.set(got.id, got);
    prop.reasons.delete(p.id);
    if (what === 'confirm' && got.folio) window.location.hash = `#/incidente/${encodeURIComponent(got.folio)}`;
  } catch (e) {
    prop.errors.set(p.id, errorText(e));
  }
  prop.busy = '';
  draw();
}
