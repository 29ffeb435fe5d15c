package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procWatch samples the memory of one process (the spotcheck server) from
// /proc: VmRSS every interval, and VmHWM, the kernel's own peak, which
// reset() clears (writing 5 to clear_refs) so that each phase gets its own
// peak.
type procWatch struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	maxRSS  int64 // KiB, sampled
	sumRSS  int64
	samples int64
	hwmOK   bool // the peak could be reset at the start of the phase
}

// memFigures is the memory of the server over one phase.
type memFigures struct {
	HWM      int64 // KiB, the kernel's peak resident set (VmHWM)
	HWMReset bool  // false: VmHWM counts from the process start, not the phase start
	MaxRSS   int64 // KiB, the highest VmRSS sampled
	AvgRSS   int64 // KiB
	EndRSS   int64 // KiB
	Samples  int64
	CPU      time.Duration // user+system CPU the process used in the phase
}

func (m memFigures) String() string {
	hwm := mib(m.HWM)
	if !m.HWMReset {
		hwm += " (since start)"
	}
	return fmt.Sprintf("VmHWM %s, VmRSS max %s / mean %s / end %s (%d samples), CPU %.1f s",
		hwm, mib(m.MaxRSS), mib(m.AvgRSS), mib(m.EndRSS), m.Samples, m.CPU.Seconds())
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func watchProc(pid int, every time.Duration) *procWatch {
	w := &procWatch{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if rss, _, err := readStatus(pid); err == nil {
					w.mu.Lock()
					w.maxRSS = max(w.maxRSS, rss)
					w.sumRSS += rss
					w.samples++
					w.mu.Unlock()
				}
			}
		}
	}()
	return w
}

func (w *procWatch) close() {
	close(w.stop)
	<-w.done
}

// phase starts a new phase and returns the function that ends it.
func (w *procWatch) phase() func() memFigures {
	err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", w.pid), []byte("5"), 0)
	cpu0 := procCPU(w.pid)
	w.mu.Lock()
	w.maxRSS, w.sumRSS, w.samples, w.hwmOK = 0, 0, 0, err == nil
	w.mu.Unlock()
	return func() memFigures {
		rss, hwm, _ := readStatus(w.pid)
		w.mu.Lock()
		defer w.mu.Unlock()
		f := memFigures{HWM: hwm, HWMReset: w.hwmOK, MaxRSS: max(w.maxRSS, rss), EndRSS: rss, Samples: w.samples,
			CPU: procCPU(w.pid) - cpu0}
		if w.samples > 0 {
			f.AvgRSS = w.sumRSS / w.samples
		}
		return f
	}
}

// readStatus returns VmRSS and VmHWM in KiB.
func readStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// procCPU is the user+system CPU time of a process so far (clock ticks of
// 1/100 s, as on every Linux the harness targets).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// cpuBusy reads the machine's busy and total CPU time from /proc/stat, in
// clock ticks.
func cpuBusy() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest time is counted in user already
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// machineLoad starts measuring how busy the whole machine is; the
// function it returns gives the busy share since, and the load average.
func machineLoad() func() string {
	b0, t0 := cpuBusy()
	return func() string {
		b1, t1 := cpuBusy()
		la := loadAvg()
		if t1 <= t0 {
			return "load average " + la
		}
		return fmt.Sprintf("machine CPU %.0f%% busy, load average %s", 100*float64(b1-b0)/float64(t1-t0), la)
	}
}

// loadAvg is the machine's 1, 5 and 15 minute load average.
func loadAvg() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	return "?"
}
