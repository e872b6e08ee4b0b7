//go:build race

package sensors

func init() { raceEnabled = true }
