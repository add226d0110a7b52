package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A CRISIS report is new once per phone and words within the window, at most three new
// ones per phone in an hour; copies arriving at once claim it once; a released claim is
// forgotten.
func TestClaimCrisis(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		s := storetest.Open(t).Escalation()
		t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		claim := func(after time.Duration, phone, hash string) (string, string, string) {
			t.Helper()
			o, inc, c, err := s.ClaimCrisis(ctx, phone, "per_ana", hash, t0.Add(after), 24*time.Hour, 3)
			if err != nil {
				t.Fatal(err)
			}
			return o, inc, c
		}
		// 20 copies of one text at once: one claim.
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[string]int{}
		claims := []string{}
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, _, c, err := s.ClaimCrisis(ctx, "+521", "per_ana", "fire", t0, 24*time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				outcomes[o]++
				if c != "" {
					claims = append(claims, c)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if outcomes[escalation.ClaimNew] != 1 || outcomes[escalation.ClaimRepeated] != 19 || len(claims) != 1 {
			t.Fatalf("20 copies at once = %v", outcomes)
		}
		if o, inc, _ := claim(time.Minute, "+521", "fire"); o != escalation.ClaimRepeated || inc != "" {
			t.Errorf("repeat while in progress = %s %q", o, inc)
		}
		if err := s.CrisisDeclared(ctx, claims[0], "inc_fire"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			after       time.Duration
			phone, hash string
			want, inc   string
		}{
			{2 * time.Minute, "+521", "fire", escalation.ClaimRepeated, "inc_fire"},
			{3 * time.Minute, "+521", "flood", escalation.ClaimNew, ""},
			{4 * time.Minute, "+522", "fire", escalation.ClaimNew, ""}, // another phone
			{5 * time.Minute, "+521", "gas", escalation.ClaimNew, ""},
			{6 * time.Minute, "+521", "smoke", escalation.ClaimRateLimit, ""}, // the fourth in the hour
			{61 * time.Minute, "+521", "smoke", escalation.ClaimNew, ""},      // fire left the hour
			{23 * time.Hour, "+521", "fire", escalation.ClaimRepeated, "inc_fire"},
			{24*time.Hour + time.Minute, "+521", "fire", escalation.ClaimNew, ""}, // past the window
		} {
			o, inc, _ := claim(c.after, c.phone, c.hash)
			if o != c.want || inc != c.inc {
				t.Errorf("%s %s at +%s = %s %q, want %s %q", c.phone, c.hash, c.after, o, inc, c.want, c.inc)
			}
		}
		o, _, c := claim(25*time.Hour, "+523", "leak")
		if o != escalation.ClaimNew {
			t.Fatal(o)
		}
		if err := s.ReleaseCrisis(ctx, c); err != nil {
			t.Fatal(err)
		}
		if o, _, _ := claim(25*time.Hour+time.Second, "+523", "leak"); o != escalation.ClaimNew {
			t.Errorf("after a release = %s", o)
		}
		if n, err := s.CrisisCount(ctx, "+521", t0.Add(time.Hour)); err != nil || n != 2 {
			t.Errorf("count = %d %v", n, err)
		}
	})
}

// The caller of a CRISIS text is the one active person with the number, with whether
// their phone is verified and whether a user linked to them (by id or by email) is
// disabled; a number of several active people is ECONFLICT, of nobody ENOTFOUND.
func TestCrisisCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		db := storetest.Open(t)
		s := db.Escalation()
		for _, q := range []string{
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_ana', 'Ana', 'ana@example.com', '+525500000001', 'es', 0, 0, 5)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at) VALUES ('per_beto', 'Beto', 'beto@example.com', '+525500000002', 'en', 0, 0)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_caro', 'Caro', 'caro@example.com', '+525500000003', 'es', 0, 0, 5)`,
			`INSERT INTO users (id, email, name, role, created_at, updated_at, disabled_at) VALUES ('usr_caro', 'caro@example.com', 'Caro', 'responder', 0, 0, 9)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_dani', 'Dani', 'dani@example.com', '+525500000004', 'es', 0, 0, 5)`,
			`INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ('usr_dani', 'dani@example.com', 'Dani', 'reporter', 0, 0)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_eva', 'Eva', 'eva@example.com', '+525500000005', 'es', 0, 0, 5)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_fer', 'Fer', 'fer@example.com', '+525500000005', 'es', 1, 1, 5)`,
			`INSERT INTO people (id, name, email, phone, language, created_at, updated_at, phone_verified_at) VALUES ('per_hugo', 'Hugo', 'hugo@example.com', '+525500000008', 'es', 0, 0, 5)`,
			`INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ('usr_hugo', 'hugo@example.com', 'Hugo', 'lanzador', 0, 0)`,
			// Gil's second phone is verified, his first is not.
			`INSERT INTO people (id, name, email, phone, phone2, phone2_verified_at, language, created_at, updated_at) VALUES ('per_gil', 'Gil', 'gil@example.com', '+525500000006', '+525500000007', 5, 'es', 0, 0)`,
		} {
			storetest.Exec(t, db, q)
		}
		for _, c := range []struct {
			phone                        string
			id                           string
			verified, disabled, launcher bool
			code                         string
		}{
			{"+525500000001", "per_ana", true, false, false, ""},
			{"+525500000002", "per_beto", false, false, false, ""},
			{"+525500000003", "per_caro", true, true, false, ""},
			{"+525500000004", "per_dani", true, false, false, ""},
			{"+525500000005", "", false, false, false, "conflict"},
			{"+525500000009", "", false, false, false, "not_found"},
			{"+525500000006", "per_gil", false, false, false, ""},
			{"+525500000007", "per_gil", true, false, false, ""},
			{"+525500000008", "per_hugo", true, false, true, ""}, // a lanzador
		} {
			p, err := s.CrisisCaller(ctx, c.phone)
			if string(optimum.ErrorCode(err)) != c.code && !(c.code == "" && err == nil) {
				t.Errorf("%s: %v, want %s", c.phone, err, c.code)
				continue
			}
			if p.PersonID != c.id || p.Verified != c.verified || p.Disabled != c.disabled || p.Launcher != c.launcher {
				t.Errorf("%s = %+v", c.phone, p)
			}
		}
	})
}

// BenchmarkClaimCrisis measures one CRISIS text's claim (the repeat and rate checks and
// the insert, writers taking turns), each from another number.
func BenchmarkClaimCrisis(b *testing.B) {
	s := storetest.Open(b).Escalation()
	ctx := context.Background()
	now := time.Now()
	b.ResetTimer()
	for i := range b.N {
		phone := "+5255" + strconv.Itoa(10000000+i)
		if o, _, _, err := s.ClaimCrisis(ctx, phone, "per_x", "words", now, 24*time.Hour, 3); err != nil || o != escalation.ClaimNew {
			b.Fatal(o, err)
		}
	}
}
