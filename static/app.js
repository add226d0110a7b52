// OPTIMUM BCP web app: sign-in, "declare a crisis" and the live board; the entry point.
//
// Plain JavaScript ES modules with no build step and no dependencies: the server embeds
// the files as they are. Every user-visible string lives in I18N (i18n.js); the shared
// helpers are in core.js; the directory, readiness and profile pages in directory.js.
// Routing is by hash: #/tablero (default), #/incidente/<id or folio>, #/declarar,
// #/directorio…, #/perfil, #/login?token=… .
//
// The board is fed by GET /api/v1/incidents once and then by the websocket
// /api/v1/stream, resumed with ?since=<last event id> after any drop, so a
// reconnection loses nothing and repeats nothing.

import {
  LANGS, state, t, initialLang, saveLang, teamName, $, h, append, view, show, focusHeading,
  fmtDuration, fmtCountdown, fmtTime, priorityRank, priorityBadge, uuid, splitList,
  API_BASE, ProblemError, errorText, api, hooks, hashParams, hashParts, replaceHash, can, nav, tn, userName,
} from './core.js';
import { renderDirectory, renderProfile, reachPanel, reachLine, forgetDirectory, forgetReach } from './directory.js';
import { newCooldown, startCooldown, tickCooldown, stopCooldown, forgetAccount } from './account.js';
import { syncPush, forgetChannels, setPushTimeout } from './channels.js';
import { renderLadders, forgetLadders } from './ladders.js';
import { renderChat, forgetChat, forgetTeamChats } from './chat.js';
import { seedEscalation, noteEscalation, escalationLine, escalationSig, tickEscalation, forgetBoardEscalations } from './escalation.js';
import { scenarioTiles, scenarioTitle, similarWhileTyping, forgetDeclareWork, nextUpdateLine, tickWork } from './work.js';
import { renderDrills, drillFrame, forgetDrills } from './drills.js';
import { proposalsSection, proposalsFrame, loadProposals, forgetProposals } from './proposals.js';
import {
  renderIncident, incidentFrame, incidentStreamResumed, tickIncident, incidentKey, incidentHref, forgetIncident, safetyLine,
} from './incident.js';
import { wireMenu } from './menu.js';
import { attentionNew, attentionTitle, soundToggle } from './attention.js';
import { renderIndicators, indicatorsFrame, indicatorsRoute, tickIndicators, tvMode, forgetIndicators } from './indicators.js';

const LEVELS = ['critical', 'high', 'medium', 'low'];
const INACTIVE = new Set(['resolved', 'verified', 'closed', 'cancelled']);
const LIST_QUERY = 'incidents?status=declared,acknowledged,investigating,reopened&limit=100';
const TITLE_MAX = 200;
const FORM_FIELDS = ['title', 'description', 'location', 'services', 'causes', 'impact', 'urgency', 'teams', 'sites', 'drill', 'safety_poll', 'message_es', 'message_en'];
const FLASH_MS = 4000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
// A stream with no frame for this long is dead, whatever the socket says (a half-open
// connection after a change of network): the server sends stream.heartbeat at least
// every 15 s on an idle stream. The board then says "Sin conexión" and reconnects with
// since. The same bound applies to a connection that never opens.
const SILENCE_MS = 35000;
// Close codes of the server (broadcast/ws): the session ended (token revoked, user
// disabled); signing in again is the only way back.
const CLOSE_SESSION_ENDED = 4401;

const stream = {
  ws: null,
  url: '',
  lastId: null,
  attempt: 0,
  timer: 0,
  watchdog: 0,
  wanted: false,
  hold: false,
  live: false,
};

function setLang(lang) {
  if (!LANGS.includes(lang) || lang === state.lang) return;
  state.lang = lang;
  saveLang(lang);
  applyChrome();
  render();
}

function route() {
  const p = hashParts().path;
  if (p === 'declarar' || p === 'declare') return 'declarar';
  if (p === 'login') return 'login';
  if (p === 'directorio' || p.startsWith('directorio/')) return 'directorio';
  if (p === 'perfil') return 'perfil';
  if (p === 'escaleras' || p === 'ladders') return 'escaleras';
  if (p === 'chats' || p === 'chat') return 'chats';
  if (p === 'simulacros' || p.startsWith('simulacros/')) return 'simulacros';
  if (indicatorsRoute(p)) return 'indicadores';
  if (incidentKey()) return 'incidente';
  return 'tablero';
}

// ---------------------------------------------------------------- chrome (header, banners)

function applyChrome() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const b of document.querySelectorAll('.lang-btn')) b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  const session = $('[data-testid="session"]');
  session.hidden = !state.me;
  $('[data-testid="menu"]').hidden = !state.me;
  const who = $('[data-testid="who"]');
  who.textContent = state.me ? `${userName(state.me)}${state.me.role ? ` · ${t(`role.${state.me.role}`)}` : ''}` : '';
  who.title = t('nav.profile');
  const r = route();
  if (r === 'perfil') who.setAttribute('aria-current', 'page');
  else who.removeAttribute('aria-current');
  for (const a of document.querySelectorAll('.tab, .menu-link')) {
    a.hidden = !!a.dataset.role && !can(a.dataset.role);
    if (a.dataset.route === r || (r === 'incidente' && a.dataset.route === 'tablero')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function setLive(on) {
  stream.live = on;
  $('[data-testid="live"]').hidden = !on;
}

// showStale tells that what is shown is the offline copy, and since when; null hides it.
function showStale(since) {
  const el = $('[data-testid="stale"]');
  if (!el) return;
  const at = since ? Date.parse(since) : NaN;
  el.hidden = !since;
  document.documentElement.classList.toggle('is-stale', !!since);
  if (since) el.querySelector('[data-part="text"]').textContent = Number.isFinite(at) && at > 0 ? t('offline.since', { time: fmtTime(new Date(at).toISOString()) }) : t('offline.old');
}

// forgetOffline drops the offline copy of the person's data (at sign-out).
function forgetOffline() {
  if ('caches' in window) caches.delete('optimum-data-v1').catch(() => {});
}

function setReconnecting(on) {
  $('[data-testid="reconnecting"]').hidden = !on;
}

function setOffline(on) {
  $('[data-testid="offline"]').hidden = !on;
  if (on) setReconnecting(false);
}

// ---------------------------------------------------------------- session

async function boot() {
  if (state.booting) return;
  state.booting = true;
  try {
    show(h('p', { class: 'loading' }, t('loading')));
    try {
      state.me = await api('GET', 'me', { signin: true });
    } catch (err) {
      if (err instanceof ProblemError && err.status === 401) {
        state.me = null;
        await loadSignInOptions();
        applyChrome();
        renderSignIn();
        return;
      }
      throw err;
    }
    state.meta = normalizeMeta(await api('GET', 'meta'));
    if (route() === 'login') replaceHash('#/tablero');
    applyChrome();
    render();
    startBoard();
    // A subscription the browser renewed while no session was open reaches the server
    // now ("Mi perfil" does it itself, and says which browser is this one).
    if (route() !== 'perfil') syncPush();
  } catch (err) {
    state.me = null;
    state.meta = null;
    applyChrome();
    if (err instanceof ProblemError && err.status === 401) {
      renderSignIn();
      return;
    }
    show(h('section', { class: 'card narrow', testid: 'fatal' },
      h('h1', {}, t('error.load')),
      h('p', { class: 'error', role: 'alert' }, errorText(err)),
      h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: () => boot() }, t('retry'))));
  } finally {
    state.booting = false;
  }
}

