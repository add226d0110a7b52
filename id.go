package optimum

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new random id with the prefix, e.g. "inc_01j9…". The first 48 bits are
// the time in milliseconds, so ids sort by creation time and index well; the other 80 bits
// come from crypto/rand.
func NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}
