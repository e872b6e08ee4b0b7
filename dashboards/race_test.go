//go:build race

package dashboards

// The end-to-end test builds the service with the race detector when the
// test itself runs with it: the race-built dependencies are then already in
// the build cache, and the service is checked for races too.
func init() { raceEnabled = true }