function normalizeMeta(m) {
  const meta = m && typeof m === 'object' ? m : {};
  return {
    teams: Array.isArray(meta.teams) ? meta.teams : [],
    default_teams: Array.isArray(meta.default_teams) ? meta.default_teams : [],
    levels: Array.isArray(meta.levels) && meta.levels.length ? meta.levels : LEVELS,
    matrix: meta.matrix || {},
    sla: meta.sla || {},
    sites: Array.isArray(meta.sites) ? meta.sites : [],
  };
}

// refreshMeta fetches the teams and the matrix again when the declare page opens (the
// directory may have added or renamed teams since the app started), and redraws the
// form only when its teams changed and nobody is typing in it.
async function refreshMeta() {
  let meta;
  try { meta = normalizeMeta(await api('GET', 'meta')); } catch { return; }
  if (!state.me || !state.meta) return;
  const changed = JSON.stringify([meta.teams, meta.sites]) !== JSON.stringify([state.meta.teams, state.meta.sites]);
  state.meta = meta;
  if (!changed || route() !== 'declarar' || (state.declare && state.declare.step !== 'form')) return;
  const active = document.activeElement;
  if (active && active !== document.body && view().contains(active) && !active.matches('h1')) return;
  renderDeclare();
}

// signIn starts a session with {email, password} or {token}, then loads the app. From a
// deep link (an incident page) the app opens there; from #/login, on the board.
async function signIn(body) {
  await api('POST', 'session', { body, signin: true });
  stopCooldown(signin.cooldown);
  signin.password = '';
  if (route() === 'login') replaceHash('#/tablero');
  await boot();
}

// signedOut forgets everything the session showed and returns to the sign-in view, with
// message when there is one to give (why the session ended).
function signedOut(message) {
  resetSession();
  applyChrome();
  if (message) renderSignIn(message);
  else render();
  // A tab that opened signed in has not asked yet how one signs in here: ask, and
  // redraw the sign-in view with the providers' buttons.
  if (!signin.options) {
    loadSignInOptions().then(() => {
      if (!state.me && !state.booting && signin.options) renderSignIn(message);
    });
  }
}

// sessionEnded: the server no longer takes the session (its token was revoked, its user
// disabled, or it expired), whether the stream's close said so (4401) or an API call
// answered 401, for example while the board was reconnecting. The person is told why.
function sessionEnded() {
  signedOut(t('stream.sessionEnded'));
}

function resetSession() {
  stopStream();
  forgetDirectory();
  forgetLadders();
  forgetChat();
  forgetTeamChats();
  forgetBoardEscalations();
  forgetAccount();
  forgetChannels();
  forgetDrills();
  forgetProposals();
  forgetIncident();
  forgetIndicators();
  state.me = null;
  state.meta = null;
  state.board.clear();
  state.seen.clear();
  state.acks.clear();
  state.mine.clear();
  myAnswers.clear();
  state.itemErrors.clear();
  state.flash.clear();
  state.listLoaded = false;
  state.listError = null;
  state.declare = null;
  stream.lastId = null;
}

// loginWithLink signs in with the token of a #/login?token=… link, taking the token out of
// the address bar and the history first. False when the address holds no such link.
async function loginWithLink() {
  if (route() !== 'login') return false;
  const token = hashParams().get('token');
  if (!token) return false;
  replaceHash('#/login');
  if (state.me) resetSession();
  applyChrome();
  show(h('p', { class: 'loading' }, t('signin.link')));
  try {
    await signIn({ token });
  } catch (err) {
    state.me = null;
    signin.mode = 'token';
    applyChrome();
    renderSignIn(signInError(err));
  }
  return true;
}

