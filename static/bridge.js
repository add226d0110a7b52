// OPTIMUM BCP web app: the war-room bridge of an incident (incident/bridge.go) on the
// incident page — its number and PIN, who is on the call now, and for responders of a
// P1 or P2 incident the button that opens it. Its strings are in bridge-i18n.js.

import { t, h, api, can, errorText, fmtTime } from './core.js';

const side = { id: null, busy: false, error: '' };

// bridgeSignature is what the card depends on, for the page's redraws.
export function bridgeSignature(inc) {
  return [inc.id, inc.priority, inc.status, inc.bridge, side.busy, side.error, can('responder')];
}

// bridgeCard shows the bridge, or the button that opens it; reload takes the incident
// the API answers.
export function bridgeCard(inc, redraw, reload) {
  if (side.id !== inc.id) Object.assign(side, { id: inc.id, busy: false, error: '' });
  const b = inc.bridge;
  if (!b) {
    const closed = inc.status === 'closed' || inc.status === 'cancelled';
    if (closed || !can('responder') || (inc.priority !== 'P1' && inc.priority !== 'P2')) return null;
    const open = async () => {
      side.busy = true;
      side.error = '';
      redraw();
      try {
        reload(await api('POST', `incidents/${encodeURIComponent(inc.id)}/bridge`));
      } catch (err) {
        side.error = errorText(err);
      }
      side.busy = false;
      redraw();
    };
    return h('section', { class: 'card bridge-card', testid: 'bridge', 'aria-labelledby': 'inc-bridge-title' },
      h('h2', { id: 'inc-bridge-title' }, t('bridge.title')),
      h('p', { class: 'hint' }, t('bridge.openHint')),
      h('button', { class: 'btn', type: 'button', testid: 'bridge-open', disabled: side.busy, onclick: open }, side.busy ? t('bridge.opening') : t('bridge.open')),
      side.error ? h('p', { class: 'field-error', role: 'alert', testid: 'bridge-error' }, side.error) : null);
  }
  const on = Array.isArray(b.on_call) ? b.on_call : [];
  const tel = `tel:${String(b.number).replace(/[^+\d]/g, '')},,${String(b.pin).replace(/\D/g, '')}`;
  return h('section', { class: 'card bridge-card', testid: 'bridge', 'aria-labelledby': 'inc-bridge-title' },
    h('h2', { id: 'inc-bridge-title' }, t('bridge.title')),
    h('p', { testid: 'bridge-dial' }, t('bridge.dial', { number: b.number, pin: b.pin }), ' ',
      h('a', { class: 'btn', href: tel, testid: 'bridge-join' }, t('bridge.join'))),
    h('h3', {}, t('bridge.onCall', { n: on.length })),
    on.length ? h('ul', { class: 'bridge-people', testid: 'bridge-people' }, on.map((p) => h('li', { testid: 'bridge-person', 'data-person-id': p.person_id || '' },
      h('span', {}, p.name || p.person_id || '—'), ' ',
      h('span', { class: 'muted' }, t('bridge.since', { time: fmtTime(p.joined_at) })))))
      : h('p', { class: 'muted', testid: 'bridge-nobody' }, t('bridge.nobody')));
}

// bridgeEventText is the timeline's text of a bridge event, or null.
export function bridgeEventText(ev) {
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  switch (ev.type) {
    case 'incident.bridge_opened':
      return t('tl.bridgeOpened', { actor: ev.actor?.name || '—', pin: d.pin || '' });
    case 'incident.bridge_joined':
      return t('tl.bridgeJoined', { name: d.name || '—' });
    case 'incident.bridge_left':
      return t('tl.bridgeLeft', { name: d.name || '—' });
  }
  return null;
}
