package store

import (
	"encoding/json"
	"fmt"

	"github.com/optimum-bcp/optimum"
)

// encodeScope writes a token's or user's scope as JSON, "" for no limit.
func encodeScope(s *optimum.Scope) string {
	if !s.Limits() {
		return ""
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func decodeScope(v string) (*optimum.Scope, error) {
	if v == "" {
		return nil, nil
	}
	var s optimum.Scope
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("decode scope: %w", err)
	}
	return &s, nil
}