async function signOut() {
  let bye = null;
  try { bye = await api('DELETE', 'session', { signin: true }); } catch { /* the cookie may already be gone */ }
  forgetOffline();
  signedOut();
  // A single sign-on session ends at the provider too, which sends the browser back here.
  if (bye && typeof bye.logout_url === 'string' && /^https?:\/\//.test(bye.logout_url)) location.assign(bye.logout_url);
}

// The sign-in view: email and password first, an access token as the other way in. What
// was typed in the email survives a redraw (a change of language); a 429 disables the
// button for as long as the server asks, with a countdown.
const signin = {
  mode: 'password', // or 'token'
  email: '',
  password: '',
  // How one may sign in here (GET /api/v1/sign-in-options): the password form, and a
  // button per single sign-on provider. Until it is known, the password form shows.
  options: null,
  cooldown: newCooldown(() => ({
    button: $('[data-testid="signin-submit"]', view()),
    message: $('[data-testid="signin-error"]', view()),
  })),
};

// signInError is the message for a failed sign-in: the server's own words, or the
// countdown of a 429 (then null: the countdown draws itself).
function signInError(err) {
  if (startCooldown(signin.cooldown, err)) return null;
  return errorText(err);
}

// loadSignInOptions asks once how one may sign in here; without an answer the page
// offers the password form, as before single sign-on.
async function loadSignInOptions() {
  if (signin.options) return;
  try {
    const o = await api('GET', 'sign-in-options', { signin: true });
    signin.options = { password: o.password !== false, providers: Array.isArray(o.providers) ? o.providers : [] };
  } catch { /* an older server, or offline: the password form */ }
}

// ssoButtons are the links to each single sign-on provider (a full navigation: the
// provider's page, then back to /sso/<id>/callback, which opens the board).
function ssoButtons() {
  const providers = signin.options?.providers || [];
  if (!providers.length) return null;
  return h('div', { class: 'stack sso-providers', testid: 'sso-providers' },
    providers.map((p) => h('a', {
      class: 'btn btn-primary btn-block', href: p.start, testid: `sso-${p.id}`,
    }, t('signin.with', { name: p.name?.[state.lang] || p.name?.es || p.id }))));
}

function renderSignIn(message) {
  const passwordOn = signin.options?.password !== false;
  const pw = signin.mode === 'password';
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert', testid: 'signin-error', hidden: !message }, message || '');
  const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'signin-submit' }, t('signin.submit'));
  const input = (props) => h('input', {
    class: 'input', required: true, autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': 'signin-error', ...props,
  });
  let inputs;
  if (pw) {
    const email = input({ id: 'email', name: 'email', type: 'email', inputmode: 'email', autocomplete: 'username', testid: 'signin-email', oninput: (e) => { signin.email = e.target.value; } });
    email.value = signin.email;
    const password = input({ id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', testid: 'signin-password', oninput: (e) => { signin.password = e.target.value; } });
    password.value = signin.password;
    inputs = { email, password };
  } else {
    inputs = { token: input({ id: 'token', name: 'token', type: 'password', autocomplete: 'off', testid: 'token-input' }) };
  }
  const fields = Object.values(inputs);
  const fail = (text, el) => {
    err.textContent = text;
    err.hidden = false;
    for (const f of fields) f.removeAttribute('aria-invalid');
    for (const f of el ? [el] : fields) f.setAttribute('aria-invalid', 'true');
    (el || fields[fields.length - 1]).focus();
    if (!el && pw) inputs.password.select();
  };
  const form = h('form', {
    class: 'stack', novalidate: true, testid: 'signin-form', 'data-mode': signin.mode,
    onsubmit: async (e) => {
      e.preventDefault();
      if (btn.disabled) return;
      let body;
      if (pw) {
        const email = inputs.email.value.trim();
        const password = inputs.password.value;
        if (!email) return fail(t('signin.emptyEmail'), inputs.email);
        if (!password) return fail(t('signin.emptyPassword'), inputs.password);
        body = { email, password };
      } else {
        const token = inputs.token.value.trim();
        if (!token) return fail(t('signin.empty'), inputs.token);
        body = { token };
      }
      btn.disabled = true;
      btn.textContent = t('signin.busy');
      err.hidden = true;
      try {
        await signIn(body);
      } catch (ex) {
        btn.disabled = false;
        btn.textContent = t('signin.submit');
        const text = signInError(ex);
        if (text) fail(text);
      }
    },
  },
  pw ? [
    h('div', { class: 'field' }, h('label', { for: 'email', class: 'label' }, t('signin.email')), inputs.email),
    h('div', { class: 'field' }, h('label', { for: 'password', class: 'label' }, t('signin.password')), inputs.password),
  ] : h('div', { class: 'field' },
    h('label', { for: 'token', class: 'label' }, t('signin.token')),
    h('p', { class: 'hint' }, t('signin.tokenHint')),
    inputs.token),
  err,
  btn);
  const other = h('button', {
    type: 'button', class: 'btn btn-block btn-link', testid: 'signin-mode', 'aria-controls': 'signin-form',
    onclick: () => {
      signin.mode = pw ? 'token' : 'password';
      renderSignIn();
    },
  }, pw ? t('signin.useToken') : (passwordOn ? t('signin.usePassword') : t('signin.useSSO')));
  form.id = 'signin-form';
  // Single sign-on: a button per provider above the form; with password sign-in turned
  // off, the buttons alone (an access token stays the other way in).
  const sso = pw ? ssoButtons() : null;
  const showForm = !pw || passwordOn;
  if (!showForm) other.removeAttribute('aria-controls'); // there is no form to control
  let lead = pw ? t('signin.lead') : t('signin.leadToken');
  if (pw && sso) lead = passwordOn ? t('signin.leadBoth') : t('signin.leadSSO');
  show(h('section', { class: 'card narrow', testid: 'signin' },
    h('h1', {}, t('signin.title')),
    h('p', { class: 'lead' }, lead),
    sso,
    sso && showForm ? h('p', { class: 'signin-divider' }, t('signin.orEmail')) : null,
    showForm ? form : null,
    h('div', { class: 'signin-other' }, h('span', { class: 'signin-or' }, pw ? t('signin.or') : (passwordOn ? t('signin.orPassword') : t('signin.orSSO'))), other)));
  tickCooldown(signin.cooldown);
  if (!showForm) {
    $('[data-testid="sso-providers"] a', view())?.focus();
    return;
  }
  (fields.find((f) => !f.value) || fields[0]).focus();
}

// ---------------------------------------------------------------- render dispatch

function render() {
  applyChrome();
  if (!state.me) {
    if (state.booting) return;
    renderSignIn();
    return;
  }
  if (!state.meta) return;
  const r = route();
  tvMode(r === 'indicadores');
  if (r === 'declarar') renderDeclare();
  else if (r === 'directorio') renderDirectory();
  else if (r === 'perfil') renderProfile();
  else if (r === 'escaleras') renderLadders();
  else if (r === 'chats') renderChat();
  else if (r === 'simulacros') renderDrills();
  else if (r === 'incidente') renderIncident();
  else if (r === 'indicadores') renderIndicators();
  else renderBoard();
}

// ---------------------------------------------------------------- declare

function newDeclare() {
  return {
    step: 'form',
    draft: {
      title: '', description: '', location: '', services: '', causes: '',
      impact: '', urgency: '', drill: false, safety_poll: false, message_es: '', message_en: '',
      teams: new Set(state.meta.default_teams.length ? state.meta.default_teams : state.meta.teams.map((x) => x.id)),
      sites: new Set(),
    },
    template: null, // the scenario tile chosen: {id, name, prefix}
    titleAuto: false, // the title is the scenario's, completed with the place
    more: false, // "Más detalles" is open
    fieldErrors: {},
    problem: null,
    extraErrors: [],
    idemKey: null,
    sending: false,
    sendError: null,
    result: null,
  };
}

function priorityOf(impact, urgency) {
  return state.meta?.matrix?.[impact]?.[urgency] || null;
}

function slaOf(p) {
  return state.meta?.sla?.[p] || null;
}

function renderDeclare() {
  if (!state.declare) state.declare = newDeclare();
  const d = state.declare;
  if (d.step === 'done') renderDone(d);
  else renderForm(d);
}

function fieldError(name, d) {
  const msg = d.fieldErrors[name];
  return h('p', { class: 'field-error', id: `err-${name}`, testid: `error-${name}`, hidden: !msg }, msg || '');
}

// clearFieldError hides a field's message once the person changes that field.
function clearFieldError(d, name) {
  delete d.fieldErrors[name];
  const el = $(`#err-${name}`, view());
  if (el) { el.hidden = true; el.textContent = ''; }
  $(`[data-field="${name}"] [aria-invalid], [data-field="${name}"][aria-invalid]`, view())?.removeAttribute('aria-invalid');
}

function textField(d, name, { multiline = false, required = false, max } = {}) {
  const id = `f-${name}`;
  const props = {
    id, name, class: 'input', testid: `field-${name}`,
    'aria-describedby': `hint-${name} err-${name}`,
    oninput: (e) => {
      d.draft[name] = e.target.value;
      if (d.fieldErrors[name]) clearFieldError(d, name);
      if (name === 'title') d.titleAuto = false;
      if (name === 'location' && d.titleAuto) {
        d.draft.title = scenarioTitle(d);
        const title = $('#f-title', view());
        if (title) title.value = d.draft.title;
        const chosen = $('[data-testid="chosen-title"]', view());
        if (chosen) chosen.textContent = d.draft.title;
      }
      if (name === 'title') counter.textContent = `${[...e.target.value].length}/${TITLE_MAX}`;
    },
  };
  if (required) props.required = true;
  if (max) props.maxlength = String(max);
  if (d.fieldErrors[name]) props['aria-invalid'] = 'true';
  const input = multiline ? h('textarea', { ...props, rows: '4' }) : h('input', { ...props, type: 'text', autocomplete: 'off' });
  input.value = d.draft[name];
  const counter = name === 'title' ? h('span', { class: 'counter', 'aria-hidden': 'true' }, `${[...d.draft.title].length}/${TITLE_MAX}`) : null;
  return h('div', { class: `field field-${name}`, 'data-field': name },
    h('label', { for: id, class: 'label' }, t(`f.${name}`), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null, counter),
    h('p', { class: 'hint', id: `hint-${name}` }, t(`f.${name}.hint`)),
    input,
    fieldError(name, d));
}

function choiceField(d, name, onChange) {
  const levels = state.meta.levels.filter((l) => LEVELS.includes(l));
  return h('fieldset', {
    class: 'field choices', 'data-field': name, testid: `q-${name}`,
    'aria-describedby': `err-${name}`, 'aria-invalid': d.fieldErrors[name] ? 'true' : null,
  },
  h('legend', { class: 'question' }, t(`f.${name}`)),
  h('div', { class: 'choice-grid' },
    levels.map((level) => h('label', { class: `choice choice-${level}`, testid: `${name}-${level}` },
      h('input', {
        type: 'radio', name, value: level, checked: d.draft[name] === level,
        onchange: () => { d.draft[name] = level; clearFieldError(d, name); onChange(); },
      }),
      h('span', { class: 'choice-body' },
        h('span', { class: 'choice-text' }, t(`${name}.${level}`)),
        h('span', { class: 'choice-level' }, t(`level.${level}`)))))),
  fieldError(name, d));
}

function priorityPreview(d) {
  const p = priorityOf(d.draft.impact, d.draft.urgency);
  if (!p) return h('p', { class: 'preview preview-pending' }, t('priority.pending'));
  const sla = slaOf(p);
  return h('div', { class: `preview preview-p${priorityRank(p)}` },
    h('span', { class: 'preview-label' }, t('priority')),
    priorityBadge(p, 'preview-priority'),
    sla ? h('span', { class: 'preview-sla', testid: 'preview-sla' }, t('priority.sla', {
      ack: fmtDuration((sla.acknowledge_seconds || 0) * 1000),
      resolve: fmtDuration((sla.resolve_seconds || 0) * 1000),
    })) : null);
}

// launcher is true for the lanzador role (reception desks, security guards): they declare
// only from a scenario template, adding where (location, sites) and whether it is a drill.
function launcher() {
  return state.me?.role === 'lanzador';
}

function validate(d) {
  const e = {};
  if (launcher()) return d.template ? e : { scenario: t('v.lanzador') };
  const title = d.draft.title.trim();
  if (!title) e.title = t('v.title');
  else if ([...title].length > TITLE_MAX) e.title = t('v.titleLong');
  if (!d.draft.impact) e.impact = t('v.choose');
  if (!d.draft.urgency) e.urgency = t('v.choose');
  if (state.meta.teams.length && d.draft.teams.size === 0) e.teams = t('v.teams');
  return e;
}

// MORE_FIELDS are the fields folded into "Más detalles" (with a scenario chosen, also
// the title, impact and urgency it filled in).
const MORE_FIELDS = ['description', 'services', 'causes', 'message_es', 'message_en', 'teams', 'drill', 'safety_poll'];

// renderForm is the declare form: scenario tiles, "¿Dónde?", and a sticky "Enviar alerta"
// with who it reaches; a tile fills everything else, which waits under "Más detalles".
// Without a tile the title, impact and urgency are asked in plain sight.
function renderForm(d) {
  const redraw = () => { if (route() === 'declarar' && state.declare === d && d.step === 'form') renderForm(d); };
  const preview = h('div', { class: 'preview-slot', testid: 'priority-preview', 'aria-live': 'polite' }, priorityPreview(d));
  const refresh = () => preview.replaceChildren(priorityPreview(d));
  const line = reachLine(state.meta.teams.length ? chosenTeams(d) : [], { testid: 'reach-line' });
  // Who of the chosen teams can be reached, and how, before anything is sent.
  const reach = state.meta.teams.length ? reachPanel(chosenTeams(d)) : null;
  const teams = state.meta.teams.length ? h('fieldset', {
    class: 'field', 'data-field': 'teams', testid: 'q-teams', 'aria-describedby': 'err-teams',
    'aria-invalid': d.fieldErrors.teams ? 'true' : null,
  },
  h('legend', { class: 'label' }, t('f.teams')),
  h('div', { class: 'checks' }, state.meta.teams.map((team) => h('label', { class: 'check', testid: `team-${team.id}` },
    h('input', {
      type: 'checkbox', name: 'teams', value: team.id, checked: d.draft.teams.has(team.id),
      onchange: (e) => {
        if (e.target.checked) d.draft.teams.add(team.id);
        else d.draft.teams.delete(team.id);
        if (d.fieldErrors.teams) clearFieldError(d, 'teams');
        reach.update(chosenTeams(d));
        line.update(chosenTeams(d));
      },
    }),
    h('span', {}, teamName(team.id))))),
  fieldError('teams', d),
  reach.el) : null;
  if (!state.meta.teams.length) line.el.hidden = true;

  const problem = d.problem ? h('div', { class: 'alert alert-error', role: 'alert', testid: 'form-error' },
    h('p', {}, d.problem),
    d.extraErrors.length ? h('ul', {}, d.extraErrors.map((x) => h('li', {}, x))) : null) : null;

  const tiled = !!d.template;
  const basics = [
    textField(d, 'title', { required: true, max: TITLE_MAX }),
    choiceField(d, 'impact', refresh),
    choiceField(d, 'urgency', refresh),
    preview,
  ];
  const folded = [...(tiled ? basics : []), ...MORE_FIELDS];
  // A refused field is never hidden: "Más detalles" opens when one of its fields is marked.
  const open = d.more || Object.keys(d.fieldErrors).some((f) => folded.includes(f) || (tiled && ['title', 'impact', 'urgency'].includes(f)));
  const similar = similarWhileTyping(d.draft);
  const more = h('details', { class: 'more', testid: 'more-details', open, ontoggle: (e) => { d.more = e.target.open; } },
    h('summary', { class: 'more-summary', testid: 'more-summary' }, t('declare.more')),
    h('div', { class: 'stack' },
      tiled ? basics : null,
      textField(d, 'description', { multiline: true }),
      textField(d, 'services'),
      textField(d, 'causes'),
      textField(d, 'message_es', { multiline: true, max: 500 }),
      textField(d, 'message_en', { multiline: true, max: 500 }),
      teams,
      h('div', { class: 'field', 'data-field': 'drill' },
        h('label', { class: 'check check-drill', testid: 'drill' },
          h('input', { type: 'checkbox', name: 'drill', checked: d.draft.drill, onchange: (e) => { d.draft.drill = e.target.checked; } }),
          h('span', {}, t('f.drill'))),
        fieldError('drill', d)),
      h('div', { class: 'field', 'data-field': 'safety_poll' },
        h('label', { class: 'check check-poll', testid: 'safety-poll' },
          h('input', { type: 'checkbox', name: 'safety_poll', checked: d.draft.safety_poll, onchange: (e) => { d.draft.safety_poll = e.target.checked; } }),
          h('span', {}, t('f.safetyPoll'))),
        h('p', { class: 'hint' }, t('f.safetyPollHint')),
        fieldError('safety_poll', d))));

  const chosen = tiled ? h('p', { class: 'scenario-chosen', testid: 'scenario-chosen' },
    priorityBadge(priorityOf(d.draft.impact, d.draft.urgency), 'chosen-priority'), ' ',
    h('strong', { testid: 'chosen-title' }, d.draft.title),
    d.draft.safety_poll ? h('span', { class: 'muted' }, ` · ${t('declare.asksSafety')}`) : null) : null;

  const send = h('button', {
    type: 'submit', class: 'btn btn-danger btn-block btn-big', testid: 'declare-submit', disabled: d.sending,
  }, d.sending ? t('confirm.sending') : d.draft.drill ? t('declare.sendDrill') : t('declare.send'));
  const form = h('form', {
    class: 'stack declare-form', novalidate: true, testid: 'declare-form',
    oninput: (e) => { similar.update(e); d.idemKey = null; d.sendError = null; },
    onchange: () => { d.idemKey = null; },
    onsubmit: (e) => {
      e.preventDefault();
      if (d.sending) return;
      d.fieldErrors = validate(d);
      d.extraErrors = [];
      if (Object.keys(d.fieldErrors).length) {
        d.problem = d.fieldErrors.scenario || t('v.fix');
        renderForm(d);
        focusFirstError();
        return;
      }
      d.problem = null;
      sendDeclaration(d);
    },
  },
  problem,
  scenarioTiles(d, redraw, () => {
    d.template = null;
    d.titleAuto = false;
    forgetDeclareWork();
    const teamsBefore = d.draft.teams;
    const sitesBefore = d.draft.sites;
    const place = d.draft.location;
    state.declare = newDeclare();
    state.declare.draft.teams = teamsBefore;
    state.declare.draft.sites = sitesBefore;
    state.declare.draft.location = place;
    state.declare.other = true;
    d = state.declare;
  }),
  chosen,
  tiled || launcher() ? null : basics,
  textField(d, 'location'),
  sitesField(d),
  similar.el,
  launcher() ? null : more,
  h('div', { class: 'send-bar', testid: 'send-bar' },
    d.draft.drill ? h('p', { class: 'drill-note' }, h('span', { class: 'tag tag-drill' }, t('drill')), ' ', t('confirm.drill')) : null,
    line.el,
    d.sendError ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'send-error' }, d.sendError) : null,
    send));

  show(h('section', { class: 'page', testid: 'declare' },
    h('h1', {}, t('declare.title')),
    form));
}

