// OPTIMUM BCP web app: a live board that demands attention. A new P1 or P2 (not a drill)
// plays a sound when the person turned it on (once; the browser needs a tap to allow
// audio), vibrates where the device allows it, and the tab's title counts the P1 and P2
// crises this person has not acknowledged: "(2) OPTIMUM BCP".

import { state, t, h, priorityRank } from './core.js';

const KEY = 'optimum.sound';
const TITLE = 'OPTIMUM BCP';
let audio = null; // the AudioContext, made on the tap that turns the sound on

function soundOn() {
  try { return localStorage.getItem(KEY) === 'on'; } catch { return false; }
}

function urgent(inc) {
  return !inc.drill && priorityRank(inc.priority) <= 2;
}

// beep plays three short tones (no file to download).
function beep() {
  if (!audio) {
    try { audio = new AudioContext(); } catch { return false; }
  }
  if (audio.state === 'suspended') audio.resume().catch(() => {});
  const now = audio.currentTime;
  for (let i = 0; i < 3; i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = i % 2 ? 660 : 880;
    gain.gain.setValueAtTime(0.0001, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.25 + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.25);
    osc.stop(now + i * 0.25 + 0.22);
  }
  return true;
}

// attentionNew is called for an incident the board sees for the first time on the stream.
export function attentionNew(inc) {
  if (!urgent(inc)) return;
  const done = { sound: false, vibrate: false };
  if (soundOn()) done.sound = beep();
  if (navigator.vibrate) {
    try { done.vibrate = navigator.vibrate([300, 120, 300, 120, 300]); } catch { /* not allowed here */ }
  }
  window.__optimumAttention = [...(window.__optimumAttention || []), { id: inc.id, priority: inc.priority, ...done }];
}

// attentionTitle counts the urgent crises on the board the person has not acknowledged.
export function attentionTitle() {
  let n = 0;
  for (const inc of state.board.values()) if (urgent(inc) && !state.mine.has(inc.id)) n++;
  const want = n ? `(${n}) ${TITLE}` : TITLE;
  if (document.title !== want) document.title = want;
}

// soundToggle is the board's button to turn the alert sound on or off.
export function soundToggle() {
  const btn = h('button', { type: 'button', class: 'btn btn-small sound-toggle', testid: 'sound-toggle' });
  const draw = () => {
    const on = soundOn();
    btn.setAttribute('aria-pressed', String(on));
    btn.textContent = on ? `🔔 ${t('sound.on')}` : `🔕 ${t('sound.off')}`;
  };
  btn.addEventListener('click', () => {
    const on = !soundOn();
    try { localStorage.setItem(KEY, on ? 'on' : 'off'); } catch { /* private mode */ }
    if (on) beep(); // the tap allows audio from now on, and the person hears what it sounds like
    draw();
  });
  draw();
  return btn;
}
