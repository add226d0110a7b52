package redisbus

import (
	"strings"
	"testing"
)

func TestParseURLSelectsTheDeploymentMode(t *testing.T) {
	tests := []struct {
		url, mode string
		addrs     []string
		master    string
		db        int
		password  string
	}{
		{"redis://127.0.0.1:6379/0", "single", []string{"127.0.0.1:6379"}, "", 0, ""},
		{"redis://:s3cret@cache:6380/2", "single", []string{"cache:6380"}, "", 2, "s3cret"},
		{"rediss://cache", "single", []string{"cache:6379"}, "", 0, ""},
		{"redis://:sentpw@s1:26379/1?master_name=mymaster&addr=s2:26379&addr=s3:26379&password=masterpw",
			"sentinel", []string{"s1:26379", "s2:26379", "s3:26379"}, "mymaster", 1, "masterpw"},
		{"redis://n1:7000?addr=n2:7000&addr=n3:7000", "cluster", []string{"n1:7000", "n2:7000", "n3:7000"}, "", 0, ""},
		{"redis://n1:7000?cluster=true", "cluster", []string{"n1:7000"}, "", 0, ""},
	}
	for _, tt := range tests {
		o, err := ParseURL(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if got := Mode(o); got != tt.mode {
			t.Errorf("%s: mode %s, want %s", tt.url, got, tt.mode)
		}
		if strings.Join(o.Addrs, ",") != strings.Join(tt.addrs, ",") {
			t.Errorf("%s: addrs %v, want %v", tt.url, o.Addrs, tt.addrs)
		}
		if o.MasterName != tt.master || o.DB != tt.db || o.Password != tt.password {
			t.Errorf("%s: master %q db %d password %q, want %q %d %q", tt.url, o.MasterName, o.DB, o.Password, tt.master, tt.db, tt.password)
		}
	}
	o, _ := ParseURL("rediss://cache:6380")
	if o.TLSConfig == nil {
		t.Error("rediss:// must use TLS")
	}
	o, _ = ParseURL("redis://:sentpw@s1:26379?master_name=m")
	if o.SentinelPassword != "sentpw" {
		t.Errorf("sentinel password %q, want the URL's", o.SentinelPassword)
	}
}

func TestParseURLRejectsWhatWouldFailLaterWithoutLeakingThePassword(t *testing.T) {
	for _, u := range []string{
		"http://cache:6379",
		"redis://",
		"redis://cache:6379?dial_timout=3s",
		"redis://cache:6379/x",
		"redis://n1:7000/3?addr=n2:7000",
		"redis://n1:7000?cluster=maybe",
		"redis://s1?master_name=m&cluster=true",
		"redis://user:hunter2@cache:6379/%zz",
	} {
		_, err := ParseURL(u)
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the password: %v", u, err)
		}
	}
}