function focusFirstError() {
  const el = $('[aria-invalid="true"]', view());
  if (!el) return;
  const target = el.matches('fieldset') ? $('input', el) : el;
  target?.focus();
  el.scrollIntoView({ block: 'center' });
}

// chosenTeams lists the chosen teams in the order of the meta.
function chosenTeams(d) {
  return state.meta.teams.map((x) => x.id).filter((id) => d.draft.teams.has(id));
}

function declaration(d) {
  if (launcher()) {
    const body = { template: d.template?.id, location: d.draft.location.trim(), drill: d.draft.drill };
    const sites = state.meta.sites.map((x) => x.id).filter((id) => d.draft.sites.has(id));
    if (sites.length) body.sites = sites;
    return body;
  }
  const body = {
    title: d.draft.title.trim(),
    description: d.draft.description.trim(),
    services: splitList(d.draft.services),
    causes: splitList(d.draft.causes),
    impact: d.draft.impact,
    urgency: d.draft.urgency,
    location: d.draft.location.trim(),
    drill: d.draft.drill,
    safety_poll: d.draft.safety_poll,
  };
  const messages = {};
  for (const lang of ['es', 'en']) {
    const m = d.draft[`message_${lang}`].trim();
    if (m) messages[lang] = m;
  }
  if (Object.keys(messages).length) body.messages = messages;
  if (state.meta.teams.length) body.teams = state.meta.teams.map((x) => x.id).filter((id) => d.draft.teams.has(id));
  const sites = state.meta.sites.map((x) => x.id).filter((id) => d.draft.sites.has(id));
  if (sites.length) body.sites = sites;
  return body;
}

