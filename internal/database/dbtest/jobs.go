package dbtest

import (
	"context"
	"sync"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
)

// Jobs records the jobs a use case queues in its transaction, without
// running them, for the tests of services that queue work (notifications).
type Jobs struct {
	mu   sync.Mutex
	args []river.JobArgs
}

// InsertTx records a.
func (j *Jobs) InsertTx(_ context.Context, _ *gorm.DB, a river.JobArgs) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.args = append(j.args, a)
	return nil
}

// Args is every job recorded so far, oldest first.
func (j *Jobs) Args() []river.JobArgs {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]river.JobArgs(nil), j.args...)
}

// Take returns the jobs recorded since the last Take and forgets them.
func (j *Jobs) Take() []river.JobArgs {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.args
	j.args = nil
	return out
}
