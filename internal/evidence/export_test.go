package evidence

// SetBeforeRecord makes f run between storing a derivative and recording
// it, until the test ends.
func SetBeforeRecord(f func()) (restore func()) {
	old := beforeRecord
	beforeRecord = f
	return func() { beforeRecord = old }
}
