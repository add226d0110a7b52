package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A search of 10,000 characters, even all accented letters or emoji (about 120 KB in the
// URL), gets the API's clear problem+json answer, not a bare "header too large".
func TestAHugeSearchGetsAClearAnswer(t *testing.T) {
	const token = "search-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token})
	for name, q := range map[string]string{"accents": strings.Repeat("á", 10000), "emoji": strings.Repeat("🌋", 10000)} {
		req, _ := http.NewRequest("GET", base+"/api/v1/incidents/similar?q="+url.QueryEscape(q), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Language", "es")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 422 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s, want 422 problem+json", name, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}
