package trialtemplate

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// maxValue bounds one value a Go template builds with printf, print,
// println, html, js or urlquery: no value larger than the output it could
// go to.
const maxValue = maxOutput

// maxBuilt bounds the bytes a Go template builds in one rendering, all its
// values together. The step bound alone lets a loop build values of a
// megabyte a million times, or double a string until the controller runs
// out of memory; with this bound a rendering allocates a few megabytes at
// most, whatever the template.
const maxBuilt = 4 << 20

// maxCompared bounds the bytes of strings a Go template compares in one
// rendering (eq, ne, lt, le, gt, ge): comparing builds nothing, but a
// million steps comparing two strings of a megabyte would hold a worker for
// minutes.
const maxCompared = 64 << 20

// maxWidth is the largest width or precision package fmt takes; it ignores
// larger ones.
const maxWidth = 1_000_000

// errBudget marks a value a template may not build; the *budgetError says
// which.
var errBudget = errors.New("the template builds too much")

type budgetError struct {
	fn       string
	size     int64
	total    bool
	compared bool
}

func (e *budgetError) Error() string {
	if e.compared {
		return fmt.Sprintf("%s would take the strings the template compares past %d bytes: a trial template may compare %d bytes of strings (eq, ne, lt, le, gt, ge) in one rendering", e.fn, maxCompared, maxCompared)
	}
	if e.total {
		return fmt.Sprintf("%s would take the values the template builds past %d bytes: a trial template may build %d bytes of values (printf, print, println, html, js, urlquery) in one rendering", e.fn, maxBuilt, maxBuilt)
	}
	return fmt.Sprintf("%s would build a value of up to %d bytes: a value in a trial template may hold %d bytes, what a rendered object may hold", e.fn, e.size, maxValue)
}

func (e *budgetError) Unwrap() error { return errBudget }

// budget counts the bytes the functions of one rendering build. Each
// function reckons the most its result could take before building it, and
// refuses when that is more than a value may hold or more than is left.
type budget struct {
	left     int64
	compared int64 // bytes left to compare
}

func newBudget() *budget { return &budget{left: maxBuilt, compared: maxCompared} }

// funcs are the template's functions that build strings, in place of
// text/template's own, with the same arguments and results.
func (b *budget) funcs() template.FuncMap {
	return template.FuncMap{
		"printf":   b.printf,
		"print":    b.print,
		"println":  b.println,
		"html":     b.escaper("html", template.HTMLEscaper),
		"js":       b.escaper("js", template.JSEscaper),
		"urlquery": b.escaper("urlquery", template.URLQueryEscaper),
	}
}

// comparisons are text/template's comparison functions; an argument of
// theirs passes through the function named with comparedPrefix, which
// counts the bytes of a string.
var comparisons = []string{"eq", "ne", "lt", "le", "gt", "ge"}

const comparedPrefix = "knobsCompared_"

// countComparisons makes every comparison of tmpl's templates count the
// strings it is given: each argument a is replaced by (knobsCompared_eq a).
// A comparison costs at most the length of one of the strings it compares,
// and each comparison has one in its arguments (eq's first, which it
// compares with each other), so the count bounds the work. It must run
// after Parse, so that a template cannot call the counting functions.
func (b *budget) countComparisons(tmpl *template.Template) {
	funcs := template.FuncMap{}
	for _, name := range comparisons {
		funcs[comparedPrefix+name] = func(v any) (any, error) {
			if s, ok := v.(string); ok {
				if b.compared -= int64(len(s)); b.compared < 0 {
					return nil, &budgetError{fn: name, compared: true}
				}
			}
			return v, nil
		}
	}
	tmpl.Funcs(funcs)
	for _, t := range tmpl.Templates() {
		if t.Tree != nil {
			wrapComparisons(t.Tree, t.Root)
		}
	}
}

