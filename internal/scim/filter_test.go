package scim

import (
	"encoding/json"
	"testing"
)

// Filters over a User, with the answer each must give written by hand (RFC 7644
// §3.4.2.2, and Entra ID's value path with a sub-attribute after the brackets).
func TestFilterMatches(t *testing.T) {
	var user map[string]any
	json.Unmarshal([]byte(`{"id":"per_1","externalId":"Ext-1","userName":"ana@example.com","displayName":"Ana García","active":true,
		"name":{"givenName":"Ana","familyName":"García"},
		"emails":[{"value":"ana@example.com","type":"work","primary":true},{"value":"ana@home.example","type":"home"}],
		"phoneNumbers":[{"value":"+525512345678","type":"mobile"}],
		"meta":{"lastModified":"2026-12-01T10:00:00Z"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"per_9"}}}`), &user)
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "ana@example.com"`, true},
		{`USERNAME EQ "ANA@EXAMPLE.COM"`, true},
		{`userName ne "ana@example.com"`, false},
		{`externalId eq "Ext-1"`, true},
		{`externalId eq "ext-1"`, false},
		{`id eq "per_1"`, true},
		{`displayName co "garcía"`, true},
		{`displayName sw "Ana"`, true},
		{`displayName ew "Ana"`, false},
		{`name.familyName eq "García"`, true},
		{`active eq true`, true},
		{`active eq false`, false},
		{`title pr`, false},
		{`phoneNumbers pr`, true},
		{`emails eq "ana@home.example"`, true},
		{`emails.value eq "ana@home.example"`, true},
		{`emails[type eq "work"].value eq "ana@example.com"`, true},
		{`emails[type eq "work"].value eq "ana@home.example"`, false},
		{`emails[type eq "home" and value ew "home.example"]`, true},
		{`emails[type eq "other"]`, false},
		{`meta.lastModified gt "2026-11-30T00:00:00Z"`, true},
		{`meta.lastModified lt "2026-11-30T00:00:00Z"`, false},
		{`userName eq "x" or displayName sw "Ana"`, true},
		{`userName eq "x" and displayName sw "Ana"`, false},
		{`not (userName eq "x")`, true},
		{`(userName eq "x" or active eq true) and name.givenName eq "Ana"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "per_9"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ana@example.com"`, true},
	} {
		f, err := parseFilter(userSchema, tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := f.match(user); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFilterRefusals(t *testing.T) {
	for _, f := range []string{
		``, `userName`, `userName eq`, `userName eq ana`, `userName eq "ana" and`, `userName eq "ana" userName`,
		`(userName eq "ana"`, `userName eq "ana")`, `emails[type eq "work"`, `emails[type eq "work"].nope eq "x"`,
		`name[givenName eq "Ana"]`, `emails[nope eq "x"]`, `shoeSize eq "42"`, `name.nope eq "x"`,
		`urn:example:custom:shoeSize eq "42"`, `userName like "ana"`, `active co true`, `not userName eq "x"`,
		`userName eq "unterminated`,
	} {
		_, err := parseFilter(userSchema, f)
		e, ok := err.(*Error)
		if !ok || e.Status != 400 || e.Type != "invalidFilter" {
			t.Errorf("%q: %v, want 400 invalidFilter", f, err)
		}
	}
}
