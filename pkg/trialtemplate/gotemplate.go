package trialtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// templateName names the Go template in text/template's messages, which
// this file turns into lines.
const templateName = "rawTemplate"

// maxOutput bounds what a Go template may render: more than any Kubernetes
// object can hold (etcd takes 1.5 MiB), less than a loop could fill memory
// with.
const maxOutput = 1 << 20

// maxRange bounds a range over a number in a Go template, so that a typo
// cannot keep the controller looping.
const maxRange = 1000

// maxIterations bounds the steps a template may run: the iterations of its
// ranges, nested ones multiplied, its commands and its template calls. Every reconcile
// renders the template, so one Experiment must not hold the controller's
// workers.
const maxIterations = 1_000_000

// dataHint says what a Go template may refer to.
const dataHint = "a trial template has .Trial, .NameSpace and .HyperParameters (a list of .Name and .Value)"

// renderGoTemplate renders a Go template (the Katib v1alpha3 form) into one
// object. Its data are maps, so that the option missingkey=error makes a
// misspelt name an error rather than "<no value>".
func renderGoTemplate(raw, trialName, namespace string, assignments []v1alpha1.ParameterAssignment) (map[string]any, *Error) {
	spend := newBudget()
	tmpl, err := template.New(templateName).Option("missingkey=error").Funcs(spend.funcs()).Parse(raw)
	if err != nil {
		line, msg := templateLine(err)
		return nil, errorf(fieldRawTemplate, line, "the template does not parse: %s", msg)
	}
	if err := bounded(tmpl, len(assignments)); err != nil {
		return nil, err
	}
	spend.countComparisons(tmpl)
	hps := make([]map[string]string, 0, len(assignments))
	for _, a := range assignments {
		hps = append(hps, map[string]string{"Name": a.Name, "Value": a.Value})
	}
	data := map[string]any{
		"Trial":           trialName,
		"NameSpace":       namespace,
		"HyperParameters": hps,
	}
	var out limitedBuffer
	if err := tmpl.Execute(&out, data); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, errorf(fieldRawTemplate, 0, "the template renders more than %d bytes, more than any Kubernetes object holds", maxOutput)
		}
		line, msg := templateLine(err)
		msg = hideCounting(msg)
		if be := (*budgetError)(nil); errors.As(err, &be) {
			return nil, errorf(fieldRawTemplate, line, "%s", be)
		}
		if strings.Contains(msg, "map has no entry for key") {
			msg += ": " + dataHint
		}
		return nil, errorf(fieldRawTemplate, line, "the template does not run: %s", msg)
	}
	return decodeRendered(out.String())
}

var errTooLarge = errors.New("rendered output too large")

// limitedBuffer holds at most maxOutput bytes.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxOutput {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// templateLocation matches the place text/template gives its errors:
// "template: rawTemplate:7: ..." when parsing, "template: rawTemplate:7:12:
// executing "rawTemplate" at <.X>: ..." when running.
var templateLocation = regexp.MustCompile(`^template: ` + templateName + `:(\d+)(?::\d+)?: (?:executing "[^"]*" )?`)

// templateLine splits an error of text/template into its line (0 when it
// has none) and the rest of its message, with its mentions of the template
// by name turned into lines.
func templateLine(err error) (int, string) {
	msg := err.Error()
	line := 0
	if m := templateLocation.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "template: ")
		msg = strings.TrimPrefix(msg, templateName+": ")
	}
	msg = strings.ReplaceAll(msg, "started at "+templateName+":", "started at line ")
	return line, msg
}

