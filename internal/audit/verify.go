package audit

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Summary is the state of a verified chain.
type Summary struct {
	Events   int64
	HeadSeq  int64
	HeadHash string
}

// BrokenError names the first event at which the chain does not hold.
type BrokenError struct {
	Seq    int64 // the sequence number expected or found there
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit chain broken at event %d: %s", e.Seq, e.Reason)
}

// ErrBroken is what every BrokenError unwraps to.
var ErrBroken = errors.New("audit chain broken")

func (e *BrokenError) Unwrap() error { return ErrBroken }

// Verify walks the whole chain in order and returns its head, or a
// *BrokenError for the first event that was edited, removed or moved.
func Verify(ctx context.Context, db *gorm.DB) (Summary, error) {
	rows, err := db.WithContext(ctx).Model(&Event{}).Order("seq").Rows()
	if err != nil {
		return Summary{}, err
	}
	defer rows.Close()
	s := Summary{HeadHash: Genesis}
	for rows.Next() {
		var ev Event
		if err := db.ScanRows(rows, &ev); err != nil {
			return s, err
		}
		want := s.HeadSeq + 1
		switch {
		case ev.Seq != want:
			return s, &BrokenError{Seq: want, Reason: fmt.Sprintf("event %d is missing (next stored event is %d)", want, ev.Seq)}
		case ev.PrevHash != s.HeadHash:
			return s, &BrokenError{Seq: ev.Seq, Reason: "previous-hash link does not match the event before it (an event was removed, replaced or moved)"}
		case ev.computeHash() != ev.Hash:
			return s, &BrokenError{Seq: ev.Seq, Reason: "content does not match its hash (the event was edited)"}
		}
		s.Events++
		s.HeadSeq, s.HeadHash = ev.Seq, ev.Hash
	}
	return s, rows.Err()
}
