// Package csvsafe is the one CSV writer of every CSV file the product emits (the people
// export, the drill report, the indicator tables). People open these files in a
// spreadsheet, and a spreadsheet runs a cell starting with =, +, -, @, a tab or a
// carriage return as a formula: a name typed as =HYPERLINK(…) or =cmd|… would run on
// the auditor's machine (CSV injection). Such a text cell is written with a leading
// apostrophe, which spreadsheets show as text; numbers (-3.5, +525512345678) are left as
// they are. Restore undoes it for files imported back.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// triggers are the first characters that make a spreadsheet read a cell as a formula.
const triggers = "=+-@\t\r"

// Defuse returns cell as a spreadsheet will show it as text: with an apostrophe in front
// when it starts with a formula trigger and is not a number.
func Defuse(cell string) string {
	if cell == "" || !strings.ContainsRune(triggers, rune(cell[0])) {
		return cell
	}
	if _, err := strconv.ParseFloat(cell, 64); err == nil {
		return cell
	}
	return "'" + cell
}

// Restore undoes Defuse: a cell that is an apostrophe followed by a trigger loses the
// apostrophe. Import parsers call it, so an export imports back unchanged.
func Restore(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' && strings.ContainsRune(triggers, rune(cell[1])) {
		return cell[1:]
	}
	return cell
}

// Writer writes CSV records with every cell defused.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, defused; the caller's slice is not changed.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Defuse(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes any buffered data and returns the first error of any Write or Flush.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