// sitesField offers the sites (buildings, campuses) as well as the teams: everyone at a
// chosen site is alerted too ("Torre Norte" for a fire in that tower).
function sitesField(d) {
  if (!state.meta.sites.length) return null;
  return h('fieldset', { class: 'field', 'data-field': 'sites', testid: 'q-sites', 'aria-describedby': 'sites-hint err-sites' },
    h('legend', { class: 'label' }, t('f.sites')),
    h('p', { class: 'hint', id: 'sites-hint' }, t('f.sitesHint')),
    h('div', { class: 'checks' }, state.meta.sites.map((site) => h('label', { class: 'check', testid: `site-${site.id}` },
      h('input', {
        type: 'checkbox', name: 'sites', value: site.id, checked: d.draft.sites.has(site.id),
        onchange: (e) => {
          if (e.target.checked) d.draft.sites.add(site.id);
          else d.draft.sites.delete(site.id);
          if (d.fieldErrors.sites) clearFieldError(d, 'sites');
        },
      }),
      h('span', {}, site.city && site.city !== site.name ? `${site.name} · ${site.city}` : site.name)))),
    fieldError('sites', d));
}

// siteNames names an incident's sites for the board: the directory's name of a site id,
// or what was typed (a city such as "CDMX").
function siteNames(sites) {
  if (!Array.isArray(sites) || !sites.length) return '';
  const byId = new Map((state.meta?.sites || []).map((x) => [x.id, x.name]));
  return sites.map((x) => byId.get(x) || x).join(', ');
}

