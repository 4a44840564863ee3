// Writes a Go heap profile (runtime/pprof, gzip'd profile.proto with Go's
// own symbolization) for tests/cli/jeprof_gopprof.sh: allocations from two
// known functions, kept live, sampled at every allocation. With a second
// argument "cpu", writes a CPU profile of main.burn instead.
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

var keep [][]byte

//go:noinline
func allocBig() {
	for i := 0; i < 100; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
}

//go:noinline
func allocSmall() {
	for i := 0; i < 1000; i++ {
		keep = append(keep, make([]byte, 1024))
	}
}

var sink int

//go:noinline
func burn() {
	for i := 0; i < 400000000; i++ {
		sink += i % 7
	}
}

func main() {
	if len(os.Args) > 2 && os.Args[2] == "cpu" {
		f, err := os.Create(os.Args[1])
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		burn()
		pprof.StopCPUProfile()
		f.Close()
		return
	}
	runtime.MemProfileRate = 1
	keep = make([][]byte, 0, 2000)
	allocBig()
	allocSmall()
	runtime.GC()
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		panic(err)
	}
	f.Close()
}
