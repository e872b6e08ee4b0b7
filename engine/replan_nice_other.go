//go:build !linux

package engine

// lowerPriority does nothing outside Linux (replan_nice_linux.go).
func lowerPriority() {}
