package indicators_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/indicators"
)

// BenchmarkCompute computes a 30-day report over 3,000 incidents (100 a day), each for 20
// people with two deliveries apiece: the arithmetic alone, the store being in memory.
//
//	go test -run '^$' -bench Compute -benchtime 20x ./indicators
func BenchmarkCompute(b *testing.B) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, mx)
	var st memStore
	for i := range 3000 {
		created := from.Add(time.Duration(i) * 30 * 24 * time.Hour / 3000)
		prio := indicators.Priorities[i%5]
		inc := inc(fmt.Sprint(i), prio, []string{"declared", "acknowledged", "resolved", "closed"}[i%4], created, time.Duration(1+i%600)*time.Second, time.Duration(1+i%30)*time.Hour)
		inc.Services, inc.Causes, inc.Teams = []string{fmt.Sprintf("svc-%d", i%12)}, []string{fmt.Sprintf("cause-%d", i%7)}, []string{"ops", "tech"}
		for p := range 20 {
			r := recipient(fmt.Sprintf("p%d", p), []string{"ops", "tech"}[p%2], inc.CreatedAt, time.Duration(p%4)*time.Minute)
			inc.Recipients = append(inc.Recipients, r)
			for _, ch := range []string{"sms", "webpush"} {
				inc.Deliveries = append(inc.Deliveries, indicators.Delivery{Channel: ch, Status: "delivered", CreatedAt: inc.CreatedAt,
					SentAt: at(inc.CreatedAt, time.Second), DeliveredAt: at(inc.CreatedAt, 3*time.Second)})
			}
		}
		st.incs = append(st.incs, inc)
	}
	svc := indicators.New(st, indicators.Options{Location: mx, AckTargets: ackTargets, ResolveTargets: resolveTargets,
		Now: func() time.Time { return from.AddDate(0, 0, 30) }})
	q := indicators.Query{From: from, To: from.AddDate(0, 0, 30)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Compute(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}
