// Command go-vectors records how Go's encoding/json reads GoSight lines, for metricsender's
// tests (which then need no Go): `go-vectors edges` prints the generated edge lines, and
// `go-vectors decode FILE` prints one vector per line of FILE: whether each of the two GoSight
// models accepts the line and, when it does, the decoded values in a canonical JSON.
//
// Canonical JSON: a struct is an object of its non-zero fields by JSON name; a nil pointer is
// left out and a non-nil one is an object even when its fields are all zero; a float is the
// string encoding/json writes for it (so -0 and every bit survive); an integer is a number; a
// time is RFC 3339 with nanoseconds and its zone offset; a map keeps its empty values.
//
// Run it with TZ=UTC: a decoded offset equal to the local zone's is written as Z.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-vectors edges | go-vectors decode FILE | go-vectors version")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch os.Args[1] {
	case "version":
		fmt.Fprintln(out, runtime.Version())
	case "edges":
		for _, line := range edgeLines() {
			out.Write(line)
			out.WriteByte('\n')
		}
	case "decode":
		data, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		data = bytes.TrimSuffix(data, []byte("\n"))
		for i, line := range bytes.Split(data, []byte("\n")) {
			vector := map[string]any{
				"line":   i + 1,
				"agent":  decode(line, &AgentPayload{}),
				"points": decode(line, &PointsPayload{}),
			}
			encoded, err := json.Marshal(vector)
			if err != nil {
				panic(err)
			}
			out.Write(encoded)
			out.WriteByte('\n')
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func decode(line []byte, target any) map[string]any {
	if err := json.Unmarshal(line, target); err != nil {
		return map[string]any{"ok": false, "error": err.Error()}
	}
	value, _ := canon(reflect.ValueOf(target).Elem())
	return map[string]any{"ok": true, "value": value}
}

var timeType = reflect.TypeOf(time.Time{})

// canon returns the canonical form of v and whether v is its type's zero value.
func canon(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			return t.Format(time.RFC3339Nano), t.IsZero()
		}
		fields := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			value, zero := canon(v.Field(i))
			if !zero {
				fields[jsonName(v.Type().Field(i))] = value
			}
		}
		return fields, len(fields) == 0
	case reflect.Pointer:
		if v.IsNil() {
			return nil, true
		}
		value, _ := canon(v.Elem())
		return value, false
	case reflect.Slice:
		items := []any{}
		for i := 0; i < v.Len(); i++ {
			value, _ := canon(v.Index(i))
			items = append(items, value)
		}
		return items, len(items) == 0
	case reflect.Map:
		entries := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			entries[iter.Key().String()] = iter.Value().String()
		}
		return entries, len(entries) == 0
	case reflect.String:
		return v.String(), v.Len() == 0
	case reflect.Float64:
		f := v.Float()
		text, err := json.Marshal(f)
		if err != nil {
			panic(err)
		}
		return string(text), f == 0 && !math.Signbit(f)
	case reflect.Int:
		return v.Int(), v.Int() == 0
	case reflect.Uint64:
		return v.Uint(), v.Uint() == 0
	}
	panic("unexpected kind " + v.Kind().String())
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if i := bytes.IndexByte([]byte(tag), ','); i >= 0 {
		tag = tag[:i]
	}
	return tag
}
