// Command loadgen is the benchmark's load generator: a gRPC client that sends pre-encoded request
// bytes (a pass-through codec, so no generated Go code is needed), keeps N calls in flight (or
// paces them at a fixed rate), times each call to its final status, and prints one JSON result.
//
// It also reads the CPU time (utime+stime, all threads) of the server processes named by -pid at
// the start and the end of the measured window, so the bench gets each server's CPU per call over
// exactly the window in which the calls were counted.
//
// stdout: one line {"phase":"measuring"} when the measured window opens, then the result line.
// SIGTERM or SIGINT closes the window early; the result is still printed.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rawCodec passes message bytes through unchanged in both directions.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case *[]byte:
		return *m, nil
	case []byte:
		return m, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	m, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*m = data
	return nil
}

// Name is "proto": servers that pick a codec by content-subtype see ordinary protobuf.
func (rawCodec) Name() string { return "proto" }

// patch writes the call's serial number, in decimal and zero-padded to width, at offset of the
// request; with mod > 0 the number written is serial % mod (names reused over a set).
type patch struct {
	offset, width int
	mod           int64
}

type patchList []patch

func (p *patchList) String() string { return fmt.Sprint(*p) }

func (p *patchList) Set(s string) error {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("-patch OFFSET:WIDTH[:MOD], got %q", s)
	}
	offset, err1 := strconv.Atoi(parts[0])
	width, err2 := strconv.Atoi(parts[1])
	var mod int64
	var err3 error
	if len(parts) == 3 {
		mod, err3 = strconv.ParseInt(parts[2], 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || offset < 0 || width < 1 || width > 18 || mod < 0 {
		return fmt.Errorf("-patch OFFSET:WIDTH[:MOD], got %q", s)
	}
	*p = append(*p, patch{offset, width, mod})
	return nil
}

type pidList []int

func (p *pidList) String() string { return fmt.Sprint(*p) }

func (p *pidList) Set(s string) error {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return fmt.Errorf("-pid wants a process id, got %q", s)
	}
	*p = append(*p, pid)
	return nil
}

type options struct {
	addr        string
	addrs       []string
	method      string
	stream      bool
	request     []byte
	patches     patchList
	serialStart int64
	inflight    int
	conns       int
	duration    time.Duration
	warmup      time.Duration
	count       int64
	rate        float64
	timeout     time.Duration
	window      int
	recvDelay   time.Duration
	keepLast    bool
	pids        pidList
	latencyFile string
}

// sample is what a worker keeps of one finished call.
type sample struct {
	latency  time.Duration
	first    time.Duration // to the first response message (streams)
	code     codes.Code
	msg      string
	messages int64
	bytes    int64
}

type result struct {
	Method        string             `json:"method"`
	Stream        bool               `json:"stream"`
	Inflight      int                `json:"inflight"`
	Rate          float64            `json:"rate,omitempty"`
	Calls         int64              `json:"calls"`
	Errors        map[string]int64   `json:"errors"`
	FirstError    string             `json:"firstError,omitempty"`
	Seconds       float64            `json:"seconds"`
	Throughput    float64            `json:"throughput"`
	LatencyUs     map[string]float64 `json:"latencyUs"`
	FirstMsgUs    map[string]float64 `json:"firstMessageUs,omitempty"`
	SerialNext    int64              `json:"serialNext"`
	Messages      int64              `json:"messages"`
	Bytes         int64              `json:"bytes"`
	RequestBytes  int                `json:"requestBytes"`
	ClientCPUSec  float64            `json:"clientCpuSec"`
	Servers       []serverWindow     `json:"servers"`
	LastMessage   string             `json:"lastMessageHex,omitempty"`
	StoppedBySign bool               `json:"stoppedBySignal,omitempty"`
}

type serverWindow struct {
	Pid    int     `json:"pid"`
	CPUSec float64 `json:"cpuSec"`
	RssKb  int64   `json:"rssKb"`
	HwmKb  int64   `json:"hwmKb"`
}

// userHz is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const userHz = 100

// cpuTicks returns utime+stime of a process, summed over all its threads by the kernel.
func cpuTicks(pid int) (int64, error) {
	data, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	text := string(data)
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	fields := strings.Fields(text[end+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return utime + stime, nil
}

// memoryKb returns VmRSS and VmHWM (peak RSS) of a process.
func memoryKb(pid int) (rss, hwm int64) {
	data, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		value, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = value
		case "VmHWM:":
			hwm = value
		}
	}
	return rss, hwm
}

func clientCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / 1e3
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(2)
}

