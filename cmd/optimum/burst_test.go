package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A burst of 1,000 declarations at once is answered, each with 201 or with 429 and a
// Retry-After, never left to time out, and every 201 is a stored incident: once with the
// default limits, once with limits raised so that all of them reach the store at once.
func TestABurstOfDeclarationsIsAnsweredNeverTimedOut(t *testing.T) {
	for _, tc := range []struct {
		name, config string
	}{
		{"default limits", ""},
		{"raised limits", "limits:\n  declare_per_client: {per_minute: 60000, burst: 1000}\n  declare_per_actor: {per_minute: 60000, burst: 1000}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const admin = "burst-admin-token-0123456789"
			env := map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": admin}
			if tc.config != "" {
				cfg := filepath.Join(t.TempDir(), "optimum.yaml")
				if err := os.WriteFile(cfg, []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
				env["OPTIMUM_CONFIG"] = cfg
			}
			base, _ := startServer(t, env)
			board := dialStream(t, base, admin)
			// The client's timeout is only there so a hung server fails the test.
			hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 1000}}
			const n = 1000
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				statuses = map[int]int{}
				problems []string
			)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					body := fmt.Sprintf(`{"title":"Ráfaga %d","impact":"high","urgency":"high"}`, i)
					req, _ := http.NewRequest("POST", base+"/api/v1/incidents", bytes.NewBufferString(body))
					req.Header.Set("Authorization", "Bearer "+admin)
					req.Header.Set("Content-Type", "application/json")
					res, err := hc.Do(req)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						problems = append(problems, err.Error())
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					statuses[res.StatusCode]++
					if res.StatusCode == 429 {
						if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
							problems = append(problems, "429 without a Retry-After in seconds: "+res.Header.Get("Retry-After"))
						}
					}
				})
			}
			close(start)
			wg.Wait()
			if len(problems) > 0 {
				t.Fatalf("%d requests failed, e.g. %s", len(problems), problems[0])
			}
			if statuses[201]+statuses[429] != n || statuses[201] == 0 {
				t.Fatalf("answers %v, want only 201 and 429", statuses)
			}
			t.Logf("answers: %v", statuses)
			// Every 201 is on the board: the stream carries one incident.declared each.
			board.SetReadDeadline(time.Now().Add(30 * time.Second))
			for got := 0; got < statuses[201]; {
				_, data, err := board.ReadMessage()
				if err != nil {
					t.Fatalf("board after %d of %d declarations: %v", got, statuses[201], err)
				}
				if bytes.Contains(data, []byte(`"type":"incident.declared"`)) {
					got++
				}
			}
		})
	}
}
