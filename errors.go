// Package optimum is the shared kernel of OPTIMUM BCP: the error vocabulary, the event
// that every change of state appends to the log, the actor behind a request, and ids.
// Only what two or more packages need lives here.
package optimum

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in internal/httpapi and to nothing else.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // the thing asked for does not exist (or is not visible)
	ECONFLICT     = "conflict"     // the request clashes with the current state
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, not allowed
	ETOOLARGE     = "too_large"    // the body or a field is over its limit
	ERATELIMITED  = "rate_limited" // too many requests; try again later
	EUNAVAILABLE  = "unavailable"  // a dependency is down; try again later
	EINTERNAL     = "internal"     // a bug or an unexpected failure; never shown in detail
)

// FieldError names one field of the input and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the application error: a code for machines, a message for people, and, for
// EINVALID, the problem with each field. Wrap it with %w freely; ErrorCode finds it.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("optimum error: code=%s message=%s", e.Code, e.Message)
	}
	return fmt.Sprintf("optimum error: code=%s message=%s fields=%v", e.Code, e.Message, e.Fields)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing every field problem, or nil when there is none,
// so validators can collect all problems and report them at once.
func Invalid(message string, fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain, and a generic
// text for anything else, so internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the field problems of the first *Error in err's chain.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
