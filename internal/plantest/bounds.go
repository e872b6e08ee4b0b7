package plantest

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/tafweej/tafweej/scheduler"
)

// The best upper bounds known on the optimum of the generated Petra days
// (PetraDays), proven by CBC on the models of WriteLP and kept in
// testdata/petra-bounds.json with the command that produced them, so that
// the planner's quality tests compare with them without running a solver.
// A bound belongs to one model: Model is the SHA-256 of WriteLP's output,
// and a day whose model has changed (a new generator, a new model) has no
// bound known until the refresh is run again (make planner-bounds).

//go:embed testdata/petra-bounds.json
var petraBoundsJSON []byte

// Bounds is the file of known bounds.
type Bounds struct {
	// Command produced the file; it re-solves only the days whose model
	// changed or whose bound was proven with a shorter time limit.
	Command string  `json:"command"`
	Solver  string  `json:"solver"` // CBC's version line
	Days    []Bound `json:"days"`
}

// Bound is what CBC proved on one day's model.
type Bound struct {
	Day   string `json:"day"`   // PetraDays name
	Model string `json:"model"` // SHA-256 of WriteLP's output, hex
	// Bound is the proven upper bound on the visitors the day can place:
	// the optimum when Optimal.
	Bound   float64 `json:"bound"`
	Best    float64 `json:"cbc_best"` // CBC's best integer solution
	Optimal bool    `json:"optimal"`
	Status  string  `json:"status"` // CBC's "Result - ..." line
	// CPUSeconds is the time limit CBC ran under (sec), WallSeconds what it
	// took on the machine that day.
	CPUSeconds  int     `json:"cbc_cpu_seconds"`
	WallSeconds float64 `json:"cbc_wall_seconds"`
	// Source says which run proved it.
	Source string `json:"source"`
}

// KnownBounds reads the bounds kept in the package.
func KnownBounds() (Bounds, error) {
	var b Bounds
	if err := json.Unmarshal(petraBoundsJSON, &b); err != nil {
		return b, fmt.Errorf("plantest: testdata/petra-bounds.json: %w", err)
	}
	return b, nil
}

// Lookup is the bound known for day on the model hashed model, if any.
func (b Bounds) Lookup(day, model string) (Bound, bool) {
	for _, d := range b.Days {
		if d.Day == day && d.Model == model {
			return d, true
		}
	}
	return Bound{}, false
}

// ModelHash is the SHA-256 of inst's model as WriteLP writes it, in hex,
// and the model itself.
func ModelHash(inst scheduler.Instance) (string, []byte, error) {
	var lp bytes.Buffer
	if err := WriteLP(&lp, inst); err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(lp.Bytes())
	return hex.EncodeToString(sum[:]), lp.Bytes(), nil
}

// IntegralBound is the tightest bound on a day's optimum that follows from
// a bound of CBC's alone: WriteLP's variables are 0-1 and their objective
// coefficients are party sizes, whole numbers, so every plan places a
// whole number of visitors and the optimum is at most the bound rounded
// down. The rounding allows for CBC's floating point (a bound printed as
// 6159.9999999 is 6160), which can only leave the result looser, never
// below the optimum.
func IntegralBound(bound float64) float64 {
	return math.Floor(bound + 1e-6)
}