async function sendDeclaration(d) {
  if (d.sending) return;
  d.sending = true;
  d.sendError = null;
  // One key per declaration: a retry after a lost answer reuses it, so nothing is
  // declared twice; any change to the form drops it.
  if (!d.idemKey) d.idemKey = uuid();
  renderDeclare();
  try {
    const inc = await api('POST', 'incidents', { body: declaration(d), headers: { 'Idempotency-Key': d.idemKey } });
    d.sending = false;
    d.result = inc || {};
    d.step = 'done';
    if (inc && inc.id) mergeIncident(inc, { flash: true });
  } catch (err) {
    d.sending = false;
    if (err instanceof ProblemError) {
      if (err.status === 401) return; // signed out: the sign-in view is showing
      // Rejected: back to the form with the server's words next to the fields. The
      // declaration will change, so the next confirmation gets a fresh key.
      d.idemKey = null;
      d.step = 'form';
      d.problem = err.problem.detail;
      d.fieldErrors = {};
      d.extraErrors = [];
      for (const e of err.problem.errors) {
        // messages.es → the field message_es; others by their first name.
        const field = String(e.field || '').replace(/^messages\.(es|en)$/, 'message_$1').split(/[.[]/)[0];
        const msg = e.message || String(e);
        if (FORM_FIELDS.includes(field)) {
          d.fieldErrors[field] = d.fieldErrors[field] ? `${d.fieldErrors[field]} ${msg}` : msg;
        } else {
          d.extraErrors.push(field ? `${e.field}: ${msg}` : msg);
        }
      }
      if (route() === 'declarar') {
        renderDeclare();
        focusFirstError();
      }
      return;
    }
    // Network trouble: stay on the form and keep the key, so a retry cannot declare the
    // same crisis twice.
    d.sendError = t('confirm.network');
  }
  if (route() === 'declarar' && state.declare === d) {
    renderDeclare();
    focusHeading();
  }
}

function renderDone(d) {
  const inc = d.result;
  const ackBy = inc.sla?.ack_by;
  const left = ackBy ? Date.parse(ackBy) - Date.now() : NaN;
  show(h('section', { class: 'page done', testid: 'declare-done' },
    h('h1', {}, t('done.title')),
    h('div', { class: 'folio-card' },
      h('p', { class: 'folio-label' }, t('done.folio')),
      h('p', { class: 'folio', testid: 'folio' }, inc.folio || '—'),
      h('p', { class: 'folio-meta' },
        priorityBadge(inc.priority, 'result-priority'),
        inc.drill ? h('span', { class: 'tag tag-drill' }, t('drill')) : null),
      ackBy ? h('p', { class: 'folio-sla', testid: 'result-ack-by' }, t('done.ackBy', {
        time: fmtTime(ackBy), left: Number.isFinite(left) ? fmtDuration(left) : '',
      })) : null),
    Array.isArray(inc.teams) && inc.teams.length ? h('div', { class: 'reach-done' }, h('strong', {}, `${t('done.reach')} `),
      reachLine(inc.teams, { testid: 'done-reach' }).el) : null,
    h('div', { class: 'actions' },
      h('a', { class: 'btn btn-primary btn-block btn-big', href: '#/tablero', testid: 'go-board' }, t('done.board')),
      h('button', {
        type: 'button', class: 'btn btn-block', testid: 'declare-another',
        onclick: () => { forgetDeclareWork(); state.declare = newDeclare(); renderDeclare(); focusHeading(); },
      }, t('done.another')))));
}

// ---------------------------------------------------------------- board state

function isActive(inc) { return !INACTIVE.has(inc.status); }

function myPersonId() { return state.me ? (state.me.person_id || state.me.id) : null; }

// mergeIncident keeps the newest known state of an incident: an older snapshot (from a
// list fetched before an event, or a replayed event) never overwrites a newer one.
function mergeIncident(inc, { flash = false } = {}) {
  if (!inc || !inc.id) return;
  const ts = Date.parse(inc.updated_at || inc.created_at) || 0;
  const known = state.seen.get(inc.id);
  if (known !== undefined && ts < known) return;
  state.seen.set(inc.id, ts);
  // New on the stream, and not what this person just declared: demand attention.
  if (flash && known === undefined && isActive(inc) && state.declare?.result?.id !== inc.id) attentionNew(inc);
  seedEscalation(inc);
  if (isActive(inc)) state.board.set(inc.id, inc);
  else state.board.delete(inc.id);
  if (flash && isActive(inc)) state.flash.set(inc.id, Date.now() + FLASH_MS);
  if (Array.isArray(inc.acks)) addAcks(inc.id, inc.acks.map((a) => a.person_id || a.id || a));
  scheduleBoardUpdate();
}

function addAcks(id, personIds) {
  let set = state.acks.get(id);
  if (!set) state.acks.set(id, (set = new Set()));
  for (const p of personIds) {
    if (!p) continue;
    set.add(p);
    if (p === myPersonId()) state.mine.add(id);
  }
}

function ackCount(inc) {
  if (Number.isFinite(inc.ack_count)) return inc.ack_count;
  const set = state.acks.get(inc.id);
  const n = set ? set.size : 0;
  return inc.acknowledged_at && n === 0 ? 1 : n;
}

async function loadList() {
  try {
    const list = await api('GET', LIST_QUERY);
    state.listError = null;
    state.listLoaded = true;
    const items = Array.isArray(list) ? list : Array.isArray(list?.incidents) ? list.incidents : [];
    for (const inc of items) mergeIncident(inc);
    loadAcks(items.filter((x) => x.acknowledged_at && !state.acks.has(x.id)).map((x) => x.id));
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    state.listError = errorText(err);
  }
  scheduleBoardUpdate();
}

// loadAcks learns who acknowledged the incidents that have acknowledgements; the
// incident itself only says when the first one came.
async function loadAcks(ids) {
  const queue = [...ids];
  const worker = async () => {
    while (queue.length) {
      const id = queue.shift();
      try {
        const full = await api('GET', `incidents/${encodeURIComponent(id)}`);
        const recipients = Array.isArray(full?.recipients) ? full.recipients : [];
        addAcks(id, recipients.filter((r) => r.acknowledged_at).map((r) => r.person_id));
        scheduleBoardUpdate();
      } catch { /* the count stays approximate */ }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

// myAnswers are the signed-in person's answers to safety polls from the board, by incident.
const myAnswers = new Map();

async function acknowledge(id, safety) {
  if (state.acking.has(id)) return;
  state.acking.add(id);
  state.itemErrors.delete(id);
  scheduleBoardUpdate();
  try {
    const inc = await api('POST', `incidents/${encodeURIComponent(id)}/ack`, safety ? { body: { safety } } : undefined);
    if (safety) myAnswers.set(id, safety);
    state.mine.add(id);
    addAcks(id, [myPersonId()]);
    if (inc && inc.id === id) mergeIncident(inc);
  } catch (err) {
    state.itemErrors.set(id, errorText(err));
  } finally {
    state.acking.delete(id);
    scheduleBoardUpdate();
  }
}

// ---------------------------------------------------------------- stream

function startBoard() {
  loadList();
  stream.wanted = true;
  stream.hold = false;
  connectStream();
}

function streamURL() {
  const u = new URL('stream', API_BASE);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (stream.lastId != null) u.searchParams.set('since', String(stream.lastId));
  return u.toString();
}

function connectStream() {
  clearTimeout(stream.timer);
  stream.timer = 0;
  if (!stream.wanted || stream.hold || stream.ws || !state.me) return;
  stream.url = streamURL();
  let ws;
  try {
    ws = new WebSocket(stream.url);
  } catch {
    scheduleReconnect();
    return;
  }
  stream.ws = ws;
  watch(ws);
  ws.onmessage = (m) => {
    if (stream.ws !== ws) return;
    watch(ws);
    if (typeof m.data === 'string') onFrame(m.data);
  };
  ws.onclose = (e) => {
    if (stream.ws !== ws) return;
    stream.ws = null;
    clearTimeout(stream.watchdog);
    setLive(false);
    if (e.code === CLOSE_SESSION_ENDED) {
      sessionEnded();
      return;
    }
    if (!stream.wanted) return;
    setReconnecting(true);
    scheduleReconnect();
  };
  ws.onerror = () => { /* a close event follows */ };
}

// watch (re)starts the silence watchdog of ws: without a frame for SILENCE_MS the socket
// is given up (its close would wait on the dead network) and a new one opened.
function watch(ws) {
  clearTimeout(stream.watchdog);
  stream.watchdog = setTimeout(() => {
    if (stream.ws !== ws) return;
    stream.ws = null;
    ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(); } catch { /* already closing */ }
    setLive(false);
    if (!stream.wanted) return;
    setOffline(true);
    scheduleReconnect();
  }, SILENCE_MS);
}


function scheduleReconnect() {
  clearTimeout(stream.timer);
  if (!stream.wanted || stream.hold) return;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** stream.attempt);
  const delay = Math.min(BACKOFF_MAX_MS, base * (0.75 + Math.random() * 0.5));
  stream.attempt += 1;
  stream.timer = setTimeout(async () => {
    // After a few failures, make sure it is not the session that expired.
    if (stream.attempt >= 3) {
      // Bounded: on a dead network the request may never be answered.
      const gaveUp = new Promise((resolve) => { setTimeout(resolve, SILENCE_MS); });
      try { await Promise.race([api('GET', 'me'), gaveUp]); } catch { /* a 401 signs out; anything else: keep trying */ }
    }
    connectStream();
  }, delay);
}

function stopStream() {
  stream.wanted = false;
  clearTimeout(stream.timer);
  clearTimeout(stream.watchdog);
  const ws = stream.ws;
  stream.ws = null;
  if (ws) ws.close(1000);
  setLive(false);
  setReconnecting(false);
  setOffline(false);
}

function onFrame(text) {
  let ev;
  try { ev = JSON.parse(text); } catch { return; }
  if (!ev || typeof ev !== 'object') return;
  if (ev.type === 'stream.ready') {
    const id = Number.isFinite(ev.id) ? ev.id : null;
    const first = stream.lastId == null;
    if (id != null && (first || id > stream.lastId)) stream.lastId = id;
    else if (id != null && id < stream.lastId) {
      // The log is behind what we saw: a fresh server. Start over from its list.
      stream.lastId = id;
      loadList();
    }
    stream.attempt = 0;
    setLive(true);
    setReconnecting(false);
    setOffline(false);
    // The first list may predate the stream; fetch it once more to close that gap.
    if (first) loadList();
    else incidentStreamResumed();
    loadProposals();
    indicatorsFrame(ev);
    return;
  }
  if (ev.type === 'stream.heartbeat') return; // only proof of life (the watchdog was fed)
  if (Number.isFinite(ev.id)) {
    if (stream.lastId != null && ev.id <= stream.lastId) return; // already seen
    stream.lastId = ev.id;
  }
  if (ev.type === 'incident.acknowledged' && ev.incident?.id) {
    const p = ev.data?.person_id || ev.actor?.person_id || ev.actor?.id;
    if (p) addAcks(ev.incident.id, [p]);
  }
  noteEscalation(ev);
  // Frames without an incident (incident.deliveries_progress) are for the incident page only.
  if (ev.incident) mergeIncident(ev.incident, { flash: ev.type === 'incident.declared' });
  incidentFrame(ev);
  drillFrame(ev);
  proposalsFrame(ev);
  indicatorsFrame(ev);
}

// ---------------------------------------------------------------- board view

let boardUpdatePending = false;
let boardEls = null; // {list, empty, count, error, items: Map id → {li, sig}}

function scheduleBoardUpdate() {
  if (boardUpdatePending) return;
  boardUpdatePending = true;
  queueMicrotask(() => {
    boardUpdatePending = false;
    updateBoard();
  });
}

function renderBoard() {
  const list = h('ol', { class: 'board', testid: 'board', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'board-title' });
  // Drills sit in their own section, below the real crises, unmistakable.
  const drills = h('ol', { class: 'board board-drills', testid: 'board-drills', 'aria-labelledby': 'board-drills-title' });
  const drillSection = h('section', { class: 'drill-section', testid: 'drill-section', hidden: true },
    h('h2', { id: 'board-drills-title', class: 'drill-section-title' }, h('span', { class: 'tag tag-drill' }, t('drill')), ' ', t('board.drills')),
    h('p', { class: 'muted' }, t('board.drillsLead')),
    drills);
  boardEls = {
    list,
    drills,
    drillSection,
    items: new Map(),
    empty: h('p', { class: 'empty', testid: 'board-empty', hidden: true }, t('board.empty')),
    count: h('span', { class: 'count', testid: 'board-count' }),
    error: h('p', { class: 'alert alert-error', role: 'alert', testid: 'board-error', hidden: true }),
  };
  show(h('section', { class: 'page page-wide', testid: 'board-page' },
    h('div', { class: 'page-head' },
      h('h1', { id: 'board-title', testid: 'board-heading' }, t('board.title')),
      boardEls.count),
    h('div', { class: 'board-tools' }, h('p', { class: 'lead' }, t('board.lead')), soundToggle()),
    boardEls.error,
    proposalsSection(),
    boardEls.empty,
    list,
    drillSection));
  boardEls.root = view().firstElementChild;
  updateBoard();
}

function sortedBoard() {
  return [...state.board.values()].sort((a, b) =>
    priorityRank(a.priority) - priorityRank(b.priority) ||
    (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0));
}

function updateBoard() {
  if (!boardEls || !boardEls.list.isConnected) return;
  const items = sortedBoard();
  boardEls.error.hidden = !state.listError;
  boardEls.error.textContent = state.listError || '';
  const real = items.filter((x) => !x.drill);
  const drills = items.filter((x) => x.drill);
  boardEls.empty.hidden = real.length > 0 || !state.listLoaded;
  // Tests wait for it before counting what the board shows.
  boardEls.list.setAttribute('aria-busy', state.listLoaded ? 'false' : 'true');
  boardEls.count.textContent = tn('board.active', real.length);
  boardEls.drillSection.hidden = drills.length === 0;
  attentionTitle();
  const keep = new Set(items.map((x) => x.id));
  for (const [id, entry] of boardEls.items) {
    if (!keep.has(id)) {
      entry.li.remove();
      boardEls.items.delete(id);
    }
  }
  for (const [list, group] of [[boardEls.list, real], [boardEls.drills, drills]]) placeItems(list, group);
  tickTimes();
}

// placeItems puts a group's items into their list, in order.
function placeItems(list, group) {
  let prev = null;
  for (const inc of group) {
    const sig = itemSignature(inc);
    let entry = boardEls.items.get(inc.id);
    if (!entry) {
      entry = { li: h('li', { class: 'item', testid: 'board-item' }), sig: '' };
      boardEls.items.set(inc.id, entry);
    }
    if (entry.sig !== sig) {
      fillItem(entry.li, inc);
      entry.sig = sig;
    }
    const flashing = (state.flash.get(inc.id) || 0) > Date.now();
    entry.li.classList.toggle('flash', flashing);
    // Move into place only when out of place, so focus and screen readers are not disturbed.
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== entry.li) list.insertBefore(entry.li, want);
    prev = entry.li;
  }
}

function itemSignature(inc) {
  return JSON.stringify([inc.updated_at, inc.next_update_at, inc.status, inc.priority, inc.title, inc.location, inc.sites, inc.acknowledged_at,
    ackCount(inc), inc.audience, inc.folio, state.mine.has(inc.id), state.acking.has(inc.id), inc.safety, myAnswers.get(inc.id) || '', state.itemErrors.get(inc.id) || '', state.lang,
    escalationSig(inc.id)]);
}

function fillItem(li, inc) {
  li.dataset.id = inc.id;
  li.dataset.folio = inc.folio || '';
  li.dataset.priority = inc.priority || '';
  li.className = `item item-p${priorityRank(inc.priority)}${inc.drill ? ' item-drill' : ''}${li.classList.contains('flash') ? ' flash' : ''}`;
  const mine = state.mine.has(inc.id);
  const busy = state.acking.has(inc.id);
  const err = state.itemErrors.get(inc.id);
  li.replaceChildren();
  append(li, [
    h('div', { class: 'item-top' },
      priorityBadge(inc.priority, 'item-priority'),
      inc.drill ? h('span', { class: 'tag tag-drill', testid: 'item-drill' }, t('drill')) : null,
      h('span', { class: 'item-folio', testid: 'item-folio' }, inc.folio || ''),
      h('span', { class: `status status-${inc.status}`, testid: 'item-status' }, t(`status.${inc.status}`))),
    h('h2', { class: 'item-title' }, h('a', { href: incidentHref(inc), testid: 'item-title' }, inc.title || inc.folio || '')),
    h('p', { class: 'item-meta' },
      inc.location ? h('span', { testid: 'item-location' }, h('span', { class: 'sr-only' }, `${t('item.location')}: `), inc.location) : null,
      inc.sites?.length ? h('span', { class: 'item-sites', testid: 'item-sites' }, `${t('item.sites')}: `, h('strong', {}, siteNames(inc.sites))) : null,
      h('span', { testid: 'item-since', 'data-since': inc.created_at || '' })),
    h('p', { class: 'item-sla' },
      h('span', { class: 'sla', testid: 'item-sla', 'data-ack-by': inc.sla?.ack_by || '', 'data-acked-at': inc.acknowledged_at || '' }),
      h('span', { class: 'acks', testid: 'item-acks' }, ackText(inc))),
    escalationLine(inc.id),
    nextUpdateLine(inc, 'item-next-update'),
    inc.safety_poll ? safetyLine(inc) : null,
    err ? h('p', { class: 'field-error', role: 'alert' }, err) : null,
    h('div', { class: 'item-actions' },
      h('a', { class: 'btn', href: incidentHref(inc), testid: 'item-link' }, t('item.open'), h('span', { class: 'sr-only' }, ` ${inc.folio || ''}`)),
      inc.safety_poll && state.me?.person_id ? pollButtons(inc, busy) : state.me?.role === 'reporter' ? null : h('button', {
        type: 'button', class: `btn ${mine ? 'btn-done' : 'btn-primary'}`, testid: 'ack-button',
        disabled: mine || busy, 'data-acked': mine ? 'true' : 'false', 'aria-pressed': mine ? 'true' : 'false',
        onclick: () => acknowledge(inc.id),
      }, mine ? `✓ ${t('item.ackDone')}` : busy ? t('item.acking') : t('item.ack')))]);
}

// pollButtons answer a safety poll from the board card: either answer acknowledges too;
// the answer given is pressed and can be changed.
function pollButtons(inc, busy) {
  const given = myAnswers.get(inc.id) || '';
  const button = (answer, cls) => h('button', {
    type: 'button', class: `btn ${cls}`, testid: `board-answer-${answer}`, disabled: busy,
    'aria-pressed': given === answer ? 'true' : 'false', onclick: () => acknowledge(inc.id, answer),
  }, `${given === answer ? '✓ ' : ''}${t(`safety.answer.${answer}`)}`);
  return h('div', { class: 'board-poll', role: 'group', 'aria-label': t('safety.question') },
    button('safe', 'btn-primary'), button('help_needed', 'btn-danger'));
}

// ackText: "Acuses: 3 / 12" — of the people the incident is for (its audience).
function ackText(inc) {
  const n = ackCount(inc);
  return Number.isFinite(inc.audience) && inc.audience > 0 ? t('item.acksOf', { n, total: inc.audience }) : t('item.acks', { n });
}

// tickTimes refreshes the relative times and SLA countdowns without rebuilding items.
function tickTimes() {
  tickIncident();
  if (!boardEls || !boardEls.list.isConnected) return;
  const root = boardEls.root || boardEls.list;
  tickEscalation(root);
  tickWork(root, true);
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-since]')) {
    const ts = Date.parse(el.dataset.since);
    el.textContent = Number.isFinite(ts) ? t('item.declared', { ago: t('ago', { d: fmtDuration(now - ts) }) }) : '';
  }
  for (const el of root.querySelectorAll('[data-ack-by]')) {
    const ackedAt = el.dataset.ackedAt;
    const due = Date.parse(el.dataset.ackBy);
    el.classList.remove('sla-late', 'sla-soon', 'sla-ok');
    if (ackedAt) {
      el.textContent = t('item.acked', { time: fmtTime(ackedAt) });
      el.classList.add('sla-ok');
    } else if (!Number.isFinite(due)) {
      el.textContent = '';
    } else if (due <= now) {
      el.textContent = t('item.ackLate', { late: fmtDuration(now - due) });
      el.classList.add('sla-late');
    } else {
      el.textContent = t('item.ackIn', { time: fmtTime(el.dataset.ackBy), left: fmtCountdown(due - now) });
      if (due - now < 60000) el.classList.add('sla-soon');
    }
  }
  for (const [id, until] of state.flash) {
    if (until <= now) {
      state.flash.delete(id);
      boardEls.items.get(id)?.li.classList.remove('flash');
    }
  }
}

