package redisbus

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL turns OPTIMUM_REDIS_URL into options for go-redis's universal client. The
// scheme is redis:// or rediss:// (TLS) in every mode; the mode follows from the query:
//
//	single node  redis://[user:password@]host:6379[/db]
//	Sentinel     redis://[sentinel-user:sentinel-password@]sentinel1:26379[/db]?master_name=mymaster
//	                 &addr=sentinel2:26379&addr=sentinel3:26379[&password=master-password]
//	Cluster      redis://[user:password@]node1:6379?addr=node2:6379&addr=node3:6379
//	             redis://[user:password@]node1:6379?cluster=true   (one seed node)
//
// In Sentinel mode the host and every addr are Sentinels and the user information
// authenticates to them; the master's own credentials go in the username and password
// parameters. Other go-redis parameters (dial_timeout, read_timeout, pool_size,
// client_name, protocol…) are accepted as go-redis documents them; an unknown one is an
// error, so a typo fails at start-up.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password included
		}
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redis url: scheme must be redis:// or rediss://, got %q", u.Scheme+"://")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("redis url: no host (want redis://host:6379)")
	}
	q := u.Query()
	cluster := false
	if v := q.Get("cluster"); v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			cluster = true
		case "0", "false", "no":
		default:
			return nil, fmt.Errorf("redis url: cluster must be true or false, got %q", v)
		}
		q.Del("cluster")
		u.RawQuery = q.Encode()
	}
	switch {
	case q.Get("master_name") != "":
		if cluster {
			return nil, fmt.Errorf("redis url: give either master_name (Sentinel) or cluster, not both")
		}
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis url (Sentinel): %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: o.SentinelAddrs, MasterName: o.MasterName, DB: o.DB, ClientName: o.ClientName,
			Username: o.Username, Password: o.Password, SentinelUsername: o.SentinelUsername, SentinelPassword: o.SentinelPassword,
			Protocol: o.Protocol, MaxRetries: o.MaxRetries, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout,
			WriteTimeout: o.WriteTimeout, PoolSize: o.PoolSize, TLSConfig: o.TLSConfig,
		}, nil
	case cluster || len(q["addr"]) > 0:
		if u.Path != "" && u.Path != "/" && u.Path != "/0" {
			return nil, fmt.Errorf("redis url: Redis Cluster has only database 0, got path %q", u.Path)
		}
		u.Path = ""
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis url (Cluster): %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: o.Addrs, IsClusterMode: true, ClientName: o.ClientName,
			Username: o.Username, Password: o.Password, Protocol: o.Protocol, MaxRetries: o.MaxRetries,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolSize: o.PoolSize, TLSConfig: o.TLSConfig,
		}, nil
	default:
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return &redis.UniversalOptions{
			Addrs: []string{o.Addr}, DB: o.DB, ClientName: o.ClientName,
			Username: o.Username, Password: o.Password, Protocol: o.Protocol, MaxRetries: o.MaxRetries,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolSize: o.PoolSize, TLSConfig: o.TLSConfig,
		}, nil
	}
}

// Mode names the kind of deployment the options select: "single", "sentinel" or
// "cluster".
func Mode(o *redis.UniversalOptions) string {
	switch {
	case o.MasterName != "":
		return "sentinel"
	case o.IsClusterMode || len(o.Addrs) > 1:
		return "cluster"
	}
	return "single"
}
