package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/oidc/oidctest"
)

// startSSOServer runs the server through run with the provider "corp" of a real OpenID
// provider on loopback (oidctest) and password sign-in off; the provider signs in Sol,
// a manager.
func startSSOServer(t *testing.T, token string) (string, *oidctest.Provider, *logBuffer) {
	t.Helper()
	op := oidctest.Start(t)
	truth := true
	op.SignIn(oidctest.User{Subject: "sub-sol", Email: "sol@example.com", EmailVerified: &truth, Name: "Sol Méndez", Groups: []string{"bcp-managers"}})
	cfg := filepath.Join(t.TempDir(), "optimum.yaml")
	yaml := "outbound:\n  allow_networks: [\"127.0.0.1\"]\n" +
		"sso:\n  password_sign_in: false\n  providers:\n    - id: corp\n      name: {es: \"Cuenta de la empresa\", en: \"Company account\"}\n" +
		"      issuer: \"" + op.URL + "\"\n      client_id: " + op.ClientID + "\n      roles: {bcp-managers: manager}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_CONFIG": cfg,
		"OPTIMUM_SSO_CORP_CLIENT_SECRET": op.ClientSecret})
	op.AllowRedirect(base + "/sso/corp/callback")
	return base, op, logs
}

// The server as deployed (run, the example's wiring, the client secret from the
// environment, the outbound guard) signs a person in through the provider.
func TestSSOSignInThroughTheServer(t *testing.T) {
	base, op, _ := startSSOServer(t, "sso-admin-token-0123456789")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	res, err := c.Get(base + "/sso/corp/start") // follows the provider back to the board
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/" {
		t.Fatalf("sign-in ended at %s with %d (provider refused: %v)", res.Request.URL, res.StatusCode, op.Refused())
	}
	res, err = c.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"role":"manager"`) || !strings.Contains(string(body), "Sol Méndez") {
		t.Fatalf("me = %d %s, want Sol Méndez as manager", res.StatusCode, body)
	}
}

// TestBrowserSSO runs test/browser/sso.check.mjs: the sign-in page with password
// sign-in off, on a phone, and a sign-in through the provider's button.
func TestBrowserSSO(t *testing.T) {
	node, chromium, dir, artifacts := browserTools(t)
	const token = "sso-browser-token-0123456789"
	base, _, logs := startSSOServer(t, token)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "sso.check.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPTIMUM_URL="+base, "OPTIMUM_TOKEN="+token, "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test sso.check.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v\nserver log:\n%s", err, tail(logs.String(), 40))
	}
	if !regexp.MustCompile(`(?m)skipped 0$`).Match(out) || !regexp.MustCompile(`(?m)fail 0$`).Match(out) || regexp.MustCompile(`(?m)pass 0$`).Match(out) {
		t.Fatalf("browser test did not run every check")
	}
}
