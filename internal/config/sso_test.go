package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSSOProvidersAreValidated(t *testing.T) {
	cfg := Default()
	cfg.SSO.PasswordSignIn = false
	cfg.SSO.Providers = []SSOProvider{
		{ID: "Entra ID", Name: Names{ES: "Entra"}, Issuer: "login.microsoftonline.com", Roles: map[string]string{"g1": "owner"}, DefaultRole: "boss"},
		{ID: "kc", Name: Names{ES: "KC", EN: "KC"}, Issuer: "https://sso.example.com/realms/x", ClientID: "optimum"},
		{ID: "kc", Name: Names{ES: "KC", EN: "KC"}, Issuer: "https://sso.example.com/realms/y", ClientID: "optimum", DefaultRole: "reporter", AllowedDomains: []string{"@example.com"}, Prompt: "always", GraphURL: "graph.microsoft.com"},
	}
	err := cfg.Validate()
	for _, want := range []string{
		`sso.providers[0].id: "Entra ID"`, "sso.providers[0].name", "sso.providers[0].issuer", "sso.providers[0].client_id",
		`sso.providers[0].roles.g1: "owner"`, `sso.providers[0].default_role: "boss"`,
		"sso.providers[1].roles: map at least one group",
		`sso.providers[2].id: "kc" is listed twice`, "sso.providers[2].allowed_domains[0]", `sso.providers[2].prompt: "always"`,
		`sso.providers[2].graph_url: must be an https URL`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "sso.password_sign_in") {
		t.Errorf("password sign-in may be off when providers are configured:\n%v", err)
	}
	cfg.SSO.Providers = nil
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "sso.password_sign_in: cannot be false without a provider") {
		t.Errorf("password sign-in off without providers: %v", err)
	}
}

// The client secret comes from the environment only, by the provider's id; password
// sign-in can be turned off from the environment.
func TestSSOSecretsComeFromTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	file := "sso:\n  providers:\n    - id: entra-id\n      name: {es: E, en: E}\n      issuer: https://login.example.com/t/v2.0\n      client_id: app\n      default_role: reporter\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path, "OPTIMUM_SSO_ENTRA_ID_CLIENT_SECRET": "s3cret", "OPTIMUM_SSO_PASSWORD_SIGN_IN": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.SSO.Providers[0].ClientSecret; got != "s3cret" {
		t.Errorf("client secret = %q, want s3cret", got)
	}
	if cfg.SSO.PasswordSignIn {
		t.Error("password sign-in is on, want off")
	}
	if err := os.WriteFile(path, []byte(file+"      client_secret: inline\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path})); err == nil {
		t.Error("a client secret in the file loaded; want an error (secrets come from the environment)")
	}
}
