package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/broadcast/chat/chattest"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

type targets map[string]chat.Target

func (t targets) Target(_ context.Context, id string) (chat.Target, error) {
	if tg, ok := t[id]; ok {
		return tg, nil
	}
	return chat.Target{}, chat.ErrNoTarget
}

func message(t *testing.T, id, to string, p chat.Post) broadcast.Message {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return broadcast.Message{DeliveryID: id, To: to, Text: string(b), Attempt: 1}
}

var loopback = netguard.Policy{Allow: netguard.Loopback}

var alert = chat.Post{
	Title: "SIMULACRO · Alerta P1 · BCP-2026-000001", Text: "Caída del sistema de pagos <prod> & co",
	Facts:  []chat.Fact{{Name: "Prioridad", Value: "P1"}, {Name: "Estado", Value: "Declarado"}},
	Button: "Abrir el incidente", URL: "https://bcp.example.com/#/incidente/BCP-2026-000001", Drill: true,
}

func TestTeamsPostsAnAdaptiveCardTheWorkflowAccepts(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	s := chat.NewTeams(targets{"sub1": {ID: "sub1", Kind: chat.ChannelTeams, URL: fake.URL + "/teams/ops"}}, chat.Client(loopback))
	if _, err := s.Send(context.Background(), message(t, "post1", "sub1", alert)); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := fake.Received()
	if len(got) != 1 || got[0].Rejected != "" || got[0].Status != http.StatusAccepted {
		t.Fatalf("received %+v, want one accepted card", got)
	}
	card := got[0].Card
	body, _ := card["body"].([]any)
	first, _ := body[0].(map[string]any)
	if first["text"] != alert.Title {
		t.Errorf("first text block = %v, want the title %q", first["text"], alert.Title)
	}
	acts, _ := card["actions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["url"] != alert.URL || acts[0].(map[string]any)["title"] != "Abrir el incidente" {
		t.Errorf("actions = %v, want one button to the incident", acts)
	}
}

func TestTeamsFakeRefusesACardWithoutItsRequiredFields(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	for _, body := range []string{
		`{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[]}}]}`,
		`{"attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4"}}]}`,
		`{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock"}]}}]}`,
	} {
		resp, err := http.Post(fake.URL+"/teams/ops", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, resp.StatusCode)
		}
	}
}

func TestSlackIncomingWebhookAndPostMessageWithItsBearerToken(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	fake.AddSlackBot("xoxb-good", "C0OPS")
	tg := targets{
		"hook": {ID: "hook", Kind: chat.ChannelSlack, URL: fake.URL + "/slack/ops"},
		"bot":  {ID: "bot", Kind: chat.ChannelSlack, Token: "xoxb-good", Channel: "C0OPS"},
		"bad":  {ID: "bad", Kind: chat.ChannelSlack, Token: "xoxb-revoked", Channel: "C0OPS"},
	}
	s := chat.NewSlack(tg, chat.Client(loopback), fake.URL+"/api/")
	ctx := context.Background()
	if _, err := s.Send(ctx, message(t, "p1", "hook", alert)); err != nil {
		t.Fatalf("webhook: %v", err)
	}
	if _, err := s.Send(ctx, message(t, "p2", "bot", alert)); err != nil {
		t.Fatalf("chat.postMessage: %v", err)
	}
	retry, err := s.Send(ctx, message(t, "p3", "bad", alert))
	if !errors.Is(err, broadcast.ErrGone) || retry {
		t.Errorf("revoked token: retry %v, err %v; want the subscription gone, not retried", retry, err)
	}
	got := fake.Received()
	if len(got) != 3 || got[0].Rejected != "" || got[1].Rejected != "" || got[2].Rejected != "invalid_auth" {
		t.Fatalf("received %+v", got)
	}
	if got[1].Header.Get("Authorization") != "Bearer xoxb-good" {
		t.Errorf("chat.postMessage Authorization = %q", got[1].Header.Get("Authorization"))
	}
	for _, r := range got[:2] {
		var header, button bool
		for _, b := range r.Blocks {
			switch b["type"] {
			case "header":
				header = b["text"].(map[string]any)["text"] == alert.Title
			case "actions":
				btn := b["elements"].([]any)[0].(map[string]any)
				button = btn["url"] == alert.URL
			case "section":
				if txt, ok := b["text"].(map[string]any); ok && txt["text"] != "Caída del sistema de pagos &lt;prod&gt; &amp; co" {
					t.Errorf("section text %q: & < > must be escaped for mrkdwn", txt["text"])
				}
			}
		}
		if !header || !button {
			t.Errorf("%s: header %v, button %v; want the title and a button to the incident", r.Service, header, button)
		}
	}
}

