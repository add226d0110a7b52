package netguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// RefusedError is the guard's refusal of an address. Its text does not name the
// address: a user could otherwise learn what an internal name resolves to by
// registering it. Addr is there for the server's own log.
type RefusedError struct {
	Addr netip.Addr
}

func (e *RefusedError) Error() string {
	return "outbound address refused: the host is not at a public address"
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Public wraps a transport error so that its text says what went wrong in general terms
// only (refused, no such host, timed out, connection refused…), without the addresses,
// ports or resolver that Go's errors name ("lookup x on 10.0.0.2:53", "dial tcp
// 10.1.2.3:443"): such errors end up where users see them (a delivery's error). The
// original stays reachable with errors.Is and errors.As.
func Public(err error) error {
	if err == nil {
		return nil
	}
	return &publicError{err: err}
}

type publicError struct{ err error }

func (e *publicError) Error() string { return describe(e.err) }
func (e *publicError) Unwrap() error { return e.err }

func describe(err error) string {
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		ne   net.Error
	)
	switch {
	case errors.Is(err, ErrRefused):
		return "outbound address refused: the host is not at a public address"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "the host name does not exist"
	case errors.As(err, &dns):
		return "the host name could not be resolved"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.As(err, &cert), errors.As(err, &unk), errors.As(err, &host):
		return "the TLS certificate was not accepted"
	}
	return "the connection failed"
}
