package httpapi

import (
	"fmt"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// Limits of the query parameters of the list endpoints. A filter of thousands of values
// (33,000 priority= values were sent in a review) costs the database far more than any
// screen needs, and past the database's limit of bound variables it failed with a 500;
// thousands of unknown parameters would each get an error line.
const (
	// maxListValues bounds the values of one list parameter, counting every repetition
	// of the key and every comma-separated item.
	maxListValues = 50
	// maxItemLength bounds the bytes of one item of a list (ids and names are far shorter).
	maxItemLength = 200
	// maxQueryProblems is how many problems of a query are listed; the rest are counted.
	maxQueryProblems = 20
)

// queryProblems collects the problems of a query.
type queryProblems struct{ list []optimum.FieldError }

func (q *queryProblems) add(field, format string, args ...any) {
	q.list = append(q.list, optimum.FieldError{Field: truncateText(field, 40), Message: fmt.Sprintf(format, args...)})
}

// err is the 422 listing the problems (at most maxQueryProblems of them), or nil.
func (q *queryProblems) err(message string) error {
	return optimum.Invalid(message, capped(q.list))
}

// capped keeps the first maxQueryProblems problems and counts the others.
func capped(list []optimum.FieldError) []optimum.FieldError {
	if len(list) <= maxQueryProblems {
		return list
	}
	more := len(list) - maxQueryProblems
	return append(list[:maxQueryProblems:maxQueryProblems], optimum.FieldError{Field: "query", Message: fmt.Sprintf("has %d more problems", more)})
}

// listParam returns the items of a list parameter: every value given for the key, each
// split at commas, trimmed, empty items dropped. More than maxListValues items, or an
// item longer than maxItemLength, is a problem naming the limit (nil is returned then).
func listParam(field string, values []string, p *queryProblems) []string {
	var out []string
	n := 0
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				n++
				if n <= maxListValues {
					out = append(out, s)
				}
			}
		}
	}
	if n > maxListValues {
		p.add(field, "has %d values, at most %d", n, maxListValues)
		return nil
	}
	for _, s := range out {
		if len(s) > maxItemLength {
			p.add(field, "has a value longer than %d characters", maxItemLength)
			return nil
		}
	}
	return out
}
