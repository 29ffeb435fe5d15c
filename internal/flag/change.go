package flag

import "spotcheck/internal/audit"

// change is a known shop or listing whose details a batch changed. Each is
// audited on its own, with the old and the new value of every field that
// changed.
type change struct {
	object string // "shop" or "listing"
	id     int64
	fields map[string]oldNew
}

type oldNew struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// newChange is the change of object id from the old to the new values of
// fields (name, old, new, name, old, new…); ok is false if none changed.
func newChange(object string, id int64, fields ...string) (change, bool) {
	c := change{object: object, id: id, fields: map[string]oldNew{}}
	for i := 0; i+2 < len(fields); i += 3 {
		if fields[i+1] != fields[i+2] {
			c.fields[fields[i]] = oldNew{fields[i+1], fields[i+2]}
		}
	}
	return c, len(c.fields) > 0
}

func (c change) record() audit.Record {
	return audit.Record{Action: c.object + ".update", ObjectType: c.object, ObjectID: c.id, Detail: c.fields}
}
