package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Three nodes starting at once on an empty database with the same OPTIMUM_BOOTSTRAP_TOKEN
// all start: one creates the admin token, the others find it made.
func TestNodesBootstrappingAtOnceAllStart(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		const secret = "bootstrap-race-token-0123456789"
		var services []*auth.Service
		for range 3 {
			services = append(services, auth.NewService(open().Auth(), nil))
		}
		errs := make([]error, len(services))
		var wg sync.WaitGroup
		for i, s := range services {
			wg.Go(func() { _, errs[i] = s.Bootstrap(context.Background(), secret) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("node %d: bootstrap: %v", i, err)
			}
		}
		if _, err := services[0].Authenticate(context.Background(), secret); err != nil {
			t.Errorf("the bootstrap token does not work: %v", err)
		}
	})
}