// wrapComparisons wraps the arguments of the comparisons under node.
func wrapComparisons(tree *parse.Tree, node parse.Node) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				wrapComparisons(tree, c)
			}
		}
	case *parse.ActionNode:
		wrapComparisons(tree, n.Pipe)
	case *parse.TemplateNode:
		wrapComparisons(tree, n.Pipe)
	case *parse.IfNode:
		wrapBranch(tree, &n.BranchNode)
	case *parse.WithNode:
		wrapBranch(tree, &n.BranchNode)
	case *parse.RangeNode:
		wrapBranch(tree, &n.BranchNode)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			for _, arg := range cmd.Args {
				wrapComparisons(tree, arg)
			}
			fn, ok := cmd.Args[0].(*parse.IdentifierNode)
			if !ok || !slices.Contains(comparisons, fn.Ident) {
				continue
			}
			for i, arg := range cmd.Args[1:] {
				count := parse.NewIdentifier(comparedPrefix + fn.Ident).SetTree(tree).SetPos(arg.Position())
				cmd.Args[i+1] = &parse.PipeNode{NodeType: parse.NodePipe, Pos: arg.Position(), Cmds: []*parse.CommandNode{{
					NodeType: parse.NodeCommand, Pos: arg.Position(), Args: []parse.Node{count, arg},
				}}}
			}
		}
	}
}

func wrapBranch(tree *parse.Tree, n *parse.BranchNode) {
	wrapComparisons(tree, n.Pipe)
	wrapComparisons(tree, n.List)
	wrapComparisons(tree, n.ElseList)
}

// hideCounting drops the place from a message of text/template that shows
// a comparison with its arguments wrapped: the line says where it is, and
// the wrapping is not the user's.
func hideCounting(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "at <"); ok {
		if context, after, ok := strings.Cut(rest, ">: "); ok && strings.Contains(context, comparedPrefix[:6]) {
			return after
		}
	}
	return msg
}

func (b *budget) charge(fn string, size int64) error {
	if size > maxValue {
		return &budgetError{fn: fn, size: size}
	}
	if size > b.left {
		return &budgetError{fn: fn, size: size, total: true}
	}
	b.left -= size
	return nil
}

func (b *budget) printf(format string, args ...any) (string, error) {
	if err := b.charge("printf", printfSize(format, args)); err != nil {
		return "", err
	}
	return fmt.Sprintf(format, args...), nil
}

func (b *budget) print(args ...any) (string, error) {
	if err := b.charge("print", printSize(args)); err != nil {
		return "", err
	}
	return fmt.Sprint(args...), nil
}

func (b *budget) println(args ...any) (string, error) {
	if err := b.charge("println", printSize(args)+1); err != nil {
		return "", err
	}
	return fmt.Sprintln(args...), nil
}

// escapeFactor bounds how much an escaper lengthens its input: js writes
// \u003C for <, html &#34; for ", urlquery %22.
const escapeFactor = 6

func (b *budget) escaper(name string, escape func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if err := b.charge(name, escapeFactor*printSize(args)); err != nil {
			return "", err
		}
		return escape(args...), nil
	}
}

// scalarSize bounds how a number, a boolean or nil prints in any verb:
// %b of a uint64 takes 64 digits.
const scalarSize = 66

// elemSize bounds what fmt writes around each element of a map or a list,
// Go syntax with %#v included.
const elemSize = 32

// valueSize bounds the bytes value prints to with %v (or %s) and no width,
// and counts its leaves (strings and scalars), each of which a width pads.
func valueSize(v reflect.Value, depth int) (size, leaves int64) {
	if depth > 8 {
		// The data of a template nests three deep; deeper is a guess.
		return scalarSize, 1
	}
	switch v.Kind() {
	case reflect.Invalid:
		return scalarSize, 1
	case reflect.String:
		return int64(v.Len()), 1
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return scalarSize, 1
		}
		return valueSize(v.Elem(), depth+1)
	case reflect.Map:
		size = elemSize
		for it := v.MapRange(); it.Next(); {
			ks, kl := valueSize(it.Key(), depth+1)
			vs, vl := valueSize(it.Value(), depth+1)
			size += elemSize + ks + vs
			leaves += kl + vl
		}
		return size, leaves
	case reflect.Slice, reflect.Array:
		size = elemSize
		for i := range v.Len() {
			s, l := valueSize(v.Index(i), depth+1)
			size += elemSize + s
			leaves += l
		}
		return size, leaves
	}
	return scalarSize, 1
}