// ---------------------------------------------------------------- start

// Hooks for the browser tests: drop the stream as a network failure would, optionally
// holding it down until resumeStream, and read where the stream stands.
window.__optimum = {
  dropStream({ hold = false } = {}) {
    stream.hold = hold;
    if (stream.ws) stream.ws.close(4000, 'dropped for a test');
  },
  resumeStream() {
    stream.hold = false;
    if (!stream.ws) {
      stream.attempt = 0;
      connectStream();
    }
  },
  streamState() {
    return { lastId: stream.lastId, url: stream.url, live: stream.live, connected: !!stream.ws };
  },
  pushTimeout(ms) { setPushTimeout(ms); },
};

async function start() {
  state.lang = initialLang();
  applyChrome();
  for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));
  $('[data-testid="signout"]').addEventListener('click', () => signOut());
  wireMenu();
  hooks.signedOut = sessionEnded;
  hooks.stale = showStale;
  hooks.acked = (inc) => {
    state.mine.add(inc.id);
    addAcks(inc.id, [myPersonId()]);
    mergeIncident(inc);
  };
  window.addEventListener('hashchange', async () => {
    nav.seq += 1;
    if (route() === 'declarar') forgetReach();
    if (await loginWithLink()) return;
    if (route() === 'login' && state.me) replaceHash('#/tablero');
    render();
    if (route() === 'declarar' && state.me) refreshMeta();
    focusHeading();
  });
  window.addEventListener('online', () => { if (!stream.ws && stream.wanted && !stream.hold) { stream.attempt = 0; connectStream(); } });
  setInterval(tickTimes, 1000);
  setInterval(tickIndicators, 1000);
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('sw.js').catch(() => { /* push is optional */ });
  }

  if (await loginWithLink()) return;
  await boot();
}

start();
