package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Linux reports process times in clock ticks of 1/USER_HZ seconds; USER_HZ is 100 on every
// architecture Go supports on Linux.
const userHZ = 100

// ProcStat is what /proc says about a process of this machine.
type ProcStat struct {
	RSS int64         // resident set size, bytes (VmRSS)
	CPU time.Duration // user + system time so far, to 10 ms
	// Writes is the write syscalls so far (syscw of /proc/<pid>/io), 0 when that file
	// cannot be read (another user's process).
	Writes int64
}

// ReadProc reads /proc/<pid>/status and /proc/<pid>/stat; pid 0 is this process.
func ReadProc(pid int) (ProcStat, error) {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var st ProcStat
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return st, fmt.Errorf("loadgen: %w", err)
	}
	if st.RSS, err = statusField(status, "VmRSS:"); err != nil {
		return st, err
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return st, fmt.Errorf("loadgen: %w", err)
	}
	// The command name, in parentheses, may hold spaces: fields are counted after its end.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return st, fmt.Errorf("loadgen: %s/stat: unexpected format", dir)
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 { // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'
		return st, fmt.Errorf("loadgen: %s/stat: too few fields", dir)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return st, fmt.Errorf("loadgen: %s/stat: bad utime or stime", dir)
	}
	st.CPU = time.Duration(utime+stime) * time.Second / userHZ
	if io, err := os.ReadFile(dir + "/io"); err == nil {
		for line := range strings.Lines(string(io)) {
			if rest, ok := strings.CutPrefix(line, "syscw:"); ok {
				st.Writes, _ = strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			}
		}
	}
	return st, nil
}

// statusField returns a "kB" field of /proc/<pid>/status in bytes.
func statusField(status []byte, name string) (int64, error) {
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("loadgen: no %s line in kB in /proc status", name)
}

// MachineCPU is the time all CPUs of this machine spent, from /proc/stat.
type MachineCPU struct {
	Busy  time.Duration // user, nice and system time: processes, this one included
	IRQ   time.Duration // irq and softirq time (loopback TCP is mostly softirq)
	Steal time.Duration // time the hypervisor gave to other guests while this one wanted it
}

// ReadMachineCPU reads the first line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, fmt.Errorf("loadgen: %w", err)
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("loadgen: /proc/stat: unexpected first line %q", line)
	}
	var ticks [8]int64 // user nice system idle iowait irq softirq steal
	for i := range ticks {
		if ticks[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return MachineCPU{}, fmt.Errorf("loadgen: /proc/stat: %w", err)
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }
	return MachineCPU{
		Busy:  tick(ticks[0] + ticks[1] + ticks[2]),
		IRQ:   tick(ticks[5] + ticks[6]),
		Steal: tick(ticks[7]),
	}, nil
}