func TestWebhookIsSignedAsStandardWebhooksSays(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	secret := chat.NewSecret()
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q does not start whsec_", secret)
	}
	fake.SetSecret("itsm", secret)
	fake.SetSecret("other", chat.NewSecret())
	tg := targets{
		"good":  {ID: "good", Kind: chat.ChannelWebhook, URL: fake.URL + "/webhook/itsm", Secret: secret},
		"wrong": {ID: "wrong", Kind: chat.ChannelWebhook, URL: fake.URL + "/webhook/other", Secret: secret},
	}
	s := chat.NewWebhook(tg, chat.Client(loopback), nil)
	p := chat.Post{Title: "incident.declared", Body: json.RawMessage(`{"type":"incident.declared","data":{"folio":"BCP-2026-000001"}}`)}
	if _, err := s.Send(context.Background(), message(t, "msg_2Ab", "good", p)); err != nil {
		t.Fatalf("send: %v", err)
	}
	retry, err := s.Send(context.Background(), message(t, "msg_2Ac", "wrong", p))
	if err == nil || retry || errors.Is(err, broadcast.ErrGone) {
		t.Errorf("a 401 for a bad signature: retry %v, err %v; want a permanent failure", retry, err)
	}
	got := fake.Received()
	if got[0].Rejected != "" || got[0].Header.Get("webhook-id") != "msg_2Ab" || string(got[0].Body) != string(p.Body) {
		t.Errorf("first post: %+v", got[0])
	}
	if !strings.HasPrefix(got[1].Rejected, "signature") {
		t.Errorf("second post with another endpoint's secret: rejected %q", got[1].Rejected)
	}
}

func TestStatusMapsAnswersToRetryGoneOrFailure(t *testing.T) {
	for _, c := range []struct {
		code       int
		retryAfter string
		retry      bool
		gone, ok   bool
		after      time.Duration
	}{
		{200, "", false, false, true, 0},
		{202, "", false, false, true, 0},
		{204, "", false, false, true, 0},
		{301, "", false, false, false, 0},
		{400, "", false, false, false, 0},
		{401, "", false, false, false, 0},
		{404, "", false, true, false, 0},
		{410, "", false, true, false, 0},
		{408, "", true, false, false, 0},
		{429, "7", true, false, false, 7 * time.Second},
		{429, "", true, false, false, 30 * time.Second},
		{500, "", true, false, false, 0},
		{503, "12", true, false, false, 12 * time.Second},
	} {
		retry, err := chat.Status(c.code, c.retryAfter)
		if retry != c.retry || (err == nil) != c.ok || errors.Is(err, broadcast.ErrGone) != c.gone {
			t.Errorf("%d: retry %v, err %v; want retry %v, ok %v, gone %v", c.code, retry, err, c.retry, c.ok, c.gone)
		}
		var ra *broadcast.RetryAfterError
		if got := errors.As(err, &ra); got != (c.after > 0) || (got && ra.After != c.after) {
			t.Errorf("%d Retry-After %q: %v, want a wait of %v", c.code, c.retryAfter, err, c.after)
		}
	}
}

func TestAnInternalAddressIsRefusedAtDialTimeAndNeverReached(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	port := fake.URL[strings.LastIndex(fake.URL, ":")+1:]
	// "localhost" is not an IP literal: only the dialer, after DNS, sees it is 127.0.0.1.
	tg := targets{"sub": {ID: "sub", Kind: chat.ChannelTeams, URL: "https://localhost:" + port + "/teams/ops"}}
	s := chat.NewTeams(tg, chat.Client(netguard.Policy{}))
	retry, err := s.Send(context.Background(), message(t, "p", "sub", alert))
	if !errors.Is(err, netguard.ErrRefused) || !errors.Is(err, broadcast.ErrGone) || retry {
		t.Errorf("retry %v, err %v; want refused by the guard, not retried", retry, err)
	}
	if n := len(fake.Received()); n != 0 {
		t.Errorf("the fake got %d requests, want none", n)
	}
}

