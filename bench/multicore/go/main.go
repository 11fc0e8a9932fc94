// Go peer of aio's multi-core benchmarks (bench/multicore-compare).
//
// Usage: go-mt-bench WORKLOAD N
//
//	spawn N      N goroutines, each yields once (runtime.Gosched) and returns i; main waits
//	             for all (WaitGroup) and checks the sum of the results is N(N-1)/2
//	xpingpong N  two goroutines pass a token N times through two chan int of capacity 1
//	             (ping, pong); round trips/s
//	xchannel N   a producer goroutine sends 0..N-1 through a chan int of capacity 1024 to a
//	             consumer goroutine that sums them (checked); messages/s
//
// Meant to run with GOMAXPROCS=2 (the runner sets it; when the variable is unset the program
// sets 2 itself). Prints one JSON line on stdout; only the work is timed. Exit 0 on success, 1
// if a self-check fails, 2 for a usage error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func emit(workload string, n int, seconds float64, extra map[string]any) {
	m := map[string]any{
		"workload":   workload,
		"impl":       "go-mt",
		"n":          n,
		"seconds":    seconds,
		"ops_per_s":  rate(n, seconds),
		"go":         runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0),
		"numcpu":     runtime.NumCPU(),
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

func rate(n int, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// spawn: one result slot per goroutine (no shared counter to contend on), a WaitGroup to join.
func spawn(n int) {
	results := make([]int64, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			runtime.Gosched()
			results[i] = int64(i)
			wg.Done()
		}(i)
	}
	wg.Wait()
	s := time.Since(t0).Seconds()
	var sum int64
	for _, v := range results {
		sum += v
	}
	if want := int64(n) * int64(n-1) / 2; sum != want {
		fail("spawn: bad sum %d (want %d)", sum, want)
	}
	emit("spawn", n, s, nil)
}

// xpingpong: a pinger and a ponger goroutine; the pinger sends v on ping and waits for v+1 on
// pong, N times, starting at 0. Main waits for both.
func xpingpong(n int) {
	ping := make(chan int, 1)
	pong := make(chan int, 1)
	var final int
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	go func() {
		defer wg.Done()
		v := 0
		for i := 0; i < n; i++ {
			ping <- v
			v = <-pong
		}
		final = v
	}()
	wg.Wait()
	s := time.Since(t0).Seconds()
	if final != n {
		fail("xpingpong: bad token %d (want %d)", final, n)
	}
	emit("xpingpong", n, s, nil)
}

// xchannel: producer -> chan int (1024) -> consumer; the producer closes the channel at the
// end, the consumer sums until it is closed. Main waits for both.
func xchannel(n int) {
	ch := make(chan int, 1024)
	var sum int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	go func() {
		defer wg.Done()
		var s int64
		for v := range ch {
			s += int64(v)
		}
		sum = s
	}()
	wg.Wait()
	s := time.Since(t0).Seconds()
	if want := int64(n) * int64(n-1) / 2; sum != want {
		fail("xchannel: bad sum %d (want %d)", sum, want)
	}
	emit("xchannel", n, s, map[string]any{"capacity": 1024})
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-mt-bench spawn|xpingpong|xchannel N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 0 {
		fmt.Fprintln(os.Stderr, "go-mt-bench: N must be a non-negative integer")
		os.Exit(2)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	switch os.Args[1] {
	case "spawn":
		spawn(n)
	case "xpingpong":
		xpingpong(n)
	case "xchannel":
		xchannel(n)
	default:
		fmt.Fprintln(os.Stderr, "go-mt-bench: unknown workload", os.Args[1])
		os.Exit(2)
	}
}
