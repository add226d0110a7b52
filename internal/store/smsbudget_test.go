package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Non-alert SMS are limited per account, per destination number and per day over the
// deployment; a record given back (the SMS could not be sent) counts no more.
func TestSMSBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		ctx := context.Background()
		b := storetest.Open(t).SMSBudget()
		l := store.SMSLimits{PerHour: 2, PerDay: 3, AllPerDay: 6}
		t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		var given string
		for i, tt := range []struct {
			after         time.Duration // since t0
			person, phone string
			limit         string
			retryAfter    time.Duration // since t0, when refused
			giveBack      bool
		}{
			{0, "ana", "+521", "", 0, false},
			{time.Minute, "ana", "+521", "", 0, false},
			{2 * time.Minute, "ana", "+521", store.SMSLimitAccount, time.Hour, false},
			// Another account to the same number: the number's hourly limit.
			{3 * time.Minute, "bea", "+521", store.SMSLimitNumber, time.Hour, false},
			// Ana to another number: still her own hourly limit.
			{4 * time.Minute, "ana", "+522", store.SMSLimitAccount, time.Hour, false},
			{5 * time.Minute, "bea", "+523", "", 0, true}, // given back: not sent
			{6 * time.Minute, "bea", "+523", "", 0, false},
			{time.Hour, "ana", "+521", "", 0, false}, // the first left the hour
			{time.Hour + time.Minute, "ana", "+521", store.SMSLimitAccount, 24 * time.Hour, false},
			{2 * time.Hour, "cid", "+524", "", 0, false},
			{2 * time.Hour, "dan", "+525", "", 0, false},
			{2 * time.Hour, "eva", "+526", store.SMSLimitDaily, 24 * time.Hour, false},
			{24 * time.Hour, "eva", "+526", "", 0, false},
		} {
			now := t0.Add(tt.after)
			id, limit, retry, err := b.TakeSMS(ctx, "verification", tt.person, tt.phone, now, l)
			if err != nil {
				t.Fatal(err)
			}
			if limit != tt.limit || (limit != "" && !retry.Equal(t0.Add(tt.retryAfter))) || (limit == "") != (id != "") {
				t.Errorf("%d: %s → %s: limit %q, retry %v, id %q; want %q, retry %v", i, tt.person, tt.phone, limit, retry, id, tt.limit, t0.Add(tt.retryAfter))
			}
			if tt.giveBack {
				given = id
				if err := b.GiveBackSMS(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		if given == "" {
			t.Error("nothing was given back")
		}
	})
}
