package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// edgeLines is the generated set of edge lines: each varies one thing of a small valid
// payload, so a disagreement with Go names its cause.
func edgeLines() [][]byte {
	var lines [][]byte
	add := func(s string) { lines = append(lines, []byte(s)) }
	payload := func(metrics, timestamp string) string {
		return `{"agent_id":"a1","host_id":"h1","hostname":"web-1","endpoint_id":"host-h1","metrics":[` +
			metrics + `],"timestamp":` + timestamp + `}`
	}
	const ts = `"2025-05-29T13:16:34.5-04:00"`
	agent := func(fields string) string {
		return payload(`{"namespace":"System","subnamespace":"CPU","name":"usage",`+fields+`}`, ts)
	}
	points := func(pointFields string) string {
		return payload(`{"namespace":"App","name":"lat","type":"histogram","data_points":[{`+pointFields+`}]}`, ts)
	}

	// Timestamps: every accepted and rejected RFC 3339 variant we could think of.
	var stamps []string
	digits := "123456789012"
	for n := 0; n <= 12; n++ {
		stamps = append(stamps, "2025-05-29T13:16:34."+digits[:n]+"Z")
		stamps = append(stamps, "2025-05-29T13:16:34,"+digits[:n]+"Z")
		stamps = append(stamps, "2025-05-29T13:16:34."+digits[:n]+"+02:00")
	}
	stamps = append(stamps,
		"2025-05-29T13:16:34Z", "2025-05-29T13:16:34z", "2025-05-29t13:16:34Z", "2025-05-29t13:16:34z",
		"2025-05-29 13:16:34Z", "2025-05-29T13:16:34", "2025-05-29T13:16:34UTC", "2025-05-29T13:16:34 Z",
		"2025-05-29T7:21:50Z", "2025-05-29T07:1:50Z", "2025-05-29T07:21:5Z", "2025-5-29T07:21:50Z",
		"2025-05-9T07:21:50Z", "25-05-29T07:21:50Z", "+2025-05-29T07:21:50Z", "02025-05-29T07:21:50Z",
		"2025-05-29T7:21:50.5+02:00", "2025-05-29T7:21:50,5Z",
		"2025-05-29T13:16:34+00:00", "2025-05-29T13:16:34-00:00", "2025-05-29T13:16:34+05:30",
		"2025-05-29T13:16:34-23:59", "2025-05-29T13:16:34+23:59", "2025-05-29T13:16:34+24:00",
		"2025-05-29T13:16:34-24:00", "2025-05-29T13:16:34+23:60", "2025-05-29T13:16:34+24:60",
		"2025-05-29T13:16:34+24:01", "2025-05-29T13:16:34+25:00", "2025-05-29T13:16:34+00:61",
		"2025-05-29T13:16:34+0530", "2025-05-29T13:16:34+05", "2025-05-29T13:16:34+05:3",
		"2025-05-29T13:16:34+05:30:00", "2025-05-29T13:16:34+5:30", "2025-05-29T13:16:34±05:00",
		"2025-05-29T13:16:34.Z", "2025-05-29T13:16:34.+02:00", "2025-05-29T13:16:34..5Z",
		"2025-05-29T13:16:34.5.5Z", "2025-05-29T13:16:34.5ZZ", "2025-05-29T13:16:34Z ",
		" 2025-05-29T13:16:34Z", "2025-05-29T13:16:34.-5Z", "2025-05-29T13:16:34.5e3Z",
		"2025-05-29T24:00:00Z", "2025-05-29T23:60:00Z", "2025-05-29T23:59:60Z", "2025-05-29T23:59:59Z",
		"2025-05-29T-1:59:59Z", "2025-05-29T+1:59:59Z",
		"2024-02-29T00:00:00Z", "2025-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2025-04-31T00:00:00Z", "2025-00-10T00:00:00Z", "2025-13-10T00:00:00Z", "2025-12-00T00:00:00Z",
		"2025-12-32T00:00:00Z", "0000-01-01T00:00:00Z", "0000-01-01T00:30:00+01:00",
		"0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00.000000001Z",
		"1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "2554-07-21T23:34:33.709551615Z",
		"2554-07-21T23:34:33.709551616Z", "9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59-24:00",
		"10000-01-01T00:00:00Z", "2025-05-29", "13:16:34Z", "", "2025-05-29T13:16:34.123456789-05:00",
		"2025-05-29T13:16:34.5\u0000Z", "２025-05-29T13:16:34Z",
	)
	for _, s := range stamps {
		add(payload(`{"name":"m","timestamp":"2025-05-29T13:16:34Z","value":1}`, quote(s)))
	}
	// The same strings where a metric, a data point, a start time and an exemplar hold them.
	for _, s := range []string{"2025-05-29T7:21:50Z", "2025-05-29T13:16:34,5Z", "2025-05-29T13:16:34.1234567891234Z",
		"2025-05-29T13:16:34+24:00", "2025-05-29t13:16:34Z", "2025-05-29T13:16:34z", "0001-01-01T00:00:00Z"} {
		q := quote(s)
		add(agent(`"timestamp":` + q + `,"value":1`))
		add(points(`"timestamp":` + q + `,"count":1`))
		add(points(`"start_timestamp":` + q + `,"count":1`))
		add(points(`"count":1,"exemplars":[{"value":1,"timestamp":` + q + `}]`))
	}
	// Escapes in a time string: Go 1.27 unescapes them before parsing.
	for _, raw := range []string{`"2025-05-29T13:16:34\u005a"`, `"\u0032025-05-29T13:16:34Z"`, `"2025-05-29T13:16:34\/Z"`,
		`null`, `5`, `true`, `{}`, `[]`, `"null"`} {
		add(payload(`{"name":"m","value":1}`, raw))
		add(agent(`"timestamp":` + raw + `,"value":1`))
	}

	// Keys in other letter cases, and Unicode folding.
	add(`{"AGENT_ID":"a","Host_Id":"h","HOSTNAME":"n","Endpoint_ID":"e","Metrics":[{"NAME":"m","Value":2,"STATS":{"MIN":1,"Max":3,"COUNT":2,"sUm":4},"Dimensions":{"Core":"0"}}],"TimeStamp":"2025-05-29T13:16:34Z"}`)
	add(`{"meta":{"HOSTNAME":"x","\u212Aind":"host","Labels":{"A":"b"},"TAGS":{"k":"v"}},"metrics":[{"name":"m","\u017Fource":"s","Data_Points":[{"VALUE":1,"Quantile_Values":[{"QUANTILE":0.5,"value":1}]}]}]}`)
	add(`{"metrics":[{"name":"m","valuе":1}]}`)   // Cyrillic е: no match
	add(`{"metrics":[{"name":"m","value ":1}]}`)  // trailing space: no match
	add(`{"metrics":[{"name":"m","VALUE":"x"}]}`) // a folded match is still typed
	add(`{"hostName":"a","hostname":"b"}`)
	add(`{"hostname":"b","hostName":"a"}`)
	add(`{"HOSTNAME":"a","hostname":"b","HostName":"c"}`)
	add(`{"host_id":"x","HOST_ID":"y","host_id":"z"}`)

	// Repeated keys: the last wins; null is no change for a scalar, nil for a map or pointer;
	// a repeated object merges into what is there.
	add(`{"host_id":"a","host_id":"b"}`)
	add(`{"host_id":"a","host_id":null}`)
	add(`{"host_id":null,"host_id":"b"}`)
	add(agent(`"value":5,"value":null`))
	add(agent(`"value":5,"value":7`))
	add(agent(`"stats":{"min":1,"count":1},"stats":{"max":2}`))
	add(agent(`"stats":{"min":1,"count":1},"stats":null`))
	add(agent(`"stats":{"min":1,"count":1},"stats":null,"stats":{"max":2}`))
	add(agent(`"value":1,"dimensions":{"a":"1"},"dimensions":{"b":"2"}`))
	add(agent(`"value":1,"dimensions":{"a":"1"},"dimensions":null,"dimensions":{"b":"2"}`))
	add(agent(`"value":1,"dimensions":{"a":"1"},"dimensions":null`))
	add(agent(`"value":1,"dimensions":{"a":"1","a":"2"}`))
	add(agent(`"value":1,"dimensions":{"a":"1","A":"2"}`))
	add(agent(`"value":1,"dimensions":{"a":null}`))
	add(agent(`"value":1,"dimensions":{"a":"1"},"dimensions":{"a":null}`))
	add(`{"meta":{"hostname":"x","labels":{"a":"1"}},"meta":{"os":"linux","labels":{"b":"2"}}}`)
	add(`{"meta":{"hostname":"x"},"meta":null}`)
	add(`{"meta":{"hostname":"x"},"META":{"hostname":"y"}}`)
	add(`{"metrics":[{"name":"a","value":1,"unit":"u"}],"metrics":[{"name":"b"}]}`)
	add(`{"metrics":[{"name":"a","value":1},{"name":"b","value":2}],"metrics":[{"name":"c"}]}`)
	add(`{"metrics":[{"name":"a"}],"metrics":null}`)
	add(points(`"count":1,"bucket_counts":[1,2],"bucket_counts":[3]`))
	add(points(`"count":1,"attributes":{"a":"1"},"attributes":{"b":"2"}`))
	add(`{"metrics":[{"name":"m","data_points":[{"value":1}],"data_points":null}]}`)
	add(`{"metrics":[{"name":"m","data_points":[{"value":1,"count":2}],"data_points":[{"value":3}]}]}`)

	// Nulls everywhere.
	add(`{"agent_id":null,"host_id":null,"hostname":null,"endpoint_id":null,"metrics":null,"meta":null,"timestamp":null}`)
	add(`{"metrics":[null]}`)
	add(`{"metrics":[null,{"name":"m","value":1}]}`)
	add(agent(`"value":null,"stats":null,"dimensions":null,"unit":null,"resolution":null,"type":null,"timestamp":null`))
	add(agent(`"value":1,"stats":{"min":null,"max":null,"count":null,"sum":null}`))
	add(points(`"value":null,"count":null,"sum":null,"bucket_counts":null,"explicit_bounds":null,"quantile_values":null,"exemplars":null,"attributes":null`))
	add(points(`"count":1,"bucket_counts":[null,1],"explicit_bounds":[null],"quantile_values":[null],"exemplars":[null]`))
	add(points(`"count":1,"exemplars":[{"value":null,"trace_id":null,"span_id":null,"filtered_attributes":{"a":null}}]`))
	add(`{"meta":{"hostname":null,"labels":null,"tags":{"a":null}}}`)
	add(`{"metrics":[{"name":"m","data_points":null}]}`)
	add(`{"metrics":[{"name":"m","data_points":[]}]}`)
	add(`{"metrics":[{"name":"m","type":"gauge"}]}`)
	add(`{"metrics":[{"name":"m","type":"gauge","value":0}]}`)
	add(`{"metrics":[{"name":"m","type":"gauge","description":"d","unit":"1"}]}`)

	// Numbers in every form Go's reader meets.
	for _, n := range []string{"0", "-0", "0.0", "-0.0", "0e0", "-0e-0", "1", "-1", "1.5", "1e2", "1E2", "1e+2", "1e-2",
		"1.5e300", "1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309",
		"-1e309", "5e-324", "4.9e-324", "3e-324", "2.4703282292062328e-324", "2.4703282292062327e-324", "1e-400",
		"-1e-400", "0.1", "0.30000000000000004", "123456789012345678901234567890", "9007199254740993",
		"0.000001", "1e-7", "1e21", "1e20", "100000000000000000000000",
		"01", "-01", ".5", "1.", "+1", "1e", "1e+", "-", "0x10", "NaN", "Infinity", "-Infinity", "1_000",
		`"5"`, "true", "[]", "{}", `"NaN"`} {
		add(agent(`"value":` + n))
		add(points(`"sum":` + n + `,"explicit_bounds":[` + n + `]`))
	}
	for _, n := range []string{"0", "-0", "1", "18446744073709551615", "18446744073709551616", "-1", "1.0", "1e3",
		"1E0", "9223372036854775808", "00", "1.5", `"1"`, "null"} {
		add(points(`"count":` + n))
		add(points(`"count":1,"bucket_counts":[` + n + `]`))
	}
	for _, n := range []string{"0", "-0", "1", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "-1", "1.0", "1e3", "1.5", `"1"`} {
		add(agent(`"value":1,"stats":{"min":1,"max":2,"count":` + n + `,"sum":3}`))
		add(agent(`"value":1,"resolution":` + n))
	}

	// Strings: escapes, surrogates, invalid UTF-8, control characters.
	for _, s := range []string{`"caf\u00e9"`, `"café"`, `"\ud83d\ude00"`, `"😀"`, `"\ud800"`, `"\udc00"`,
		`"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud83d"`, `"\u0000"`, `"a\/b"`, `"\""`, `"\\"`,
		`"\b\f\n\r\t"`, "\"tab\there\"", "\"cr\rhere\"", "\"\x7f\"", `"\x41"`, `"\U0041"`, `"\u004"`,
		"\"\xff\"", "\"\xc3\x28\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc0\xaf\"", "\"\xe2\x82\"",
		"\"\u2028\u2029\"", `"<&>"`, `""`} {
		add(payload(`{"name":`+s+`,"value":1}`, ts))
		add(agent(`"value":1,"dimensions":{` + s + `:"v"}`))
	}
	add("{\"hostname\":\"web\xff\"}")
	add("{\"host\xffname\":\"web\"}")
	add("{\"hostname\"\xff:\"web\"}")

	// Whatever surrounds the object.
	for _, s := range []string{"\ufeff{}", "\ufeff{\"hostname\":\"a\"}", " {} ", "\t{}\t", "{}\r", "{},", "{} {}",
		"{}x", "{}//", "null", "[]", `""`, "5", "true", "", " ", "{", `{"hostname":"a"`, `{"hostname":"a",}`,
		`{"hostname" "a"}`, `{hostname:"a"}`, `{'hostname':'a'}`, `{"metrics":[{"name":"m","value":1},]}`,
		`{"hostname":"a"}` + "\x00", "[{}]", `{"":1}`, `{"metrics":[]}`} {
		add(s)
	}

	// Wrong types.
	for _, f := range []string{`"metrics":{}`, `"metrics":"x"`, `"metrics":[1]`, `"metrics":[[]]`, `"meta":[]`,
		`"meta":"x"`, `"meta":{"labels":[]}`, `"meta":{"labels":{"a":1}}`, `"meta":{"hostname":1}`,
		`"hostname":5`, `"hostname":true`, `"hostname":{}`, `"hostname":[]`, `"agent_id":["a"]`} {
		add(`{` + f + `}`)
	}
	for _, f := range []string{`"dimensions":[]`, `"dimensions":{"a":1}`, `"dimensions":"a=b"`, `"stats":5`,
		`"stats":[]`, `"stats":{"count":"1"}`, `"name":5`, `"type":true`, `"unit":{}`, `"value":"1"`,
		`"value":[1]`, `"data_points":{}`, `"data_points":[1]`, `"data_points":[{"attributes":[]}]`,
		`"data_points":[{"quantile_values":{}}]`, `"data_points":[{"exemplars":[{"trace_id":1}]}]`,
		`"description":1`, `"source":false`, `"aggregation_temporality":0`, `"meta":"m"`} {
		add(agent(`"value":1,` + f))
	}
	// An error does not stop Go reading the rest: the line is still rejected.
	add(`{"hostname":5,"host_id":"after"}`)
	add(agent(`"value":"1","name":"after"`))

	// Unknown fields of every type, and deep nesting inside them.
	add(`{"extra":{"a":[1,{"b":null}],"c":"d"},"hostname":"h","more":[true,false,null,1.5e3]}`)
	for _, depth := range []int{10, 126, 127, 128, 129, 200, 1000, 9999, 10000, 10001} {
		add(`{"hostname":"h","deep":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
		add(`{"hostname":"h","deep":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}`)
	}
	// Added later, kept at the end so that earlier line numbers stay put.
	add(agent(`"value":"x","value":5`))
	add(agent(`"value":[1],"value":null`))
	add(agent(`"value":1,"stats":[],"stats":null`))
	add(agent(`"value":1,"dimensions":{"a":"1"},"dimensions":5`))
	add(agent(`"value":1,"dimensions":5,"dimensions":null`))
	add(`{"metrics":[{"name":"a","unit":"u"},{"name":"b","unit":"v"}],"metrics":[{"name":"c"}],"metrics":[{"name":"d"},{"name":"e"}]}`)
	add(`{"metrics":[{"name":"a","unit":"u"},{"name":"b","unit":"v"}],"metrics":[],"metrics":[{"name":"d"},{"name":"e"}]}`)
	add(`{"metrics":[{"name":"a","unit":"u"},{"name":"b","unit":"v"}],"metrics":null,"metrics":[{"name":"d"},{"name":"e"}]}`)
	add(agent(`"value":1,"stats":{"count":-0.0}`))
	add(agent(`"value":1,"resolution":-0.0`))
	add(points(`"count":-0`))
	add(points(`"count":-0.0`))
	add(`{"meta":{"hostname":"x","labels":{"a":"1"}},"meta":{"labels":null}}`)
	add(`{"metrics":[{"name":"m","stats":{"count":1,"sum":2}}]}`)
	add(`{"metrics":[{"name":"m","stats":{"count":0}}]}`)
	// A big but ordinary line.
	var many []string
	for i := 0; i < 300; i++ {
		many = append(many, fmt.Sprintf(`{"namespace":"N","name":"m%d","timestamp":"2025-05-29T13:16:34.%dZ","value":%d.25,"dimensions":{"i":"%d"}}`, i, i+1, i, i))
	}
	add(payload(strings.Join(many, ","), ts))

	// Added after the big line, so that earlier line numbers stay put: replaced values of
	// the wrong type, numbers out of range in unknown fields, and seeded repeated keys.
	add(`{"timestamp":"garbage","timestamp":"2025-05-29T13:16:34Z"}`)
	add(`{"timestamp":5,"timestamp":"2025-05-29T13:16:34Z"}`)
	add(agent(`"timestamp":"garbage","timestamp":"2025-05-29T13:16:34Z","value":1`))
	add(points(`"count":1,"timestamp":"x","timestamp":null`))
	add(agent(`"value":1,"dimensions":{"a":1,"a":"x"}`))
	add(agent(`"value":1,"dimensions":{"a":1},"dimensions":{"a":"x"}`))
	add(agent(`"value":1,"dimensions":{"a":"1","b":"2","a":"3","b":null}`))
	add(`{"metrics":[{"name":5}],"metrics":[]}`)
	add(`{"metrics":[{"name":5}],"metrics":null}`)
	add(agent(`"value":1,"stats":{"count":"x"},"stats":{"count":1}`))
	add(`{"hostname":"h","x":1e400}`)
	add(`{"hostname":"h","x":[1e400]}`)
	add(`{"hostname":"h","x":{"y":-1e400}}`)
	lines = append(lines, repeatedKeys(400)...)
	return lines
}

// repeatedKeys writes n lines whose keys repeat with values of every type, from a fixed seed.
func repeatedKeys(n int) [][]byte {
	rng := rand.New(rand.NewPCG(27, 1))
	values := map[string][]string{
		"host_id":    {`"h"`, `null`, `5`, `""`, `["x"]`},
		"timestamp":  {`"2025-05-29T13:16:34Z"`, `"2025-05-29T7:16:34,5+24:00"`, `null`, `"bad"`, `1`},
		"value":      {`1.5`, `null`, `"1"`, `-0`, `[]`},
		"stats":      {`{"min":1,"count":2}`, `{"max":3}`, `null`, `[]`, `{"count":"x"}`, `{"count":1.5}`},
		"dimensions": {`{"a":"1"}`, `{"a":null,"b":"2"}`, `null`, `{"a":1}`, `[]`, `{}`},
		"meta":       {`{"hostname":"m","labels":{"k":"v"}}`, `{"os":"linux"}`, `null`, `[]`, `{"labels":null}`},
		"data_points": {`[{"value":1,"count":2}]`, `[{"sum":3},{"value":4}]`, `null`, `[]`, `[null]`,
			`[{"timestamp":"bad"}]`, `[{"count":-1}]`},
	}
	payloadKeys := []string{"host_id", "HOST_ID", "timestamp", "Timestamp", "meta", "META"}
	metricKeys := []string{"value", "VALUE", "stats", "Stats", "dimensions", "timestamp", "data_points", "Data_Points", "meta"}
	canonical := func(key string) string { return strings.ToLower(key) }
	pick := func(keys []string) string {
		key := keys[rng.IntN(len(keys))]
		options := values[canonical(key)]
		return fmt.Sprintf(`"%s":%s`, key, options[rng.IntN(len(options))])
	}
	var out [][]byte
	for i := 0; i < n; i++ {
		var metrics []string
		for m := 0; m < 1+rng.IntN(2); m++ {
			fields := []string{`"name":"m"`}
			for k := 0; k < 2+rng.IntN(4); k++ {
				fields = append(fields, pick(metricKeys))
			}
			metrics = append(metrics, "{"+strings.Join(fields, ",")+"}")
		}
		fields := []string{`"metrics":[` + strings.Join(metrics, ",") + `]`}
		for k := 0; k < 1+rng.IntN(4); k++ {
			fields = append(fields, pick(payloadKeys))
		}
		rng.Shuffle(len(fields), func(a, b int) { fields[a], fields[b] = fields[b], fields[a] })
		out = append(out, []byte("{"+strings.Join(fields, ",")+"}"))
	}
	return out
}

// quote writes s as a JSON string with only the quotes and backslashes escaped, so what the
// test puts in a time string reaches the parser as written.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\x00", `\u0000`).Replace(s) + `"`
}
