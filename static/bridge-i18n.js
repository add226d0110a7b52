// OPTIMUM BCP web app: the strings of bridge.js (the war-room bridge card), in Spanish and
// English; i18n.js merges them into I18N. No imports: i18n.js is read by Node in the tests.

export const BRIDGE_I18N = {
  es: {
    'bridge.title': 'Llamada de crisis',
    'bridge.open': 'Abrir llamada de crisis',
    'bridge.opening': 'Abriendo…',
    'bridge.openHint': 'Abre una conferencia con el folio como nombre: la audiencia recibe el número y el PIN, y quien reciba la llamada de alerta puede marcar 2 para unirse.',
    'bridge.dial': 'Marca {number} y el PIN {pin}',
    'bridge.join': 'Unirme',
    'bridge.nobody': 'Nadie está en la llamada.',
    'bridge.onCall': 'En la llamada ({n})',
    'bridge.since': 'desde las {time}',
    'tl.bridgeOpened': '{actor} abrió la llamada de crisis (PIN {pin})',
    'tl.bridgeJoined': '{name} se unió a la llamada de crisis',
    'tl.bridgeLeft': '{name} salió de la llamada de crisis',
  },
  en: {
    'bridge.title': 'Crisis call',
    'bridge.open': 'Open the crisis call',
    'bridge.opening': 'Opening…',
    'bridge.openHint': 'Opens a conference named by the folio: the audience gets its number and PIN, and whoever gets the alert call can press 2 to join.',
    'bridge.dial': 'Dial {number} and the PIN {pin}',
    'bridge.join': 'Join',
    'bridge.nobody': 'Nobody is on the call.',
    'bridge.onCall': 'On the call ({n})',
    'bridge.since': 'since {time}',
    'tl.bridgeOpened': '{actor} opened the crisis call (PIN {pin})',
    'tl.bridgeJoined': '{name} joined the crisis call',
    'tl.bridgeLeft': '{name} left the crisis call',
  },
};