// printSize bounds what fmt.Sprint or Sprintln makes of args.
func printSize(args []any) int64 {
	var size int64
	for _, a := range args {
		s, _ := valueSize(reflect.ValueOf(a), 0)
		size += s + 1
	}
	return size
}

// printfSize bounds what fmt.Sprintf makes of format and args: each verb
// may print any argument (an index picks one), lengthened by the verb (%q,
// %x and flags # and space quote or spell out each byte) and padded to its
// width and precision, once per leaf of a map or list; arguments no verb
// takes are printed after the text.
func printfSize(format string, args []any) int64 {
	var widest, leaves, all, star int64
	for _, a := range args {
		v := reflect.ValueOf(a)
		s, l := valueSize(v, 0)
		widest, leaves = max(widest, s), max(leaves, l)
		all += s + elemSize
		if n, ok := intArg(v); ok {
			star = max(star, min(n, maxWidth))
		}
	}
	size := int64(len(format))
	verbs, reordered := 0, false
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		var flags string
		for i < len(format) && isFlag(format[i]) {
			flags += format[i : i+1]
			i++
		}
		var pad int64
		number := func() {
			if i < len(format) && format[i] == '[' {
				reordered = true
				for i < len(format) && format[i] != ']' {
					i++
				}
				i++
			}
			if i < len(format) && format[i] == '*' {
				pad += star
				verbs++
				i++
				return
			}
			var n int64
			for i < len(format) && '0' <= format[i] && format[i] <= '9' {
				n = min(n*10+int64(format[i]-'0'), maxWidth)
				i++
			}
			pad += n
		}
		number()
		if i < len(format) && format[i] == '.' {
			i++
			number()
		}
		if i < len(format) && format[i] == '[' {
			reordered = true
			for i < len(format) && format[i] != ']' {
				i++
			}
			i++
		}
		if i >= len(format) {
			break
		}
		verb, w := utf8.DecodeRuneInString(format[i:])
		i += w
		if verb == '%' {
			continue
		}
		verbs++
		size += pad*max(leaves, 1) + verbFactor(verb, flags)*widest + elemSize
	}
	if reordered || len(args) > verbs {
		size += all + elemSize
	}
	return size
}

func isFlag(c byte) bool {
	return c == '#' || c == '0' || c == '+' || c == '-' || c == ' '
}

// verbFactor bounds how much a verb lengthens a string: %x spells each
// byte in two hex digits, % x adds a space, % #x a 0x; %q and %#v quote,
// \x00 for a byte at worst.
func verbFactor(verb rune, flags string) int64 {
	hasFlag := func(c byte) bool {
		for i := range len(flags) {
			if flags[i] == c {
				return true
			}
		}
		return false
	}
	switch verb {
	case 's', 'v':
		if hasFlag('#') {
			return 5
		}
		return 1
	case 'x', 'X':
		switch {
		case hasFlag(' ') && hasFlag('#'):
			return 5
		case hasFlag(' '):
			return 3
		}
		return 2
	}
	return 5
}

// intArg is the value of an integer argument, which a * width may take.
func intArg(v reflect.Value) (int64, bool) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := v.Int(); n >= -maxWidth && n <= maxWidth {
			return max(n, -n), true
		}
		return maxWidth, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int64(min(v.Uint(), maxWidth)), true
	}
	return 0, false
}