func parseOptions() options {
	var o options
	var requestFile, requestHex string
	var etcdKeyPrefix string
	var etcdValueSize int
	var durationSec, warmupSec, timeoutSec, recvDelayUs float64
	flag.StringVar(&o.addr, "addr", "", "server HOST:PORT (loopback); several, comma-separated: the connections are spread over them (replicas)")
	flag.StringVar(&o.method, "method", "", "full method path, e.g. /wbem.v1.WbemServices/GetClass")
	flag.BoolVar(&o.stream, "stream", false, "server-streaming method: read every message to the final status")
	flag.StringVar(&requestFile, "request", "", "file holding the encoded request message")
	flag.StringVar(&requestHex, "request-hex", "", "the encoded request message in hex")
	flag.Var(&o.patches, "patch", "OFFSET:WIDTH[:MOD]: write the call's serial number into the request (repeatable)")
	flag.Int64Var(&o.serialStart, "serial-start", 0, "first serial number")
	flag.IntVar(&o.inflight, "inflight", 1, "calls in flight (closed loop), or the most in flight with -rate")
	flag.IntVar(&o.conns, "conns", 1, "HTTP/2 connections the calls are spread over")
	flag.Float64Var(&durationSec, "duration", 0, "measured window in seconds (with -count: the longest it may take)")
	flag.Float64Var(&warmupSec, "warmup", 0, "seconds of calls before the window opens (not counted)")
	flag.Int64Var(&o.count, "count", 0, "calls in the measured window (0: as many as the duration allows)")
	flag.Float64Var(&o.rate, "rate", 0, "open loop: start calls at this rate per second; latency counts from the scheduled start")
	flag.Float64Var(&timeoutSec, "timeout", 120, "deadline of each call, seconds")
	flag.IntVar(&o.window, "window", 0, "HTTP/2 initial window in bytes (0: gRPC's default, with BDP estimation)")
	flag.Float64Var(&recvDelayUs, "recv-delay-us", 0, "sleep after each received message: a slow reader")
	flag.BoolVar(&o.keepLast, "keep-last", false, "print the last message of the last successful call (hex)")
	flag.Var(&o.pids, "pid", "server process whose CPU time is read over the window (repeatable)")
	flag.StringVar(&o.latencyFile, "latency-file", "", "write each successful call's latency in µs, one a line")
	flag.StringVar(&etcdKeyPrefix, "etcd-key-prefix", "", "build an etcd PutRequest: key PREFIX+serial (12 digits), value of -etcd-value-size bytes")
	flag.IntVar(&etcdValueSize, "etcd-value-size", 2048, "value size of the etcd PutRequest")
	flag.Parse()

	if o.addr == "" || o.method == "" {
		fail("-addr and -method are required")
	}
	o.addrs = strings.Split(o.addr, ",")
	for _, addr := range o.addrs {
		if !strings.HasPrefix(addr, "127.") && !strings.HasPrefix(addr, "localhost:") && !strings.HasPrefix(addr, "[::1]:") {
			fail("-addr must be loopback addresses, got %q", addr)
		}
	}
	// Every address gets at least one connection.
	if o.conns < len(o.addrs) {
		o.conns = len(o.addrs)
	}
	switch {
	case etcdKeyPrefix != "":
		o.request, o.patches = etcdPutRequest(etcdKeyPrefix, etcdValueSize)
	case requestFile != "":
		data, err := ioutil.ReadFile(requestFile)
		if err != nil {
			fail("%v", err)
		}
		o.request = data
	case requestHex != "":
		data, err := hex.DecodeString(requestHex)
		if err != nil {
			fail("-request-hex: %v", err)
		}
		o.request = data
	}
	for _, p := range o.patches {
		if p.offset+p.width > len(o.request) {
			fail("-patch %d:%d is past the request's %d bytes", p.offset, p.width, len(o.request))
		}
	}
	if o.inflight < 1 || o.inflight > 4096 || o.conns < 1 || o.conns > 64 {
		fail("-inflight must be 1..4096 and -conns 1..64")
	}
	if durationSec <= 0 && o.count <= 0 {
		fail("give -duration or -count")
	}
	if durationSec <= 0 || durationSec > 3600 {
		durationSec = 3600 // every run ends: an hour at most
	}
	o.duration = time.Duration(durationSec * float64(time.Second))
	o.warmup = time.Duration(warmupSec * float64(time.Second))
	o.timeout = time.Duration(timeoutSec * float64(time.Second))
	o.recvDelay = time.Duration(recvDelayUs * float64(time.Microsecond))
	return o
}

// etcdPutRequest encodes etcdserverpb.PutRequest{key: 1, value: 2} by hand, with a 12-digit
// serial patched into the key.
func etcdPutRequest(prefix string, valueSize int) ([]byte, patchList) {
	key := prefix + strings.Repeat("0", 12)
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = 'v'
	}
	var out []byte
	out = appendBytesField(out, 1, []byte(key))
	keyAt := len(out) - 12
	out = appendBytesField(out, 2, value)
	return out, patchList{{offset: keyAt, width: 12}}
}

