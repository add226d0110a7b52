package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The chat queue on both databases: a post whose sender died (its lease ran out) is
// claimed again with the same id and its first attempt is marked resent; a late outcome
// of a superseded attempt changes nothing; an endpoint that is gone breaks the
// subscription, cancels its queued posts and keeps it out of the next events' posts
// until it is resumed; a deleted subscription has no target.
func TestChatQueueLeasesRetriesAndBreaks(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := db.Chat()
		admin := optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin}
		now := time.Now().UTC().Truncate(time.Millisecond)
		sub, err := c.CreateSubscription(ctx, chat.Subscription{Kind: chat.ChannelWebhook, Name: "itsm", Events: []string{"*"}, Language: "es"},
			chat.Credentials{URL: "https://itsm.example.com/h", Secret: chat.NewSecret()}, admin, now)
		if err != nil {
			t.Fatal(err)
		}
		// post queues one post of every new event to every subscription the consumer sees.
		post := func() int {
			t.Helper()
			queued := 0
			_, err := c.Consume(ctx, "test.chat", 100, func(tx incident.ChatTx, e optimum.Event) error {
				subs, err := tx.Subscriptions(ctx)
				if err != nil {
					return err
				}
				var ps []incident.ChatPost
				for _, s := range subs {
					ps = append(ps, incident.ChatPost{SubscriptionID: s.ID, Kind: s.Kind, EventID: e.ID, At: e.At, Title: e.Type, Body: []byte(`{}`)})
				}
				queued += len(ps)
				return tx.Post(ctx, ps)
			})
			if err != nil {
				t.Fatal(err)
			}
			return queued
		}
		if n := post(); n != 1 {
			t.Fatalf("queued %d posts of the creation event, want 1", n)
		}
		if _, err := c.CreateSubscription(ctx, chat.Subscription{Kind: chat.ChannelWebhook, Name: "second", Events: []string{"*"}, Language: "es"},
			chat.Credentials{URL: "https://other.example.com/h", Secret: chat.NewSecret()}, admin, now); err != nil {
			t.Fatal(err)
		}
		if n := post(); n != 2 {
			t.Fatalf("queued %d posts of the second creation event, want 2 (one per subscription)", n)
		}
		if n := post(); n != 0 {
			t.Fatalf("a second run queued %d posts, want none", n)
		}

		// One post at a time per subscription, in event order: the first subscription's
		// two posts go one after the other, the second subscription's alongside.
		first, err := c.Claim(ctx, "node-a", chat.ChannelWebhook, now.Add(time.Minute), time.Second, 10)
		if err != nil || len(first) != 2 || first[0].To == first[1].To {
			t.Fatalf("claim: %+v, %v; want 2, one of each subscription", first, err)
		}
		if again, _ := c.Claim(ctx, "node-b", chat.ChannelWebhook, now.Add(time.Minute), time.Second, 10); len(again) != 0 {
			t.Fatalf("claimed %d posts: still leased by node-a, or behind one that is", len(again))
		}
		// node-a died: its leases run out and node-b sends them again, same ids.
		second, err := c.Claim(ctx, "node-b", chat.ChannelWebhook, now.Add(time.Minute+2*time.Second), time.Minute, 10)
		if err != nil || len(second) != 2 {
			t.Fatalf("claim after the leases ran out: %d posts, %v; want 2", len(second), err)
		}
		ours := map[string]bool{}
		for _, d := range first {
			ours[d.DeliveryID] = true
		}
		var mine, others []string
		for _, d := range second {
			if !ours[d.DeliveryID] || !d.Resent || d.Attempts != 2 {
				t.Errorf("post %s claimed again: resent %v, attempt %d; want the same id, resent, attempt 2", d.DeliveryID, d.Resent, d.Attempts)
			}
			if d.To == sub.ID {
				mine = append(mine, d.DeliveryID)
			} else {
				others = append(others, d.DeliveryID)
			}
		}
		if len(mine) != 1 {
			t.Fatalf("%d posts for the first subscription, want 1 (its second waits)", len(mine))
		}
		at := now.Add(time.Minute + 3*time.Second)
		if err := c.Sent(ctx, mine[0], 1, at); err != nil { // node-a's late outcome
			t.Fatal(err)
		}
		for _, id := range append(others, mine[0]) {
			if err := c.Sent(ctx, id, 2, at); err != nil {
				t.Fatal(err)
			}
		}
		posts, err := c.Posts(ctx, sub.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range posts {
			if p.ID != mine[0] {
				continue
			}
			if p.Status != "sent" || len(p.Attempts) != 2 || p.Attempts[0].Outcome != "resent" || p.Attempts[1].Outcome != "sent" {
				t.Errorf("post %+v, want sent after a resent attempt and a sent one", p)
			}
		}
		// The first sent, the subscription's second post is next.
		next, _ := c.Claim(ctx, "node-b", chat.ChannelWebhook, at, time.Minute, 10)
		if len(next) != 1 || next[0].To != sub.ID || next[0].DeliveryID == mine[0] || next[0].Attempts != 1 {
			t.Fatalf("claimed %+v after the first was sent, want the subscription's second post", next)
		}
		mine = append(mine, next[0].DeliveryID)

		// A queued post, then the endpoint is gone: broken, the queued post cancelled.
		if err := c.Retry(ctx, mine[1], 1, at, at.Add(time.Hour), "the endpoint answered 503 Service Unavailable"); err != nil {
			t.Fatal(err)
		}
		third, _ := c.Claim(ctx, "node-b", chat.ChannelWebhook, at.Add(2*time.Hour), time.Minute, 10)
		if len(third) != 1 || third[0].DeliveryID != mine[1] || third[0].Attempts != 2 {
			t.Fatalf("claimed %+v after the retry time, want the retried post at attempt 2", third)
		}
		if _, err := c.CreateSubscription(ctx, chat.Subscription{Kind: chat.ChannelWebhook, Name: "third", Events: []string{"*"}, Language: "es"},
			chat.Credentials{URL: "https://third.example.com/h", Secret: chat.NewSecret()}, admin, now); err != nil {
			t.Fatal(err)
		}
		post() // one more post for sub, queued
		if err := c.Failed(ctx, mine[1], 2, at.Add(2*time.Hour), "the address no longer exists: the endpoint answered 410 Gone", true); err != nil {
			t.Fatal(err)
		}
		broken, err := c.Broken(ctx)
		if err != nil || len(broken) != 1 || broken[0].ID != sub.ID || broken[0].BrokenReason == "" {
			t.Fatalf("broken %+v, %v; want the first subscription with its reason", broken, err)
		}
		posts, _ = c.Posts(ctx, sub.ID, 10)
		if posts[0].Status != "cancelled" {
			t.Errorf("the queued post of the broken subscription is %s, want cancelled", posts[0].Status)
		}
		if tg, err := c.Target(ctx, sub.ID); err != nil || !tg.Broken {
			t.Errorf("target %+v, %v; want broken", tg, err)
		}
		if n := post(); n != 2 { // the broken event itself, to the two others only
			t.Errorf("queued %d posts of the next event, want 2 (not to the broken subscription)", n)
		}
		if _, err := c.ResumeSubscription(ctx, sub.ID, true, admin, at); err != nil {
			t.Fatal(err)
		}
		if broken, _ := c.Broken(ctx); len(broken) != 0 {
			t.Errorf("broken after resume: %+v", broken)
		}
		if n := post(); n != 3 {
			t.Errorf("queued %d posts after the resume, want 3", n)
		}
		if err := c.DeleteSubscription(ctx, sub.ID, true, admin, at); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Target(ctx, sub.ID); !errors.Is(err, chat.ErrNoTarget) {
			t.Errorf("target of a deleted subscription: %v, want ErrNoTarget", err)
		}
		if _, err := c.Subscription(ctx, sub.ID, false); optimum.ErrorCode(err) != optimum.ENOTFOUND {
			t.Errorf("a webhook read as a chat channel: %v, want not found", err)
		}
	})
}

