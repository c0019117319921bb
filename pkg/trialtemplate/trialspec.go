package trialtemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// The placeholders of a trialSpec: ${trialParameters.<name>} for a trial
// parameter's value, ${trialSpec.Name} and ${trialSpec.Namespace} for the
// trial's.
const (
	placeholderStart   = "${"
	prefixParameter    = "trialParameters."
	prefixTrialSpec    = "trialSpec."
	trialSpecName      = "Name"
	trialSpecNamespace = "Namespace"
)

// renderTrialSpec renders a trialSpec with trialParameters (the Katib
// v1beta1 form). It substitutes the placeholders in the strings of the
// decoded object, never in its JSON text, so that a value is always a
// string and can never add to the object's structure. Keys are left as they
// are.
func renderTrialSpec(tt *v1alpha1.TrialTemplate, trialName, namespace string, assignments []v1alpha1.ParameterAssignment, inactive []string) (map[string]any, *Error) {
	s := &substitution{trialName: trialName, namespace: namespace, values: map[string]string{}, absent: map[string]bool{}}
	off := make(map[string]bool, len(inactive))
	for _, name := range inactive {
		off[name] = true
	}
	given := make(map[string]string, len(assignments))
	givenNames := make([]string, 0, len(assignments))
	for _, a := range assignments {
		given[a.Name] = a.Value
		givenNames = append(givenNames, a.Name)
	}
	for i, tp := range tt.TrialParameters {
		field := fmt.Sprintf("%s[%d]", fieldTrialParameters, i)
		if tp.Name == "" {
			return nil, errorf(field+".name", 0, "missing: name the trial parameter, to use it in trialSpec as ${trialParameters.<name>}")
		}
		if _, ok := s.values[tp.Name]; ok || s.absent[tp.Name] {
			return nil, errorf(field+".name", 0, "%q is defined twice: give each trial parameter its own name", tp.Name)
		}
		v, ok := given[tp.Reference]
		if !ok && off[tp.Reference] {
			s.absent[tp.Name] = true
			s.names = append(s.names, tp.Name)
			continue
		}
		if !ok {
			return nil, errorf(field+".reference", 0, "the trial has no value for parameter %q (%s): reference one of the experiment's parameters",
				tp.Reference, listNames("it has values for", "it has no values", givenNames))
		}
		s.values[tp.Name] = v
		s.names = append(s.names, tp.Name)
	}

	raw := tt.TrialSpec.Raw
	if len(raw) == 0 && tt.TrialSpec.Object != nil {
		var err error
		if raw, err = json.Marshal(tt.TrialSpec.Object); err != nil {
			return nil, errorf(fieldTrialSpec, 0, "does not encode as JSON: %v", err)
		}
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, errorf(fieldTrialSpec, 0, "missing: give the workload each trial runs, such as a batch/v1 Job")
	}
	var spec any
	if err := utiljson.Unmarshal(raw, &spec); err != nil {
		return nil, errorf(fieldTrialSpec, 0, "is not JSON: %v", err)
	}
	obj, ok := spec.(map[string]any)
	if !ok {
		return nil, errorf(fieldTrialSpec, 0, "is %s, not an object: give one Kubernetes object, such as a batch/v1 Job", JSONType(spec))
	}
	if _, err := s.walk(obj, fieldTrialSpec); err != nil {
		return nil, err
	}
	return obj, nil
}

// substitution replaces the placeholders of a trialSpec.
type substitution struct {
	trialName, namespace string
	// values are the trial parameters' values, by name.
	values map[string]string
	// absent are the trial parameters of parameters the trial does not
	// have (inactive conditional ones); used marks a string that used one.
	absent map[string]bool
	used   bool
	// names are the trial parameters' names, in order, for messages.
	names []string
}

// walk substitutes the placeholders in every string of v, in place, and
// returns v: a list loses the strings that use an absent trial parameter.
// path is v's field, to say where an error is. Keys are visited in order,
// so that of several errors the same is reported each time.
func (s *substitution) walk(v any, path string) (any, *Error) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := path + fieldKey(k)
			if str, ok := v[k].(string); ok {
				out, err := s.replace(str, p)
				if err != nil {
					return nil, err
				}
				v[k] = out
				continue
			}
			w, err := s.walk(v[k], p)
			if err != nil {
				return nil, err
			}
			v[k] = w
		}
	case []any:
		kept := v[:0]
		for i := range v {
			p := fmt.Sprintf("%s[%d]", path, i)
			if str, ok := v[i].(string); ok {
				s.used = false
				out, err := s.replace(str, p)
				if err != nil {
					return nil, err
				}
				if !s.used {
					kept = append(kept, out)
				}
				continue
			}
			w, err := s.walk(v[i], p)
			if err != nil {
				return nil, err
			}
			kept = append(kept, w)
		}
		return kept, nil
	}
	return v, nil
}

// replace substitutes the placeholders of one string. Any other ${...},
// such as a shell's ${HOME}, is left as it is, and so is a value: what is
// substituted is never read again.
func (s *substitution) replace(str, path string) (string, *Error) {
	if !strings.Contains(str, placeholderStart) {
		return str, nil
	}
	var b strings.Builder
	rest := str
	for {
		i := strings.Index(rest, placeholderStart)
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		body := rest[i+len(placeholderStart):]
		if !strings.HasPrefix(body, prefixParameter) && !strings.HasPrefix(body, prefixTrialSpec) {
			b.WriteString(placeholderStart)
			rest = body
			continue
		}
		end := strings.IndexByte(body, '}')
		if end < 0 {
			return "", errorf(path, 0, "unterminated placeholder %q: end it with }", shorten(rest[i:]))
		}
		v, err := s.value(body[:end], path)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		rest = body[end+1:]
	}
}

// value is the value of the placeholder ${name}.
func (s *substitution) value(name, path string) (string, *Error) {
	if p, ok := strings.CutPrefix(name, prefixParameter); ok {
		if v, ok := s.values[p]; ok {
			return v, nil
		}
		if s.absent[p] {
			s.used = true
			return "", nil
		}
		return "", errorf(path, 0, "unknown trial parameter %q: %s", p,
			listNames("trialParameters define", "trialParameters define none", s.names))
	}
	switch strings.TrimPrefix(name, prefixTrialSpec) {
	case trialSpecName:
		return s.trialName, nil
	case trialSpecNamespace:
		return s.namespace, nil
	}
	return "", errorf(path, 0, "unknown placeholder %q: a trialSpec may use ${trialParameters.<name>}, ${trialSpec.Name} and ${trialSpec.Namespace}",
		placeholderStart+name+"}")
}

// plainKey is a key that reads as a field name in a path.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// fieldKey is how a key appears in a field's path: .spec, or [app.kubernetes.io/name].
func fieldKey(k string) string {
	if plainKey.MatchString(k) {
		return "." + k
	}
	return "[" + k + "]"
}

// shorten cuts a long text for a message.
func shorten(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
