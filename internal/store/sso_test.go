package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A sign-in in flight at a provider is spent once, by the browser that started it, at
// its provider, before it expires; a wrong try spends nothing. Two nodes answering the
// same callback at once: one wins.
func TestSSOFlowIsSpentOnceByItsBrowser(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		ctx := context.Background()
		a, b := open().Auth(), open().Auth()
		now := time.Now().UTC().Truncate(time.Millisecond)
		flow := auth.SSOFlow{Provider: "corp", Nonce: "n1", Verifier: "v1"}
		if err := a.CreateSSOFlow(ctx, "state1", "browser1", flow, now, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, state, browser, provider string }{
			{"another browser", "state1", "browser2", "corp"},
			{"another provider", "state1", "browser1", "other"},
			{"another state", "state2", "browser1", "corp"},
		} {
			if _, err := a.UseSSOFlow(ctx, c.state, c.browser, c.provider, now); optimum.ErrorCode(err) != optimum.ENOTFOUND {
				t.Errorf("%s: err = %v, want not found", c.name, err)
			}
		}
		if _, err := a.UseSSOFlow(ctx, "state1", "browser1", "corp", now.Add(10*time.Minute)); optimum.ErrorCode(err) != optimum.ENOTFOUND {
			t.Errorf("expired: err = %v, want not found", err)
		}
		var (
			mu   sync.Mutex
			wins []auth.SSOFlow
			wg   sync.WaitGroup
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := a
				if i%2 == 1 {
					db = b
				}
				f, err := db.UseSSOFlow(ctx, "state1", "browser1", "corp", now.Add(time.Minute))
				if err == nil {
					mu.Lock()
					wins = append(wins, f)
					mu.Unlock()
				} else if optimum.ErrorCode(err) != optimum.ENOTFOUND {
					t.Errorf("use: %v", err)
				}
			}()
		}
		wg.Wait()
		if len(wins) != 1 || wins[0].Nonce != "n1" || wins[0].Verifier != "v1" {
			t.Fatalf("winners = %+v, want exactly one with nonce n1 and verifier v1", wins)
		}
	})
}