// BenchmarkChatClaimAndSend is the queue's cost per post on SQLite: claim one due post
// under a lease (opening its attempt) and record it sent.
func BenchmarkChatClaimAndSend(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	c := db.Chat()
	admin := optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin}
	sub, err := c.CreateSubscription(ctx, chat.Subscription{Kind: chat.ChannelWebhook, Name: "bench", Events: []string{"*"}, Language: "es"},
		chat.Credentials{URL: "https://itsm.example.com/h", Secret: chat.NewSecret()}, admin, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	_, err = c.Consume(ctx, "bench.chat", 1, func(tx incident.ChatTx, e optimum.Event) error {
		ps := make([]incident.ChatPost, b.N)
		for i := range ps {
			ps[i] = incident.ChatPost{SubscriptionID: sub.ID, Kind: sub.Kind, EventID: int64(i + 1), At: e.At, Title: e.Type, Body: []byte(`{}`)}
		}
		return tx.Post(ctx, ps)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		now := time.Now()
		ds, err := c.Claim(ctx, "bench", chat.ChannelWebhook, now, time.Minute, 1)
		if err != nil || len(ds) != 1 {
			b.Fatalf("claim: %d, %v", len(ds), err)
		}
		if err := c.Sent(ctx, ds[0].DeliveryID, ds[0].Attempts, now); err != nil {
			b.Fatal(err)
		}
	}
}
