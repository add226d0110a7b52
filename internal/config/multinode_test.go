package config

import "testing"

// The multi-node example is loaded as an operator would, so it cannot drift from the code.
func TestMultinodeExampleIsValid(t *testing.T) {
	cfg, err := Load(env(map[string]string{"OPTIMUM_CONFIG": "../../configs/optimum.multinode.example.yaml"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL == "" || cfg.Redis.URL == "" || cfg.Server.PublicURL == "" {
		t.Errorf("the multi-node example must set the database, Redis and the public URL: %+v %+v %+v", cfg.Database, cfg.Redis, cfg.Server)
	}
}
