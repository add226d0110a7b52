package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/chat"
)

// ChatStore keeps team chat channels and outbound webhooks (internal/store.Chat). The
// webhooks flag picks the group: webhooks, or team chats (Teams and Slack).
type ChatStore interface {
	CreateSubscription(ctx context.Context, s chat.Subscription, cred chat.Credentials, actor optimum.Actor, at time.Time) (chat.Subscription, error)
	Subscriptions(ctx context.Context, webhooks bool) ([]chat.Subscription, error)
	Subscription(ctx context.Context, id string, webhooks bool) (chat.Subscription, error)
	DeleteSubscription(ctx context.Context, id string, webhooks bool, actor optimum.Actor, at time.Time) error
	ResumeSubscription(ctx context.Context, id string, webhooks bool, actor optimum.Actor, at time.Time) (chat.Subscription, error)
	Broken(ctx context.Context) ([]chat.Subscription, error)
	Posts(ctx context.Context, subscription string, limit int) ([]chat.PostState, error)
	IncidentPosts(ctx context.Context, incidentID string, limit int) ([]chat.PostState, error)
}

// chatChannelInput is the body of POST /api/v1/chat-channels.
type chatChannelInput struct {
	Team     string `json:"team"`
	Kind     string `json:"kind"` // teams or slack
	Name     string `json:"name"`
	URL      string `json:"url"`     // the Workflows URL, or a Slack incoming webhook
	Token    string `json:"token"`   // Slack: a bot token, for chat.postMessage
	Channel  string `json:"channel"` // Slack: the conversation id, with token
	Language string `json:"language"`
}

// webhookInput is the body of POST /api/v1/webhooks.
type webhookInput struct {
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// webhookCreated is the answer to POST /api/v1/webhooks: the only time the secret is shown.
type webhookCreated struct {
	chat.Subscription
	Secret string `json:"secret"`
}

// webhookEventTypes are the event types a webhook may subscribe to by name; "prefix.*"
// takes every type under a prefix and "*" every event.
var webhookEventTypes = []string{
	"incident.declared", "incident.acknowledged", "incident.transitioned", "incident.update_posted",
	"incident.escalated", "incident.escalation_empty", "incident.escalation_owned", "incident.escalation_exhausted",
	"incident.sla_breached", "incident.assigned", "incident.reclassified", "incident.known_error",
	"incident.safety_answered", "incident.deliveries_progress",
	"drill.started", "drill.ended", "drill.cancelled", "drill.skipped",
	"person.created", "person.updated", "team.created", "team.updated", "directory.imported",
}

var webhookPrefixes = []string{"incident.*", "drill.*", "person.*", "team.*", "*"}

var slackChannelID = regexp.MustCompile(`^[A-Z0-9]{2,30}$`)

func (s *Server) chatEnabled() error {
	if s.Chat == nil {
		return optimum.Errorf(optimum.ENOTFOUND, "Chat channels and webhooks are not enabled on this server.")
	}
	return nil
}

// checkURL adds a field error unless raw is an absolute URL the outbound guard's scheme
// rule allows (https; http only to an allowed loopback address). Its address is checked
// again at every connection, after DNS.
func (s *Server) checkURL(field, raw string, f *[]optimum.FieldError) {
	if raw == "" {
		*f = append(*f, optimum.FieldError{Field: field, Message: "is required"})
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || len(raw) > 2000 {
		*f = append(*f, optimum.FieldError{Field: field, Message: "is not an absolute URL such as https://example.com/hook"})
		return
	}
	if u.User != nil {
		*f = append(*f, optimum.FieldError{Field: field, Message: "must not carry a user name or password"})
		return
	}
	if err := s.Config.OutboundGuard().CheckScheme(u.Scheme, u.Hostname()); err != nil {
		*f = append(*f, optimum.FieldError{Field: field, Message: "must be an https URL"})
	}
}

func checkName(name string, f *[]optimum.FieldError) {
	if utf8.RuneCountInString(name) > 100 {
		*f = append(*f, optimum.FieldError{Field: "name", Message: fmt.Sprintf("is too long (at most %d characters)", 100)})
	}
}

// createChatChannel handles POST /api/v1/chat-channels: a team's Teams or Slack channel.
// 201 with the channel, without its URL or token (they are credentials and are never
// shown again).
func (s *Server) createChatChannel(w http.ResponseWriter, r *http.Request) error {
	if err := s.chatEnabled(); err != nil {
		return err
	}
	var in chatChannelInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.Team, in.Name, in.Channel = strings.TrimSpace(in.Team), strings.TrimSpace(in.Name), strings.TrimSpace(in.Channel)
	var f []optimum.FieldError
	if in.Team == "" {
		f = append(f, optimum.FieldError{Field: "team", Message: "is required"})
	}
	switch in.Kind {
	case chat.ChannelTeams:
		s.checkURL("url", in.URL, &f)
		if in.Token != "" || in.Channel != "" {
			f = append(f, optimum.FieldError{Field: "token", Message: "is only for Slack"})
		}
	case chat.ChannelSlack:
		switch {
		case in.URL != "" && in.Token != "":
			f = append(f, optimum.FieldError{Field: "token", Message: "give either url (an incoming webhook) or token and channel (chat.postMessage), not both"})
		case in.Token != "":
			if !strings.HasPrefix(in.Token, "xox") || len(in.Token) > 300 || strings.ContainsAny(in.Token, " \r\n") {
				f = append(f, optimum.FieldError{Field: "token", Message: "is not a Slack bot token (xoxb-…)"})
			}
			if !slackChannelID.MatchString(in.Channel) {
				f = append(f, optimum.FieldError{Field: "channel", Message: "is not a Slack channel id such as C0123456789"})
			}
		default:
			s.checkURL("url", in.URL, &f)
		}
	case "":
		f = append(f, optimum.FieldError{Field: "kind", Message: "is required"})
	default:
		f = append(f, optimum.FieldError{Field: "kind", Message: fmt.Sprintf("%q is not one of teams or slack", in.Kind)})
	}
	switch in.Language {
	case "":
		in.Language = "es"
	case "es", "en":
	default:
		f = append(f, optimum.FieldError{Field: "language", Message: fmt.Sprintf("%q is not one of es or en", in.Language)})
	}
	checkName(in.Name, &f)
	if err := optimum.Invalid("The chat channel has errors.", f); err != nil {
		return err
	}
	if in.Name == "" {
		in.Name = in.Kind + " " + in.Team
	}
	actor, _ := optimum.ActorFrom(r.Context())
	sub, err := s.Chat.CreateSubscription(r.Context(), chat.Subscription{Kind: in.Kind, Name: in.Name, Team: in.Team, Channel: in.Channel, Language: in.Language},
		chat.Credentials{URL: in.URL, Token: in.Token}, actor, time.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sub)
	return nil
}

// createWebhook handles POST /api/v1/webhooks: an endpoint that gets the events of the
// types it subscribes to, signed. 201 with the signing secret, shown only now.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.chatEnabled(); err != nil {
		return err
	}
	var in webhookInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	var f []optimum.FieldError
	if in.Name == "" {
		f = append(f, optimum.FieldError{Field: "name", Message: "is required"})
	}
	checkName(in.Name, &f)
	s.checkURL("url", in.URL, &f)
	if len(in.Events) == 0 {
		f = append(f, optimum.FieldError{Field: "events", Message: "is required"})
	}
	for _, e := range in.Events {
		if !slices.Contains(webhookEventTypes, e) && !slices.Contains(webhookPrefixes, e) {
			f = append(f, optimum.FieldError{Field: "events", Message: fmt.Sprintf("%q is not an event type; see docs/channels.md", e)})
		}
	}
	if err := optimum.Invalid("The webhook has errors.", f); err != nil {
		return err
	}
	slices.Sort(in.Events)
	actor, _ := optimum.ActorFrom(r.Context())
	secret := chat.NewSecret()
	sub, err := s.Chat.CreateSubscription(r.Context(), chat.Subscription{Kind: chat.ChannelWebhook, Name: in.Name, Events: slices.Compact(in.Events), Language: "es"},
		chat.Credentials{URL: in.URL, Secret: secret}, actor, time.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookCreated{Subscription: sub, Secret: secret})
	return nil
}

