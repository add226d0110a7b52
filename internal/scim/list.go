package scim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// listQuery is what a GET asks for: a filter, a page (startIndex is 1-based), and which
// attributes to return.
type listQuery struct {
	filter     filter
	startIndex int
	count      int
	attributes []string // top-level names, lower-cased; empty means all
	excluded   []string
}

func parseListQuery(r *http.Request, rs resourceSchema) (listQuery, error) {
	q := listQuery{startIndex: 1, count: defaultCount}
	v := r.URL.Query()
	if f := v.Get("filter"); f != "" {
		parsed, err := parseFilter(rs, f)
		if err != nil {
			return q, err
		}
		q.filter = parsed
	}
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "invalidValue", "startIndex %q is not a whole number.", clipS(s))
		}
		q.startIndex = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 is 1
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "invalidValue", "count %q is not a whole number.", clipS(s))
		}
		q.count = min(max(n, 0), maxCount) // negative is 0; more than the maximum is the maximum
	}
	for _, name := range []string{"attributes", "excludedAttributes"} {
		var list []string
		for _, a := range strings.Split(v.Get(name), ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			p, err := rs.parsePath(a, "invalidValue")
			if err != nil {
				return q, err
			}
			key := p.attr.name
			if p.ext != "" {
				key = p.ext
			}
			list = append(list, key)
		}
		if name == "attributes" {
			q.attributes = list
		} else {
			q.excluded = list
		}
	}
	return q, nil
}

// wants reports whether the answer shows the attribute (canonical name).
func (q listQuery) wants(name string) bool {
	if len(q.attributes) > 0 {
		return slices.Contains(q.attributes, name)
	}
	return !slices.Contains(q.excluded, name)
}

// project keeps the attributes asked for (id and schemas always stay).
func (q listQuery) project(res map[string]any) map[string]any {
	if len(q.attributes) == 0 && len(q.excluded) == 0 {
		return res
	}
	out := map[string]any{}
	for k, v := range res {
		keep := len(q.attributes) == 0 || k == "id" || k == "schemas"
		for _, a := range q.attributes {
			keep = keep || a == k
		}
		for _, e := range q.excluded {
			if e == k && k != "id" && k != "schemas" {
				keep = false
			}
		}
		if keep {
			out[k] = v
		}
	}
	return out
}

// writeList answers a ListResponse with the page of all that q asks for.
func writeList(w http.ResponseWriter, q listQuery, all []map[string]any) {
	from := min(q.startIndex-1, len(all))
	to := min(from+q.count, len(all))
	page := make([]any, 0, to-from)
	for _, res := range all[from:to] {
		page = append(page, q.project(res))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{ListSchema}, "totalResults": len(all), "startIndex": q.startIndex,
		"itemsPerPage": len(page), "Resources": page,
	})
}
