package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// streamFrame is what the tests read of a frame.
type streamFrame struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	Incident struct {
		Title string `json:"title"`
	} `json:"incident"`
}

// openStream opens the stream with a bearer token or, when cookie is set, a session
// cookie, and reads its stream.ready.
func (a *api) openStream(token, cookie, query string) *websocket.Conn {
	a.t.Helper()
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	} else {
		h.Set("Authorization", "Bearer "+token)
	}
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.srv.URL, "http")+"/api/v1/stream"+query, h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		a.t.Fatalf("dial stream: %v (HTTP %d)", err, status)
	}
	a.t.Cleanup(func() { c.Close() })
	if f := readFrame(a.t, c); f.Type != "stream.ready" {
		a.t.Fatalf("first frame %+v, want stream.ready", f)
	}
	return c
}

func readFrame(t *testing.T, c *websocket.Conn) streamFrame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f streamFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// nextEvent reads past heartbeats to the next event.
func nextEvent(t *testing.T, c *websocket.Conn) streamFrame {
	t.Helper()
	for {
		if f := readFrame(t, c); f.Type != "stream.heartbeat" {
			return f
		}
	}
}

// awaitClose reads until the stream ends and returns its close code and reason; a stream
// still open after 10 s fails the test (the hub acts on the event as soon as it is
// broadcast, within its 2 s fallback poll at worst).
func awaitClose(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err == nil {
			var f streamFrame
			json.Unmarshal(data, &f)
			if strings.HasPrefix(f.Type, "incident.") {
				t.Errorf("an incident frame reached a stream whose access ended: %s", data)
			}
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the stream is still open")
		}
		t.Fatalf("the stream ended without a close frame: %v", err)
		return 0, ""
	}
}

func (a *api) declareTitled(token, cookie, title string) {
	a.t.Helper()
	d := declaration()
	d["title"] = title
	var res response
	if cookie != "" {
		res = a.do("POST", "/api/v1/incidents", "", d, "Cookie", cookie, "Origin", a.srv.URL)
	} else {
		res = a.do("POST", "/api/v1/incidents", token, d)
	}
	if res.status != 201 {
		a.t.Fatalf("declare %q = %d %s", title, res.status, res.body)
	}
}

// Revoking a token closes its open streams with 4401 (the web app's "Tu sesión
// terminó"), and no incident declared afterwards reaches them; the streams of other
// credentials go on.
func TestRevokingATokenClosesItsStreams(t *testing.T) {
	storetest.Each(t, testRevokingATokenClosesItsStreams)
}

func testRevokingATokenClosesItsStreams(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("POST", "/api/v1/tokens", adminToken, map[string]string{"name": "tablero", "role": "responder"})
	var tok struct{ ID, Token string }
	res.json(t, &tok)
	if res.status != 201 || tok.ID == "" {
		t.Fatalf("create token = %d %s", res.status, res.body)
	}
	board1 := a.openStream(tok.Token, "", "")
	board2 := a.openStream(tok.Token, "", "?since=0")
	admin := a.openStream(adminToken, "", "")

	if res := a.do("DELETE", "/api/v1/tokens/"+tok.ID, adminToken, nil); res.status != 204 {
		t.Fatalf("revoke = %d %s", res.status, res.body)
	}
	a.declareTitled(adminToken, "", "after the revocation")
	for i, c := range []*websocket.Conn{board1, board2} {
		if code, reason := awaitClose(t, c); code != 4401 || !strings.Contains(reason, "session ended") {
			t.Errorf("board %d closed with %d %q, want 4401 session ended", i+1, code, reason)
		}
	}
	// The admin's stream saw the revocation and then the incident.
	if f := nextEvent(t, admin); f.Type != "token.revoked" {
		t.Errorf("admin got %+v, want token.revoked", f)
	}
	if f := nextEvent(t, admin); f.Incident.Title != "after the revocation" {
		t.Errorf("admin got %+v, want the incident", f)
	}
	// A revoked token cannot open a new stream either.
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.srv.URL, "http")+"/api/v1/stream?token="+tok.Token, nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("a revoked token opened a stream: %v", err)
	}
}

