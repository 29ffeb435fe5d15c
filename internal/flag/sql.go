package flag

import "strings"

// placeholders is "(?, ?, …), (…)" for rows of cols parameters; cast, when
// set, wraps the parameter at its 1-based column position.
func placeholders(rows, cols int, cast map[int]string) string {
	var sb strings.Builder
	sb.Grow(rows * (cols*3 + 4))
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := 1; c <= cols; c++ {
			if c > 1 {
				sb.WriteString(", ")
			}
			if e, ok := cast[c]; ok {
				sb.WriteString(e)
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// valuesList is "VALUES (e1, e2), (e1, e2)…" with the given expressions.
// PostgreSQL types a bare parameter in VALUES as text, so callers cast.
func valuesList(rows int, exprs ...string) string {
	row := "(" + strings.Join(exprs, ", ") + ")"
	var sb strings.Builder
	sb.WriteString("VALUES ")
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	return sb.String()
}
