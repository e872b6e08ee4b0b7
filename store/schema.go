package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Key prefixes. Each record type lives under its own prefix so that Load can
// read one type with one prefix scan, in key order. See doc.go for the layout.
const (
	prefixBooking     = "b/" // b/<booking id>
	prefixIdempotency = "i/" // i/<operator> 0x00 <idempotency key>
	prefixScan        = "s/" // s/<scan id>
	prefixSensor      = "c/" // c/<sensor>
	prefixZone        = "z/" // z/<zone>
	prefixClosure     = "x/" // x/<closure id>
	prefixRequest     = "q/" // q/<request id>
	prefixCut         = "r/" // r/<capacity cut id>
	prefixMeter       = "g/" // g/<booking id> of a group the forecast holds back
	prefixKey         = "k/" // k/<hex sha-256 of the secret>
	prefixHistory     = "h/" // h/<sensor>/<8-byte BE unix ns><8-byte BE fnv-64a of raw>
	keySchema         = "m/schema"
)

func bookingKey(id string) []byte  { return []byte(prefixBooking + id) }
func scanKey(id string) []byte     { return []byte(prefixScan + id) }
func sensorKey(id string) []byte   { return []byte(prefixSensor + id) }
func zoneKey(id string) []byte     { return []byte(prefixZone + id) }
func closureKey(id string) []byte  { return []byte(prefixClosure + id) }
func apiKeyKey(hash string) []byte { return []byte(prefixKey + hash) }
func requestKey(id string) []byte  { return []byte(prefixRequest + id) }
func cutKey(id string) []byte      { return []byte(prefixCut + id) }
func meterKey(id string) []byte    { return []byte(prefixMeter + id) }
func idempotencyKey(operator, key string) []byte {
	// The Idempotency-Key header is free text and may contain '/', so the
	// operator is ended by a NUL byte, which neither an operator id nor a
	// header value can hold: (operator, key) pairs never collide.
	k := make([]byte, 0, len(prefixIdempotency)+len(operator)+1+len(key))
	k = append(k, prefixIdempotency...)
	k = append(k, operator...)
	k = append(k, 0)
	return append(k, key...)
}

// historyKey orders a sensor's messages by time. The hash of the message
// keeps two different messages with the same timestamp apart, while an exact
// redelivery of one message overwrites itself.
func historyKey(sensor string, at time.Time, raw []byte) []byte {
	h := fnv.New64a()
	h.Write(raw)
	k := make([]byte, 0, len(prefixHistory)+len(sensor)+1+16)
	k = append(k, prefixHistory...)
	k = append(k, sensor...)
	k = append(k, '/')
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano()))
	return binary.BigEndian.AppendUint64(k, h.Sum64())
}

// SchemaError reports a record written with a schema version this build does
// not read (a newer tafweej wrote it, or it is corrupt). It matches ErrSchema
// with errors.Is.
type SchemaError struct {
	Key     string // the record's key
	Version int    // the version found; 0 if the record had none
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store: record %q has schema version %d, this build reads version %d only: "+
		"run a tafweej release that knows it, or restore a backup made by this one",
		e.Key, e.Version, SchemaVersion)
}

// Unwrap makes errors.Is(err, ErrSchema) true.
func (e *SchemaError) Unwrap() error { return ErrSchema }

// schemaMarker is the value of m/schema: the schema version of the whole
// database, checked by Open and Restore.
type schemaMarker struct {
	App string `json:"app"`
}

func checkMarker(val []byte) error {
	var m schemaMarker
	if err := decode([]byte(keySchema), val, &m); err != nil {
		return err
	}
	if m.App != "tafweej" {
		return fmt.Errorf("store: %q names application %q, want \"tafweej\": not a tafweej database", keySchema, m.App)
	}
	return nil
}

// initSchema writes the schema marker of a new database, or checks the one
// of an existing database.
func initSchema(db *badger.DB) error {
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if err != nil {
			return err
		}
		return item.Value(checkMarker)
	})
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	val, err := encode(schemaMarker{App: "tafweej"})
	if err != nil {
		return err
	}
	return db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(keySchema), val) })
}
