package collector

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// ParseJSONLine appends the metrics of line, a JSON object such as
// {"epoch": 3, "loss": 0.2}, to dst: each member whose value is a number
// or a string holding one, in the order of the names. Other lines and
// members are ignored.
func ParseJSONLine(line []byte, filter Filter, dst []Metric) []Metric {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || len(line) > MaxLine {
		return dst
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return dst
	}
	start := len(dst)
	for k, raw := range obj {
		name, ok := filter.lookup([]byte(k))
		if !ok || len(raw) == 0 {
			continue
		}
		s := string(raw)
		if raw[0] == '"' {
			u, err := strconv.Unquote(s)
			if err != nil {
				var v string
				if json.Unmarshal(raw, &v) != nil {
					continue
				}
				u = v
			}
			s = string(bytes.TrimSpace([]byte(u)))
		} else if c := raw[0]; c != '-' && (c < '0' || c > '9') {
			continue
		}
		v, ok := parseNumber(s)
		if !ok {
			continue
		}
		dst = append(dst, Metric{Name: name, Value: v})
	}
	added := dst[start:]
	sort.Slice(added, func(i, j int) bool { return added[i].Name < added[j].Name })
	return dst
}