// bounded refuses what could keep the controller rendering for ever: a
// range over a number greater than maxRange, and a template that calls
// itself, directly or through others.
func bounded(tmpl *template.Template, params int) *Error {
	calls := map[string][]*parse.TemplateNode{}
	trees := map[string]*parse.Tree{}
	for _, t := range tmpl.Templates() {
		if t.Tree == nil {
			continue
		}
		trees[t.Name()] = t.Tree
		in := &inspection{tree: t.Tree}
		in.visit(t.Root)
		if in.err != nil {
			return in.err
		}
		calls[t.Name()] = in.calls
	}
	// A depth-first search for a cycle of calls.
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var visit func(name string) *Error
	visit = func(name string) *Error {
		state[name] = open
		for _, c := range calls[name] {
			switch state[c.Name] {
			case open:
				return errorf(fieldRawTemplate, nodeLine(trees[name], c), "template %q calls itself, directly or through other templates: a trial template may not recurse", c.Name)
			case unseen:
				if err := visit(c.Name); err != nil {
					return err
				}
			}
		}
		state[name] = done
		return nil
	}
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if state[name] == unseen {
			if err := visit(name); err != nil {
				return err
			}
		}
	}
	// No recursion: the work of the template, called templates included,
	// is finite, and counted here.
	an := &analyzer{trees: trees, params: int64(params), memo: map[memoKey]int64{}}
	n := an.template(tmpl.Name(), kindRoot)
	if an.err != nil {
		return an.err
	}
	if n > maxIterations {
		return errorf(fieldRawTemplate, 0, "the template would run more than %d steps (range iterations, nested ones multiplied, commands and template calls): a trial template may run %d", maxIterations, maxIterations)
	}
	return nil
}

// kind is what a template's dot (or a pipeline) is known to hold.
type kind int

const (
	kindUnknown kind = iota
	kindRoot         // the data: .Trial, .NameSpace, .HyperParameters
	kindParams       // .HyperParameters
	kindParam        // one of them: .Name, .Value
	kindNumber       // a number
)

type memoKey struct {
	name      string
	dot, root kind
}

// analyzer counts the steps a template may run, knowing what each range
// goes over: only .HyperParameters (as many as the trial has) or a number up
// to maxRange, so that the count is a bound. Anything else is refused, as
// its length cannot be known before running.
type analyzer struct {
	trees  map[string]*parse.Tree
	params int64
	memo   map[memoKey]int64
	err    *Error
}

// template returns the steps of a named template run with dot; $ is dot too.
func (an *analyzer) template(name string, dot kind) int64 {
	key := memoKey{name, dot, dot}
	if n, ok := an.memo[key]; ok {
		return n
	}
	t := an.trees[name]
	if t == nil {
		return 1
	}
	n := an.node(t, t.Root, dot, dot)
	an.memo[key] = n
	return n
}

func capped(n int64) int64 { return min(n, maxIterations+1) }

func (an *analyzer) node(tree *parse.Tree, node parse.Node, dot, root kind) int64 {
	if an.err != nil {
		return 0
	}
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		var sum int64
		for _, c := range n.Nodes {
			sum = capped(sum + an.node(tree, c, dot, root))
		}
		return sum
	case *parse.ActionNode:
		return capped(commands(n.Pipe))
	case *parse.TemplateNode:
		return capped(1 + commands(n.Pipe) + an.template(n.Name, an.kindOf(n.Pipe, dot, root)))
	case *parse.IfNode:
		return capped(commands(n.Pipe) + an.node(tree, n.List, dot, root) + an.node(tree, n.ElseList, dot, root))
	case *parse.WithNode:
		return capped(commands(n.Pipe) + an.node(tree, n.List, an.kindOf(n.Pipe, dot, root), root) + an.node(tree, n.ElseList, dot, root))
	case *parse.RangeNode:
		var bound int64
		var elem kind
		if num, ok := rangeNumber(n.Pipe); ok && num.IsInt && num.Int64 >= 0 && num.Int64 <= maxRange {
			bound, elem = num.Int64, kindNumber
		} else if an.kindOf(n.Pipe, dot, root) == kindParams {
			bound, elem = an.params, kindParam
		} else {
			an.err = errorf(fieldRawTemplate, nodeLine(tree, n), "range over %s: a trial template may range over .HyperParameters (or a with or range of it), or over a number up to %d", n.Pipe, maxRange)
			return 0
		}
		body := max(an.node(tree, n.List, elem, root), 1)
		return capped(commands(n.Pipe) + capped(bound*body) + an.node(tree, n.ElseList, dot, root))
	}
	return 0
}

