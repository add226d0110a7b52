package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// withStdin makes -password-stdin read s for the rest of the test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

var setPasswordLink = regexp.MustCompile(`/set-password/[A-Za-z0-9_-]+`)

// A user created on the command line, with a link or a password from standard input,
// signs in to the server started on the same data.
func TestUserCreateCommand(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"OPTIMUM_DATA": data, "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	userCreate := func(args ...string) error {
		out.Reset()
		return run(context.Background(), append([]string{"user", "create"}, args...), getenv, &out, io.Discard)
	}

	if err := userCreate("-email", "Ana@Example.com", "-name", "Ana López", "-role", "manager"); err != nil {
		t.Fatal(err)
	}
	link := setPasswordLink.FindString(out.String())
	if link == "" || !strings.Contains(out.String(), "ana@example.com") {
		t.Fatalf("output = %q, want the user and a set-password link", out.String())
	}

	const pw = "una contraseña de la terminal"
	withStdin(t, pw+"\n")
	if err := userCreate("-email", "bea@example.com", "-name", "Bea", "-role", "admin", "-password-stdin"); err != nil {
		t.Fatal(err)
	}
	if setPasswordLink.MatchString(out.String()) {
		t.Errorf("output = %q, want no link when the password is given", out.String())
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"taken email", "", []string{"-email", "ana@example.com", "-name", "Otra", "-role", "reporter"}, "already exists"},
		{"bad role", "", []string{"-email", "c@example.com", "-name", "C", "-role", "king"}, "role"},
		{"short password", "short\n", []string{"-email", "d@example.com", "-name", "D", "-password-stdin"}, "at least 12"},
		{"empty stdin", "", []string{"-email", "e@example.com", "-name", "E", "-password-stdin"}, "no password"},
		{"unknown flag", "", []string{"-mail", "x"}, "usage"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin)
			if err := userCreate(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if err := run(context.Background(), []string{"user"}, getenv, &out, io.Discard); err == nil {
		t.Error("want a usage error for a bare `user`")
	}

	base, _ := startServer(t, env)
	post := func(path, contentType, body string) int {
		t.Helper()
		res, err := http.Post(base+path, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("/api/v1/session", "application/json", `{"email":"bea@example.com","password":"`+pw+`"}`); got != 200 {
		t.Errorf("sign in with the password from stdin = %d, want 200", got)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(base+link, url.Values{"password": {pw + " 2"}, "confirm": {pw + " 2"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 {
		t.Errorf("set password with the printed link = %d, want 303", res.StatusCode)
	}
	if got := post("/api/v1/session", "application/json", `{"email":"ana@example.com","password":"`+pw+` 2"}`); got != 200 {
		t.Errorf("sign in with the password set by link = %d, want 200", got)
	}
}