func appendBytesField(out []byte, field int, data []byte) []byte {
	out = appendVarint(out, uint64(field<<3|2))
	out = appendVarint(out, uint64(len(data)))
	return append(out, data...)
}

func appendVarint(out []byte, v uint64) []byte {
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

func writeSerial(buf []byte, p patch, serial int64) {
	n := serial
	if p.mod > 0 {
		n = serial % p.mod
	}
	for i := p.offset + p.width - 1; i >= p.offset; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
}

func main() {
	o := parseOptions()
	codec := grpc.ForceCodec(rawCodec{})
	dialOpts := []grpc.DialOption{
		grpc.WithInsecure(),
		grpc.WithBlock(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20), grpc.MaxCallSendMsgSize(256<<20)),
	}
	if o.window > 0 {
		dialOpts = append(dialOpts, grpc.WithInitialWindowSize(int32(o.window)), grpc.WithInitialConnWindowSize(int32(o.window)))
	}
	// Connection i goes to address i mod n, and worker w uses connection w mod conns: with several
	// addresses the calls in flight are spread evenly over them.
	conns := make([]*grpc.ClientConn, o.conns)
	for i := range conns {
		addr := o.addrs[i%len(o.addrs)]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := grpc.DialContext(ctx, addr, dialOpts...)
		cancel()
		if err != nil {
			fail("dial %s: %v", addr, err)
		}
		conns[i] = conn
		defer conn.Close()
	}

	var (
		serial    = o.serialStart - 1
		started   int64 // calls started inside the window (count mode)
		measuring int32 // 1 while the window is open
		stopping  int32 // 1 once no new call may start
		lastMu    sync.Mutex
		last      []byte
		windowAt  time.Time
	)
	stop := make(chan struct{})
	var stopOnce sync.Once
	closeStop := func() { stopOnce.Do(func() { atomic.StoreInt32(&stopping, 1); close(stop) }) }
	countDone := make(chan struct{})
	var countOnce sync.Once
	var completed int64

	// One call: build the request, send it, read the response(s) to the final status.
	call := func(conn *grpc.ClientConn, begin time.Time) sample {
		request := o.request
		if len(o.patches) > 0 {
			request = append([]byte(nil), o.request...)
			n := atomic.AddInt64(&serial, 1)
			for _, p := range o.patches {
				writeSerial(request, p, n)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		defer cancel()
		var got []byte
		var n, size int64
		var first time.Duration
		var err error
		if o.stream {
			var cs grpc.ClientStream
			cs, err = conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, o.method, codec)
			if err == nil {
				err = cs.SendMsg(&request)
			}
			if err == nil {
				err = cs.CloseSend()
			}
			for err == nil {
				var msg []byte
				err = cs.RecvMsg(&msg)
				if err == nil {
					if n == 0 {
						first = time.Since(begin)
					}
					n++
					size += int64(len(msg))
					got = msg
					if o.recvDelay > 0 {
						time.Sleep(o.recvDelay)
					}
				}
			}
			if err == io.EOF {
				err = nil
			}
		} else {
			var msg []byte
			err = conn.Invoke(ctx, o.method, &request, &msg, codec)
			if err == nil {
				n, size, got = 1, int64(len(msg)), msg
			}
		}
		if err != nil {
			st := status.Convert(err)
			return sample{code: st.Code(), msg: st.Message(), first: first, messages: n, bytes: size}
		}
		if o.keepLast && got != nil {
			lastMu.Lock()
			last = got
			lastMu.Unlock()
		}
		return sample{code: codes.OK, first: first, messages: n, bytes: size}
	}

	// Open loop: a dispatcher hands out scheduled start times; closed loop: none.
	var schedule chan time.Time
	if o.rate > 0 {
		schedule = make(chan time.Time)
		go func() {
			interval := time.Duration(float64(time.Second) / o.rate)
			next := time.Now()
			for i := 0; i < 100000000; i++ {
				select {
				case schedule <- next:
				case <-stop:
					return
				}
				next = next.Add(interval)
			}
		}()
	}

	// Calls start at once when there is a warm-up; otherwise when the window opens, so that with
	// -count exactly that many calls are made.
	gate := make(chan struct{})
	if o.warmup > 0 {
		close(gate)
	}
	perWorker := make([][]sample, o.inflight)
	var workers sync.WaitGroup
	for w := 0; w < o.inflight; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			conn := conns[w%len(conns)]
			select {
			case <-gate:
			case <-stop:
				return
			}
			for atomic.LoadInt32(&stopping) == 0 {
				if o.count > 0 && atomic.LoadInt32(&measuring) == 1 && atomic.AddInt64(&started, 1) > o.count {
					return
				}
				begin := time.Now()
				if schedule != nil {
					select {
					case begin = <-schedule:
					case <-stop:
						return
					}
					if wait := time.Until(begin); wait > 0 {
						time.Sleep(wait)
					}
				}
				s := call(conn, begin)
				s.latency = time.Since(begin)
				if atomic.LoadInt32(&measuring) == 1 && !begin.Before(windowAt) {
					perWorker[w] = append(perWorker[w], s)
					if o.count > 0 && atomic.AddInt64(&completed, 1) >= o.count {
						countOnce.Do(func() { close(countDone) })
					}
				}
			}
		}(w)
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	stoppedBySignal := false

	if o.warmup > 0 {
		select {
		case <-time.After(o.warmup):
		case <-signals:
			stoppedBySignal = true
		}
	}
	ticksAt := make([]int64, len(o.pids))
	for i, pid := range o.pids {
		t, err := cpuTicks(pid)
		if err != nil {
			fail("%v", err)
		}
		ticksAt[i] = t
	}
	cpuAt := clientCPU()
	windowAt = time.Now()
	atomic.StoreInt32(&measuring, 1)
	if o.warmup <= 0 {
		close(gate)
	}
	fmt.Println(`{"phase":"measuring"}`)
	if !stoppedBySignal {
		select {
		case <-time.After(o.duration):
		case <-countDone:
		case <-signals:
			stoppedBySignal = true
		}
	}
	windowEnd := time.Now()
	atomic.StoreInt32(&measuring, 0)
	clientSec := (clientCPU() - cpuAt).Seconds()
	servers := make([]serverWindow, len(o.pids))
	for i, pid := range o.pids {
		t, err := cpuTicks(pid)
		if err != nil {
			fail("%v", err)
		}
		rss, hwm := memoryKb(pid)
		servers[i] = serverWindow{Pid: pid, CPUSec: float64(t-ticksAt[i]) / userHz, RssKb: rss, HwmKb: hwm}
	}
	closeStop()
	// Calls still in flight finish (they are not counted); a stuck one ends at its deadline.
	finished := make(chan struct{})
	go func() { workers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(o.timeout + time.Second):
	}

	var all []sample
	for _, s := range perWorker {
		all = append(all, s...)
	}
	r := result{
		Method:        o.method,
		Stream:        o.stream,
		Inflight:      o.inflight,
		Rate:          o.rate,
		Errors:        map[string]int64{},
		Seconds:       windowEnd.Sub(windowAt).Seconds(),
		RequestBytes:  len(o.request),
		ClientCPUSec:  clientSec,
		Servers:       servers,
		StoppedBySign: stoppedBySignal,
		SerialNext:    atomic.LoadInt64(&serial) + 1,
	}
	var ok, firsts []time.Duration
	// Messages and bytes of the calls counted (started and ended inside the window).
	for _, s := range all {
		r.Messages += s.messages
		r.Bytes += s.bytes
		if s.code == codes.OK {
			ok = append(ok, s.latency)
			if o.stream {
				firsts = append(firsts, s.first)
			}
			continue
		}
		r.Errors[s.code.String()]++
		if r.FirstError == "" {
			r.FirstError = s.code.String() + ": " + s.msg
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
	r.Calls = int64(len(ok))
	r.Throughput = float64(r.Calls) / r.Seconds
	var sum time.Duration
	for _, d := range ok {
		sum += d
	}
	mean := 0.0
	if len(ok) > 0 {
		mean = float64(sum) / float64(len(ok)) / 1e3
	}
	r.LatencyUs = map[string]float64{
		"p50":  percentile(ok, 0.50),
		"p90":  percentile(ok, 0.90),
		"p99":  percentile(ok, 0.99),
		"max":  percentile(ok, 1),
		"mean": mean,
	}
	if o.stream {
		sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
		r.FirstMsgUs = map[string]float64{"p50": percentile(firsts, 0.5), "max": percentile(firsts, 1)}
	}
	if o.latencyFile != "" {
		var text strings.Builder
		for _, d := range ok {
			text.WriteString(strconv.FormatInt(d.Microseconds(), 10))
			text.WriteByte('\n')
		}
		if err := ioutil.WriteFile(o.latencyFile, []byte(text.String()), 0o600); err != nil {
			fail("%v", err)
		}
	}
	if o.keepLast {
		lastMu.Lock()
		r.LastMessage = hex.EncodeToString(last)
		lastMu.Unlock()
	}
	out, err := json.Marshal(r)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(string(out))
}