// commands counts the commands of a pipeline, those of the pipelines in its
// arguments included: the work of an action. A comparison counts its
// arguments too, each of which passes through the count of the strings it
// compares (countComparisons).
func commands(pipe *parse.PipeNode) int64 {
	if pipe == nil {
		return 0
	}
	var n int64
	for _, cmd := range pipe.Cmds {
		n++
		if fn, ok := cmd.Args[0].(*parse.IdentifierNode); ok && slices.Contains(comparisons, fn.Ident) {
			n += int64(len(cmd.Args) - 1)
		}
		for _, arg := range cmd.Args {
			if p, ok := arg.(*parse.PipeNode); ok {
				n += commands(p)
			}
		}
	}
	return n
}

// kindOf tells what a pipeline holds, when it is one of the forms a trial
// template uses: ., $, .HyperParameters, $.HyperParameters, a number.
func (an *analyzer) kindOf(pipe *parse.PipeNode, dot, root kind) kind {
	for pipe != nil && len(pipe.Cmds) == 1 && len(pipe.Cmds[0].Args) == 1 {
		switch arg := pipe.Cmds[0].Args[0].(type) {
		case *parse.DotNode:
			return dot
		case *parse.NumberNode:
			return kindNumber
		case *parse.FieldNode:
			if dot == kindRoot && len(arg.Ident) == 1 && arg.Ident[0] == "HyperParameters" {
				return kindParams
			}
			return kindUnknown
		case *parse.VariableNode:
			switch {
			case len(arg.Ident) == 1 && arg.Ident[0] == "$":
				return root
			case len(arg.Ident) == 2 && arg.Ident[0] == "$" && arg.Ident[1] == "HyperParameters" && root == kindRoot:
				return kindParams
			}
			return kindUnknown
		case *parse.PipeNode:
			pipe = arg
		default:
			return kindUnknown
		}
	}
	return kindUnknown
}

// inspection walks the tree of one template, gathering the templates it
// calls and refusing a range over a large number.
type inspection struct {
	tree  *parse.Tree
	calls []*parse.TemplateNode
	err   *Error
}

func (in *inspection) visit(node parse.Node) {
	if in.err != nil {
		return
	}
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			in.visit(c)
		}
	case *parse.TemplateNode:
		in.calls = append(in.calls, n)
	case *parse.IfNode:
		in.branch(&n.BranchNode)
	case *parse.WithNode:
		in.branch(&n.BranchNode)
	case *parse.RangeNode:
		if num, ok := rangeNumber(n.Pipe); ok && num.IsInt && num.Int64 > maxRange {
			in.err = errorf(fieldRawTemplate, nodeLine(in.tree, n), "range over %s: a trial template may range over a number up to %d; range over .HyperParameters to list the trial's values", num.Text, maxRange)
			return
		}
		in.branch(&n.BranchNode)
	}
}

func (in *inspection) branch(n *parse.BranchNode) {
	in.visit(n.List)
	in.visit(n.ElseList)
}

// nodeLine is the line of a node of a template.
func nodeLine(tree *parse.Tree, n parse.Node) int {
	location, _ := tree.ErrorContext(n)
	// The location is name:line:column, and a name may hold colons.
	parts := strings.Split(location, ":")
	if len(parts) < 3 {
		return 0
	}
	line, _ := strconv.Atoi(parts[len(parts)-2])
	return line
}

// rangeNumber returns the number a range pipeline is, such as 10 in
// {{range 10}} or {{range $i := (10)}}.
func rangeNumber(pipe *parse.PipeNode) (*parse.NumberNode, bool) {
	for pipe != nil && len(pipe.Cmds) == 1 && len(pipe.Cmds[0].Args) == 1 {
		switch arg := pipe.Cmds[0].Args[0].(type) {
		case *parse.NumberNode:
			return arg, true
		case *parse.PipeNode:
			pipe = arg
		default:
			return nil, false
		}
	}
	return nil, false
}

