package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum/internal/config"
)

// Entra ID puts at most 200 groups in a JWT. A person in more gets, instead of the
// "groups" claim, a groups overage: "_claim_names": {"groups": "src1"} with
// "_claim_sources" pointing at Graph (or, in the implicit flow, "hasgroups": true). The
// groups must then be read from Microsoft Graph with the sign-in's access token (which is
// Graph's when the provider's scopes ask for User.Read and GroupMember.Read.All).
//
// The endpoint in "_claim_sources" is not followed: it names the retired Azure AD Graph
// (graph.windows.net) and is data from the token, not configuration. The groups are read
// from the configured Graph base URL instead (SSOProvider.GraphURL), so tests point it
// at a fake and an outbound guard sees a known host.

// overage reports whether the claims say the groups claim was left out for being too
// big: Entra's "_claim_names" naming it, or "hasgroups": true (only for "groups").
func overage(claims map[string]any, groupsClaim string) bool {
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		if _, named := names[groupsClaim]; named {
			return true
		}
	}
	has, _ := claims["hasgroups"].(bool)
	return has && groupsClaim == "groups"
}

// maxGraphBody bounds Graph's answer: 11,000 object ids (its documented limit) are
// about 450 KB of JSON.
const maxGraphBody = 4 << 20

// graphGroups returns the ids of the groups (and directory roles) the signed-in person
// is a member of, transitively: POST {GraphURL}/me/getMemberObjects with
// securityEnabledOnly false, authorised by the access token. Any failure (no access
// token, a refusal, a malformed answer) is an error: the caller refuses the sign-in.
func (p *Provider) graphGroups(ctx context.Context, accessToken string) ([]string, error) {
	if accessToken == "" {
		return nil, fmt.Errorf("no access token to read the groups from Microsoft Graph")
	}
	base := p.cfg.GraphURL
	if base == "" {
		base = config.DefaultGraphURL
	}
	u := strings.TrimRight(base, "/") + "/me/getMemberObjects"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte(`{"securityEnabledOnly":false}`)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Microsoft Graph: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxGraphBody+1))
	if err != nil {
		return nil, fmt.Errorf("Microsoft Graph: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("Microsoft Graph answered %d %s %s", res.StatusCode, e.Error.Code, e.Error.Message)
	}
	if len(body) > maxGraphBody {
		return nil, fmt.Errorf("Microsoft Graph's answer is larger than %d bytes", maxGraphBody)
	}
	var out struct {
		Value *[]string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Value == nil {
		return nil, fmt.Errorf("Microsoft Graph's answer has no list of ids (value): %v", err)
	}
	return *out.Value, nil
}
