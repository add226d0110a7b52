package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Migration 0025 takes the one-tap link tokens out of the stored messages: a delivery
// queued before it keeps the slot (filled when sent), and no stored text holds a token.
func TestMigrationScrubsStoredLinkTokens(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		const token = "Ab3dEf5hJk7mNp"
		link := "https://bcp.example.test/a/" + token
		insert := `INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
			ttl_seconds, status, due_at, deadline, created_at, updated_at, actions) VALUES ($1, 'inc_1', 'per_1', 'sms', '+525512345678', 'es',
			$2, $3, $4, 'inc_1', 3600, 'queued', 1, 2, 1, 1, '[]')`
		if err := store.Exec(ctx, db, insert, "dlv_link", "P1 "+link, "Sismo en CDMX. Confirma: "+link, link); err != nil {
			t.Fatal(err)
		}
		conformity := "https://bcp.example.test/c/zzzz"
		if err := store.Exec(ctx, db, insert, "dlv_other", "OPTIMUM", "Resuelto: "+conformity, conformity); err != nil {
			t.Fatal(err)
		}
		if err := store.Exec(ctx, db, "DELETE FROM schema_migrations WHERE version = '0025_scrub_link_tokens'"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db = open() // migrates again
		want := "https://bcp.example.test/a/{one-tap-link}"
		for col, wantText := range map[string]string{"url": want, "body": "Sismo en CDMX. Confirma: " + want, "title": "P1 " + want} {
			got, err := store.QueryString(ctx, db, "SELECT "+col+" FROM deliveries WHERE id = 'dlv_link'")
			if err != nil {
				t.Fatal(err)
			}
			if got != wantText || strings.Contains(got, token) {
				t.Errorf("%s = %q, want %q", col, got, wantText)
			}
		}
		if got, _ := store.QueryString(ctx, db, "SELECT body FROM deliveries WHERE id = 'dlv_other'"); got != "Resuelto: "+conformity {
			t.Errorf("another delivery changed: %q", got)
		}
	})
}

// Migration 0041 takes the conformity link tokens out of the requester's messages and the
// deliveries, and keeps the link the requester already has working: its hash becomes a
// request of its own, so a queued delivery gets a fresh link to it when it is sent.
func TestMigrationScrubsStoredConformityLinks(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		const token = "Qw3rTy5uIo7pAs9dFg1hJk3lZx5cVb7n" // 32 characters, like every conformity token
		link := "https://bcp.example.test/c/" + token
		sum := sha256.Sum256([]byte(token))
		hash := hex.EncodeToString(sum[:])
		steps := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO incidents (id, folio, status, priority, drill, created_at, search, doc) VALUES ('inc_c', 'CRI-2026-000901', 'resolved', 'P3', 0, 1, '', '{}')`, nil},
			{`INSERT INTO incident_messages (id, incident_id, kind, person_id, person_name, language, text, url, at)
				VALUES ('msg_c', 'inc_c', 'conformity', 'per_r', 'Rosa', 'es', $1, $2, 1)`, []any{"Tu reporte quedó resuelto. Responde aquí: " + link, link}},
			{`INSERT INTO conformity_links (hash, incident_id, requester_id, requester_name, language, created_at, expires_at)
				VALUES ($1, 'inc_c', 'per_r', 'Rosa', 'es', 1, $2)`, []any{hash, time.Now().Add(time.Hour).UnixMilli()}},
			{`INSERT INTO deliveries (id, subject, recipient, channel, address, language, title, body, url, topic,
				ttl_seconds, status, due_at, deadline, created_at, updated_at, actions) VALUES ('dlv_c', 'inc_c', 'per_r', 'sms', '+525512345678', 'es',
				'OPTIMUM', $1, $2, 'inc_c', 3600, 'queued', 1, 2, 1, 1, '[]')`, []any{"Resuelto. Responde aquí: " + link, link}},
			{"DELETE FROM schema_migrations WHERE version = '0041_scrub_conformity_links'", nil},
		}
		for _, s := range steps {
			if err := store.Exec(ctx, db, s.q, s.args...); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		db = open() // migrates again
		slot := "https://bcp.example.test/c/{conformity-link-not-yet-minted}"
		for q, want := range map[string]string{
			"SELECT text FROM incident_messages WHERE id = 'msg_c'": "Tu reporte quedó resuelto. Responde aquí: " + slot,
			"SELECT url FROM incident_messages WHERE id = 'msg_c'":  slot,
			"SELECT body FROM deliveries WHERE id = 'dlv_c'":        "Resuelto. Responde aquí: " + slot,
			"SELECT url FROM deliveries WHERE id = 'dlv_c'":         slot,
		} {
			if got, err := store.QueryString(ctx, db, q); err != nil || got != want {
				t.Errorf("%s = %q, %v; want %q", q, got, err, want)
			}
		}
		// The requester's own copy still works, and the queued delivery gets a new link
		// to the same request.
		l, err := db.Desk().ConformityLink(ctx, hash)
		if err != nil || l.UsedAt != nil || l.IncidentID != "inc_c" {
			t.Fatalf("the requester's link after the migration = %+v, %v; want open", l, err)
		}
		if ok, err := db.Desk().MintConformityLink(ctx, "inc_c", "another-hash", time.Now()); err != nil || !ok {
			t.Errorf("mint for the open legacy request = %v, %v", ok, err)
		}
	})
}
