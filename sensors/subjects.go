package sensors

// The subjects and stream names are built by internal/subjects; these are
// the names of the service's own consumers.

// Durable consumer and queue group names.
const (
	counterDurable = "tafweej-counters"
	gateQueue      = "tafweej-gate"
	alertQueue     = "tafweej-alert"
	alertDurable   = "tafweej-alerts"
)
