//go:build !unix

package scheduler

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