// listSubscriptions handles GET /api/v1/chat-channels and GET /api/v1/webhooks.
func (s *Server) listSubscriptions(webhooks bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.chatEnabled(); err != nil {
			return err
		}
		list, err := s.Chat.Subscriptions(r.Context(), webhooks)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list)
		return nil
	}
}

// deleteSubscription handles DELETE /api/v1/chat-channels/{id} and /api/v1/webhooks/{id}:
// its queued posts are cancelled. 204.
func (s *Server) deleteSubscription(webhooks bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.chatEnabled(); err != nil {
			return err
		}
		actor, _ := optimum.ActorFrom(r.Context())
		if err := s.Chat.DeleteSubscription(r.Context(), r.PathValue("id"), webhooks, actor, time.Now()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// resumeSubscription handles POST …/{id}/resume: a broken subscription (its endpoint
// answered 404 or 410) gets posts again, of the events from now on.
func (s *Server) resumeSubscription(webhooks bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.chatEnabled(); err != nil {
			return err
		}
		actor, _ := optimum.ActorFrom(r.Context())
		sub, err := s.Chat.ResumeSubscription(r.Context(), r.PathValue("id"), webhooks, actor, time.Now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, sub)
		return nil
	}
}

// subscriptionPosts handles GET …/{id}/posts: the latest 50 posts with every attempt
// and its outcome.
func (s *Server) subscriptionPosts(webhooks bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.chatEnabled(); err != nil {
			return err
		}
		sub, err := s.Chat.Subscription(r.Context(), r.PathValue("id"), webhooks)
		if err != nil {
			return err
		}
		posts, err := s.Chat.Posts(r.Context(), sub.ID, 50)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, posts)
		return nil
	}
}

// incidentChatPosts handles GET /api/v1/incidents/{id}/chat-posts: what the team chats
// and webhooks were sent about the incident, each post with its attempts (the latest 200).
func (s *Server) incidentChatPosts(w http.ResponseWriter, r *http.Request) error {
	inc, _, err := s.access(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	posts := []chat.PostState{}
	if s.Chat != nil {
		if posts, err = s.Chat.IncidentPosts(r.Context(), inc.ID, 200); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, posts)
	return nil
}

// brokenChat lists the broken subscriptions for the readiness page ([] when none or when
// chat is off).
func (s *Server) brokenChat(ctx context.Context) ([]chat.Subscription, error) {
	if s.Chat == nil {
		return []chat.Subscription{}, nil
	}
	return s.Chat.Broken(ctx)
}

// ChatConcern is /readyz's "chat" concern: how many subscriptions are broken (counts
// only: the endpoint is public).
func ChatConcern(store ChatStore) Concern {
	return Concern{Name: "chat", Reasons: func(ctx context.Context) []string {
		broken, err := store.Broken(ctx)
		if err != nil || len(broken) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("broken: %d chat channels or webhooks (their endpoint is gone, 404 or 410, or refused); see chat_broken in /api/v1/readiness", len(broken))}
	}}
}
