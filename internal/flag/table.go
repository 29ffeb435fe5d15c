package flag

import (
	"fmt"

	"spotcheck/internal/valid"
)

// EncodingError: the file's text is in none of the encodings read.
type EncodingError struct{ Line int }

func (e *EncodingError) Error() string {
	return fmt.Sprintf("the file is not UTF-8, UTF-16 or GB18030 text: line %d has bytes that are none of them", e.Line)
}

func (e *EncodingError) Unwrap() error { return valid.ErrInvalid }
