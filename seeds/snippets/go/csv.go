// Package csvlite parses RFC 4180 style CSV: quoted fields, doubled quotes and
// line breaks inside quotes.
package csvlite

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnterminated is returned when a quoted field runs to the end of input.
var ErrUnterminated = errors.New("csvlite: unterminated quoted field")

// Options control the parser.
type Options struct {
	Comma     rune
	TrimSpace bool
}

// Parse splits text into records of fields.
func Parse(text string, opts Options) ([][]string, error) {
	if opts.Comma == 0 {
		opts.Comma = ','
	}
	var records [][]string
	var record []string
	var field strings.Builder
	inQuotes := false
	runes := []rune(text)
	line := 1

	flushField := func() {
		value := field.String()
		if opts.TrimSpace {
			value = strings.TrimSpace(value)
		}
		record = append(record, value)
		field.Reset()
	}

	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case inQuotes && r == '"' && i+1 < len(runes) && runes[i+1] == '"':
			field.WriteRune('"')
			i++
		case r == '"' && inQuotes:
			inQuotes = false
		case r == '"' && field.Len() == 0:
			inQuotes = true
		case inQuotes:
			if r == '\n' {
				line++
			}
			field.WriteRune(r)
		case r == opts.Comma:
			flushField()
		case r == '\r' && i+1 < len(runes) && runes[i+1] == '\n':
			// handled by the '\n' on the next pass
		case r == '\n':
			flushField()
			records = append(records, record)
			record = nil
			line++
		default:
			field.WriteRune(r)
		}
	}
	if inQuotes {
		return nil, fmt.Errorf("line %d: %w", line, ErrUnterminated)
	}
	if field.Len() > 0 || len(record) > 0 {
		flushField()
		records = append(records, record)
	}
	return records, nil
}

// ToMaps pairs every record after the first with the header record.
func ToMaps(records [][]string) ([]map[string]string, error) {
	if len(records) == 0 {
		return nil, nil
	}
	header := records[0]
	out := make([]map[string]string, 0, len(records)-1)
	for n, rec := range records[1:] {
		if len(rec) != len(header) {
			return nil, fmt.Errorf("record %d has %d fields, want %d", n+2, len(rec), len(header))
		}
		row := make(map[string]string, len(header))
		for i, name := range header {
			row[name] = rec[i]
		}
		out = append(out, row)
	}
	return out, nil
}
