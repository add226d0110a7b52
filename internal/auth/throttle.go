package auth

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Lockout is how repeated failed sign-ins of one account slow down: after Threshold
// consecutive failures each further failure locks the account for Base, 2×Base, 4×Base…
// up to Max. A success resets the count.
type Lockout struct {
	Threshold int
	Base      time.Duration
	Max       time.Duration
	// AccountThreshold is the threshold of the lock of an account against every
	// browser that never signed in to it (SignInPasswordFrom); below Threshold counts
	// as Threshold.
	AccountThreshold int
}

// DefaultLockout locks after 5 failures for 1 s, 2 s, 4 s… capped at 15 minutes; an
// account is locked for unknown browsers after 20.
var DefaultLockout = Lockout{Threshold: 5, Base: time.Second, Max: 15 * time.Minute, AccountThreshold: 20}

// Delay returns how long the account is locked after its failures-th consecutive
// failure: 0 below the threshold.
func (l Lockout) Delay(failures int) time.Duration {
	if l.Threshold <= 0 || failures < l.Threshold || l.Base <= 0 {
		return 0
	}
	n := failures - l.Threshold // 0 for the first lock
	if n >= 62 || float64(l.Base)*math.Exp2(float64(n)) >= float64(l.Max) {
		return l.Max
	}
	return l.Base << n
}

// ThrottledError says the caller must wait before trying again. Its code is
// optimum.ERATELIMITED; the HTTP layer turns Wait into a Retry-After header.
type ThrottledError struct {
	Wait time.Duration
}

var errThrottled = optimum.Errorf(optimum.ERATELIMITED, "Too many sign-in attempts. Wait a moment and try again.")

func (e *ThrottledError) Error() string { return fmt.Sprintf("throttled for %v", e.Wait) }

// Unwrap gives the *optimum.Error, so optimum.ErrorCode and ErrorMessage see it. The
// message is the same for every account, known or not.
func (e *ThrottledError) Unwrap() error { return errThrottled }

// RetryAfter is the wait in whole seconds, at least 1, as the Retry-After header wants it.
func (e *ThrottledError) RetryAfter() int {
	return max(1, int(math.Ceil(e.Wait.Seconds())))
}

// throttleKey is the key of an email in the failure table: a hash, so the table keeps
// no address, and every attempted address (known or not) is tracked the same way.
func throttleKey(email string) string { return Hash("sign-in:" + email) }

// checkLock returns a *ThrottledError while the key is locked.
func (s *Service) checkLock(ctx context.Context, key string) error {
	until, err := s.store.SignInLock(ctx, key)
	if err != nil {
		return err
	}
	if wait := until.Sub(s.now()); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	return nil
}
