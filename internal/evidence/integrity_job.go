package evidence

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// IntegrityArgs asks for every stored evidence file to be re-read and
// compared with its record.
type IntegrityArgs struct{}

func (IntegrityArgs) Kind() string { return "evidence.integrity" }

// integrityTimeout bounds one run: reading every file takes far longer
// than River's default minute.
const integrityTimeout = 6 * time.Hour

// IntegrityWorker runs IntegrityArgs.
type IntegrityWorker struct {
	river.WorkerDefaults[IntegrityArgs]
	Checker *Checker
}

func (w *IntegrityWorker) Timeout(*river.Job[IntegrityArgs]) time.Duration { return integrityTimeout }

// Work is safe to rerun as it stands: it only reads the files, and a
// fault is recorded and audited once (while fault_at is unset).
func (w *IntegrityWorker) Work(ctx context.Context, _ *river.Job[IntegrityArgs]) error {
	rep, err := w.Checker.Check(ctx)
	w.Checker.logger().InfoContext(ctx, "evidence integrity checked", "files", rep.Checked, "faults", len(rep.Faults),
		"unreadable", rep.Unreadable)
	return err
}

// IntegrityEvery schedules IntegrityArgs. Unlike the purge it does not run
// on start: a full re-read on every deploy would be wasted work.
func IntegrityEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return IntegrityArgs{}, nil }, nil)
}