// document is one YAML document of a rendered text: its text, and the line
// of the text it starts at, from 0.
type document struct {
	start int
	text  string
}

// splitDocuments splits a text at YAML's document markers: a line that
// starts with --- begins a document, a line ... ends one.
func splitDocuments(text string) []document {
	docs := []document{{}}
	var b strings.Builder
	for i, line := range strings.SplitAfter(text, "\n") {
		bare := strings.TrimRight(line, "\r\n")
		if i > 0 && (bare == "---" || strings.HasPrefix(bare, "--- ") || strings.HasPrefix(bare, "---\t")) {
			docs[len(docs)-1].text = b.String()
			b.Reset()
			docs = append(docs, document{start: i})
		}
		b.WriteString(line)
		if bare == "..." {
			docs[len(docs)-1].text = b.String()
			b.Reset()
			docs = append(docs, document{start: i + 1})
		}
	}
	docs[len(docs)-1].text = b.String()
	return docs
}

// decodeRendered reads the text a Go template rendered: YAML or JSON of
// exactly one object.
func decodeRendered(out string) (map[string]any, *Error) {
	if trimmed := strings.TrimSpace(out); strings.HasPrefix(trimmed, "{") {
		// JSON is YAML, except that JSON may indent with tabs.
		var obj map[string]any
		if err := utiljson.Unmarshal([]byte(trimmed), &obj); err == nil && obj != nil {
			return obj, nil
		}
	}
	var (
		found  []string
		starts []int
	)
	for _, doc := range splitDocuments(out) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc.text))
		if err != nil {
			return nil, yamlError(err, out, doc.start)
		}
		if s := string(bytes.TrimSpace(j)); s != "null" && s != "" {
			found = append(found, string(j))
			starts = append(starts, doc.start+1)
		}
	}
	switch len(found) {
	case 0:
		return nil, errorf(fieldRawTemplate, 0, "the template renders an empty document: it must render one Kubernetes object, such as a batch/v1 Job")
	case 1:
	default:
		lines := make([]string, len(starts))
		for i, s := range starts {
			lines[i] = strconv.Itoa(s)
		}
		return nil, errorf(fieldRawTemplate, 0, "the template renders %d YAML documents (starting at lines %s of the rendered output): it must render exactly one Kubernetes object", len(found), strings.Join(lines, ", "))
	}
	var v any
	if err := utiljson.Unmarshal([]byte(found[0]), &v); err != nil {
		return nil, errorf(fieldRawTemplate, 0, "the rendered output does not decode: %v", err)
	}
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case []any:
		return nil, errorf(fieldRawTemplate, 0, "the template renders a list of %d items: it must render one Kubernetes object, such as a batch/v1 Job", len(v))
	default:
		return nil, errorf(fieldRawTemplate, 0, "the template renders %s: it must render one Kubernetes object, such as a batch/v1 Job", JSONType(v))
	}
}

// yamlLine finds the line in a YAML error, such as "yaml: line 3: mapping
// values are not allowed in this context" or "yaml: unmarshal errors:\n
// line 3: key "a" already set in map".
var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlError reports a YAML error of the document that starts at line start
// of the rendered output out, with the line as a line of the output.
func yamlError(err error, out string, start int) *Error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	line := 0
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil && m[0] == 0 {
		n, _ := strconv.Atoi(msg[m[2]:m[3]])
		line = start + n
		msg = msg[m[1]:]
	}
	lines := strings.Split(out, "\n")
	if line < 1 || line > len(lines) {
		return errorf(fieldRawTemplate, 0, "the rendered output is not YAML: %s", msg)
	}
	return errorf(fieldRawTemplate, line, "the rendered output is not YAML (the line is the output's, not the template's: %s): %s",
		quoteLine(lines[line-1]), msg)
}

// quoteLine quotes a line of the rendered output, shortened when long.
func quoteLine(s string) string {
	const max = 120
	s = strings.TrimRight(s, "\r")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