// Disabling a user closes the streams of their browser sessions with 4401.
func TestDisablingAUserClosesTheirStreams(t *testing.T) {
	storetest.Each(t, testDisablingAUserClosesTheirStreams)
}

func testDisablingAUserClosesTheirStreams(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	id := a.createUser("ana@example.com", optimum.RoleResponder)
	cookie := a.session("ana@example.com", password)
	board := a.openStream("", cookie, "")
	other := a.openStream(adminToken, "", "")
	if res := a.do("DELETE", "/api/v1/users/"+id, adminToken, nil); res.status != 204 && res.status != 200 {
		t.Fatalf("disable = %d %s", res.status, res.body)
	}
	a.declareTitled(adminToken, "", "after disabling")
	if code, _ := awaitClose(t, board); code != 4401 {
		t.Errorf("closed with %d, want 4401", code)
	}
	for f := nextEvent(t, other); f.Type != "incident.declared"; f = nextEvent(t, other) {
	}
}

// A user whose role is lowered from responder to reporter keeps the stream but sees, from
// the change on, what a reporter sees: their own incidents and no one else's.
func TestLoweringARoleFiltersTheOpenStream(t *testing.T) {
	storetest.Each(t, testLoweringARoleFiltersTheOpenStream)
}

func testLoweringARoleFiltersTheOpenStream(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	id := a.createUser("ana@example.com", optimum.RoleResponder)
	cookie := a.session("ana@example.com", password)
	board := a.openStream("", cookie, "")
	a.declareTitled(adminToken, "", "seen as a responder")
	if f := nextEvent(t, board); f.Incident.Title != "seen as a responder" {
		t.Fatalf("got %+v, want the first incident", f)
	}
	if res := a.do("PATCH", "/api/v1/users/"+id, adminToken, map[string]string{"role": "reporter"}); res.status != 200 {
		t.Fatalf("lower role = %d %s", res.status, res.body)
	}
	a.declareTitled(adminToken, "", "not for a reporter")
	a.declareTitled("", cookie, "her own")
	if f := nextEvent(t, board); f.Incident.Title != "her own" {
		t.Errorf("after the role was lowered the stream got %+v, want only her own incident", f)
	}
}

// The streams of one token and of one user are capped (limits are per credentials, not
// per address: every client here shares 127.0.0.1); the stream over the cap is closed
// with 4429 and a reason that names the cap.
func TestStreamsPerTokenAndPerUserAreCapped(t *testing.T) {
	a, _ := newUserAPI(t, func(c *config.Config) {
		generous(c)
		c.Stream.MaxPerToken, c.Stream.MaxPerUser = 3, 2
	})
	a.createUser("ana@example.com", optimum.RoleResponder)
	cookie := a.session("ana@example.com", password)
	other := a.token(optimum.RoleResponder)
	var others []*websocket.Conn
	for range 3 {
		a.openStream(adminToken, "", "")
		others = append(others, a.openStream(other, "", ""))
	}
	for range 2 {
		a.openStream("", cookie, "")
	}
	over := func(h http.Header) (int, string) {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.srv.URL, "http")+"/api/v1/stream", h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return awaitClose(t, c)
	}
	if code, reason := over(http.Header{"Authorization": {"Bearer " + adminToken}}); code != 4429 || !strings.Contains(reason, "at most 3") {
		t.Errorf("4th stream of a token: %d %q, want 4429 naming 3", code, reason)
	}
	if code, reason := over(http.Header{"Cookie": {cookie}}); code != 4429 || !strings.Contains(reason, "at most 2") {
		t.Errorf("3rd stream of a user: %d %q, want 4429 naming 2", code, reason)
	}
	// A stream that ends frees its place.
	n := a.api.Hub.Connections()
	others[0].Close()
	for deadline := time.Now().Add(10 * time.Second); a.api.Hub.Connections() != n-1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closed stream was not forgotten")
		}
	}
	a.openStream(other, "", "")
}

