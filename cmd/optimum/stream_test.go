package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

// streamWith opens the stream of base with header (a bearer token or a session cookie)
// and reads its stream.ready.
func streamWith(t *testing.T, base string, header http.Header) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/api/v1/stream", header)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", base, err, status)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, data, err := c.ReadMessage(); err != nil || !strings.Contains(string(data), "stream.ready") {
		t.Fatalf("stream.ready: %s %v", data, err)
	}
	return c
}

// awaitSessionEnded reads the stream until the server closes it, and fails unless the
// close is 4401 (the web app's "Tu sesión terminó") and no incident arrived before it. The
// 10 s bound is for a hung test only: the hub closes the stream when it broadcasts the
// event, within its 2 s fallback poll even if a bus message were lost.
func awaitSessionEnded(t *testing.T, name string, c *websocket.Conn) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err == nil {
			if strings.Contains(string(data), `"type":"incident.`) {
				t.Errorf("%s: an incident reached a stream whose access ended: %.120s", name, data)
			}
			continue
		}
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce) && ce.Code == 4401:
			t.Logf("%s: closed 4401 after %v", name, time.Since(start).Round(time.Millisecond))
			return
		case errors.As(err, &ce):
			t.Fatalf("%s: closed with %d %q, want 4401", name, ce.Code, ce.Text)
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Fatalf("%s: the stream is still open", name)
		default:
			t.Fatalf("%s: the stream ended without a close frame: %v", name, err)
		}
	}
}

// newToken creates a token of role through the API and returns its id and secret.
func newToken(t *testing.T, base, admin, role string) (string, string) {
	t.Helper()
	status, data := (client{t, base, admin}).do("POST", "/api/v1/tokens", "application/json", `{"name":"tablero","role":"`+role+`"}`)
	var tok struct{ ID, Token string }
	if json.Unmarshal(data, &tok); status != 201 || tok.Token == "" {
		t.Fatalf("create token = %d %s", status, data)
	}
	return tok.ID, tok.Token
}

// newUserSession creates a user with a password on base and signs in; it returns the
// user's id and the Cookie header of the session.
func newUserSession(t *testing.T, base, admin, email, role string) (string, string) {
	t.Helper()
	const pw = "una frase de paso larga"
	status, data := (client{t, base, admin}).do("POST", "/api/v1/users", "application/json",
		`{"email":"`+email+`","name":"Ana López","role":"`+role+`","password":"`+pw+`"}`)
	var u struct{ ID string }
	if json.Unmarshal(data, &u); status != 201 {
		t.Fatalf("create user = %d %s", status, data)
	}
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"`+email+`","password":"`+pw+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || len(res.Cookies()) == 0 {
		t.Fatalf("sign in = %d", res.StatusCode)
	}
	return u.ID, res.Cookies()[0].Name + "=" + res.Cookies()[0].Value
}

// The embedded default, one node: revoking a token closes its streams; disabling a user
// closes theirs; the admin's stream goes on and gets the next incident.
func TestRevocationClosesOpenStreams(t *testing.T) {
	const admin = "revocation-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": admin})
	id, secret := newToken(t, base, admin, "responder")
	userID, cookie := newUserSession(t, base, admin, "ana@example.com", "responder")
	byToken := streamWith(t, base, http.Header{"Authorization": {"Bearer " + secret}})
	byCookie := streamWith(t, base, http.Header{"Cookie": {cookie}})
	adminBoard := dialStream(t, base, admin)

	if status, data := (client{t, base, admin}).do("DELETE", "/api/v1/tokens/"+id, "", ""); status != 204 {
		t.Fatalf("revoke = %d %s", status, data)
	}
	if status, data := (client{t, base, admin}).do("DELETE", "/api/v1/users/"+userID, "", ""); status/100 != 2 {
		t.Fatalf("disable = %d %s", status, data)
	}
	inc := declare(t, base, admin, "Corte de energía")
	awaitSessionEnded(t, "revoked token", byToken)
	awaitSessionEnded(t, "disabled user", byCookie)
	awaitEvent(t, adminBoard, "incident.declared", inc)
}

// Two nodes sharing PostgreSQL and Redis: a token revoked on A closes its streams on A and
// on B; a user disabled on B closes their stream on A. The change travels as an event of
// the log, so every node acts on it.
func TestRevocationClosesStreamsOnEveryNode(t *testing.T) {
	const admin = "revocation-nodes-admin-token-0123456789"
	env := map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": admin, "OPTIMUM_DATABASE_URL": storetest.PostgresURL(t),
		"OPTIMUM_REDIS_URL": testenv.RedisURL(t), "OPTIMUM_REDIS_PREFIX": testenv.Prefix(t)}
	a, _ := startServer(t, env)
	b, _ := startServer(t, env)
	awaitReady(t, a, 200)
	awaitReady(t, b, 200)
	id, secret := newToken(t, a, admin, "responder")
	userID, cookie := newUserSession(t, a, admin, "ana@example.com", "responder")
	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	onA, onB := streamWith(t, a, bearer), streamWith(t, b, bearer)
	userOnA := streamWith(t, a, http.Header{"Cookie": {cookie}})
	adminOnB := dialStream(t, b, admin)

	if status, data := (client{t, a, admin}).do("DELETE", "/api/v1/tokens/"+id, "", ""); status != 204 {
		t.Fatalf("revoke on A = %d %s", status, data)
	}
	if status, data := (client{t, b, admin}).do("DELETE", "/api/v1/users/"+userID, "", ""); status/100 != 2 {
		t.Fatalf("disable on B = %d %s", status, data)
	}
	inc := declare(t, a, admin, "Inundación en el sótano")
	awaitSessionEnded(t, "token's stream on A", onA)
	awaitSessionEnded(t, "token's stream on B", onB)
	awaitSessionEnded(t, "user's stream on A", userOnA)
	awaitEvent(t, adminOnB, "incident.declared", inc)
}