// BenchmarkWebhookSend is one signed webhook post to the local fake, which verifies the
// signature with the reference library: the sender's cost per post over loopback.
func BenchmarkWebhookSend(b *testing.B) {
	fake := chattest.New()
	defer fake.Close()
	secret := chat.NewSecret()
	fake.SetSecret("itsm", secret)
	s := chat.NewWebhook(targets{"good": {ID: "good", Kind: chat.ChannelWebhook, URL: fake.URL + "/webhook/itsm", Secret: secret}}, chat.Client(loopback), nil)
	body, _ := json.Marshal(chat.Post{Title: "incident.declared", Body: json.RawMessage(`{"type":"incident.declared","data":{"folio":"BCP-2026-000001","title":"Caída del sistema de pagos"}}`)})
	m := broadcast.Message{DeliveryID: "msg_bench", To: "good", Text: string(body), Attempt: 1}
	for b.Loop() {
		if _, err := s.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTeamsCard renders one Adaptive Card message.
func BenchmarkTeamsCard(b *testing.B) {
	for b.Loop() {
		if _, err := json.Marshal(chat.TeamsMessage(alert)); err != nil {
			b.Fatal(err)
		}
	}
}

type failingTargets struct{}

func (failingTargets) Target(context.Context, string) (chat.Target, error) {
	return chat.Target{}, errors.New("database is closed")
}

// A post whose subscription cannot be looked up (the database is away) is retried; one
// whose subscription was deleted is not.
func TestALookupThatFailsIsRetriedADeletedSubscriptionIsNot(t *testing.T) {
	p := chat.Post{Title: "x", Body: json.RawMessage(`{}`)}
	retry, err := chat.NewWebhook(failingTargets{}, chat.Client(loopback), nil).Send(context.Background(), message(t, "m1", "s", p))
	if err == nil || !retry {
		t.Errorf("a failed lookup: retry %v, err %v; want retried", retry, err)
	}
	retry, err = chat.NewWebhook(targets{}, chat.Client(loopback), nil).Send(context.Background(), message(t, "m2", "s", p))
	if !errors.Is(err, chat.ErrNoTarget) || retry {
		t.Errorf("a deleted subscription: retry %v, err %v; want a permanent failure", retry, err)
	}
}

// Slack's answers through slack-go: an archived channel's webhook (410) and a deleted
// one (404) are gone; a 429 waits for its Retry-After; Slack's 500 is retried.
func TestSlackAnswersMapToGoneOrRetry(t *testing.T) {
	fake := chattest.New()
	defer fake.Close()
	fake.AddSlackBot("xoxb-good", "C0OPS")
	fake.AnswerAlways("/slack/archived", http.StatusGone)
	fake.AnswerAlways("/slack/deleted", http.StatusNotFound)
	fake.AnswerAlways("/slack/busy", http.StatusTooManyRequests)
	fake.AnswerAlways("/slack-api/C0OPS", http.StatusInternalServerError)
	tg := targets{
		"archived": {ID: "archived", Kind: chat.ChannelSlack, URL: fake.URL + "/slack/archived"},
		"deleted":  {ID: "deleted", Kind: chat.ChannelSlack, URL: fake.URL + "/slack/deleted"},
		"busy":     {ID: "busy", Kind: chat.ChannelSlack, URL: fake.URL + "/slack/busy"},
		"down":     {ID: "down", Kind: chat.ChannelSlack, Token: "xoxb-good", Channel: "C0OPS"},
	}
	s := chat.NewSlack(tg, chat.Client(loopback), fake.URL+"/api/")
	for _, c := range []struct {
		id          string
		retry, gone bool
	}{
		{"archived", false, true},
		{"deleted", false, true},
		{"busy", true, false},
		{"down", true, false},
	} {
		retry, err := s.Send(context.Background(), message(t, "p-"+c.id, c.id, alert))
		if err == nil || retry != c.retry || errors.Is(err, broadcast.ErrGone) != c.gone {
			t.Errorf("%s: retry %v, err %v; want retry %v, gone %v", c.id, retry, err, c.retry, c.gone)
		}
	}
}
