// Package static holds the web app: plain HTML, CSS and JavaScript with no build step,
// embedded in the binary and served at the root.
package static

import "embed"

// Files is the web app, served as is.
//
//go:embed index.html attention.js manifest.webmanifest icon.svg icon-192.png icon-512.png maskable-512.png app.js core.js i18n.js phone-i18n.js menu.js directory.js account.js incident.js work.js work-i18n.js bridge.js bridge-i18n.js org.js org-i18n.js channels.js escalation.js ladders.js indicators.js drills.js proposals.js app.css indicators.css sw.js
var Files embed.FS