// A since beyond the newest event is a 422 that names the newest event (in Spanish by
// default and in English on request); a since at the head is fine.
func TestStreamSinceBeyondTheLogIs422(t *testing.T) {
	storetest.Each(t, testStreamSinceBeyondTheLogIs422)
}

func testStreamSinceBeyondTheLogIs422(t *testing.T) {
	a := newAPI(t, adminToken)
	a.declareTitled(adminToken, "", "one")
	head, err := a.db.LastEventID(context.Background())
	if err != nil || head < 1 {
		t.Fatalf("head %d %v", head, err)
	}
	beyond := "/api/v1/stream?since=" + itoa(head+5)
	res := a.do("GET", beyond, adminToken, nil, "Accept-Language", "en")
	var p struct {
		Detail string
		Errors []optimum.FieldError
	}
	res.json(t, &p)
	if res.status != 422 || !strings.Contains(p.Detail, "the newest event is "+itoa(head)) || len(p.Errors) != 1 || p.Errors[0].Field != "since" {
		t.Errorf("since beyond: %d %s", res.status, res.body)
	}
	res = a.do("GET", beyond, adminToken, nil, "Accept-Language", "es-MX")
	if res.status != 422 || !strings.Contains(string(res.body), "el más reciente es el "+itoa(head)) {
		t.Errorf("since beyond, Spanish: %d %s", res.status, res.body)
	}
	c := a.openStream(adminToken, "", "?since="+itoa(head))
	a.declareTitled(adminToken, "", "two")
	if f := nextEvent(t, c); f.Incident.Title != "two" {
		t.Errorf("since at the head got %+v", f)
	}
}

// A stream that asks for a protocol version this server does not speak is closed with
// 4400 and a reason that says which it speaks.
func TestStreamRefusesAnUnknownProtocolVersion(t *testing.T) {
	a := newAPI(t, adminToken)
	for _, v := range []string{"3", "0", "two"} {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.srv.URL, "http")+"/api/v1/stream?v="+v+"&token="+adminToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code, reason := awaitClose(t, c); code != 4400 || !strings.Contains(reason, "version") {
			t.Errorf("v=%s: %d %q, want 4400 naming the versions", v, code, reason)
		}
		c.Close()
	}
}

// An idle stream gets {"type":"stream.heartbeat","id":<head>}.
func TestIdleStreamGetsHeartbeats(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) { c.Stream.Heartbeat = config.Duration(200 * time.Millisecond) })
	a.declareTitled(adminToken, "", "one")
	head, _ := a.db.LastEventID(context.Background())
	c := a.openStream(adminToken, "", "")
	for range 2 {
		if f := readFrame(t, c); f.Type != "stream.heartbeat" || f.ID != head {
			t.Fatalf("idle frame %+v, want stream.heartbeat with id %d", f, head)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A password change ends the user's other sessions, and with them their streams (4401);
// the stream of the session that made the change stays.
func TestAPasswordChangeClosesTheStreamsOfTheEndedSessions(t *testing.T) {
	storetest.Each(t, testAPasswordChangeClosesTheStreamsOfTheEndedSessions)
}

func testAPasswordChangeClosesTheStreamsOfTheEndedSessions(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	a.createUser("ana@example.com", optimum.RoleResponder)
	desk, phone := a.session("ana@example.com", password), a.session("ana@example.com", password)
	onDesk, onPhone := a.openStream("", desk, ""), a.openStream("", phone, "")
	if res := a.do("POST", "/api/v1/me/password", "", map[string]string{"current": password, "new": "otra frase de paso larga"}, "Cookie", desk, "Origin", a.srv.URL); res.status != 204 {
		t.Fatalf("change = %d %s", res.status, res.body)
	}
	if code, _ := awaitClose(t, onPhone); code != 4401 {
		t.Errorf("the other session's stream closed with %d, want 4401", code)
	}
	a.declareTitled(adminToken, "", "after the change")
	if f := nextEvent(t, onDesk); f.Incident.Title != "after the change" {
		t.Errorf("the changing session's stream got %+v", f)
	}
}
