package store_test

import (
	"context"
	"strings"
	"testing"

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
