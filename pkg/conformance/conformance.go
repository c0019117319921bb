// Package conformance holds a function to the function contract
// (docs/function-contract.md): one set of checks, run in-process against
// every registered algorithm by the tests, and over the wire against any URL
// by cmd/knobs-conformance, so that a function written in any language can be
// checked the way Knobs' own are.
//
// Each check builds requests, sends them the ways it is given (CloudEvents
// in binary and structured mode with JSON and protobuf data, gRPC, or a
// server in the same process) and holds every reply to the reply contract
// (pkg/contract): the number asked, every parameter inside its feasible
// space, nothing repeated. Bad input must be refused as the caller's mistake,
// never answered 5xx.
package conformance

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/contract"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Profile says what problems a function takes, beyond a valid search space
// with an objective.
type Profile struct {
	// Algorithm is the algorithmName the requests carry.
	Algorithm string
	// FiniteOnly: every parameter must have finitely many values, as for
	// grid search; doubles are given a step.
	FiniteOnly bool
	// Budget: the function needs a budget parameter named by resource_name,
	// with r_l its largest value, as for Hyperband. The problems get an int
	// parameter "epochs" from 1 to 9.
	Budget bool
}

// Result is the outcome of one check.
type Result struct {
	Name string
	// Err is the failure; nil when the check passed or was skipped.
	Err error
	// Note says what the check saw, or why it was skipped.
	Note    string
	Skipped bool
}

func (r Result) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAIL %s: %v", r.Name, r.Err)
	case r.Skipped:
		return fmt.Sprintf("SKIP %s: %s", r.Name, r.Note)
	case r.Note != "":
		return fmt.Sprintf("PASS %s (%s)", r.Name, r.Note)
	}
	return "PASS " + r.Name
}

// Failed reports whether any result is a failure.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Err != nil {
			return true
		}
	}
	return false
}

// Suite is the checks for one function.
type Suite struct {
	Profile Profile
	// Callers are the ways to reach the function. The first one runs the
	// checks of the algorithm's behaviour; every one runs the checks of the
	// transport.
	Callers []Caller
	// URL, when set, is the function's http:// address, for the checks of
	// HTTP itself: /healthz and malformed events.
	URL string
	// HTTP sends those requests; http.DefaultClient if nil.
	HTTP *http.Client
	// Timeout bounds each call; 30 s if 0.
	Timeout time.Duration
}

// Run runs every check, in order, and returns their results; it stops at
// nothing, so one failure does not hide another.
func (s *Suite) Run(ctx context.Context) []Result {
	var out []Result
	add := func(name string, f func(ctx context.Context) (string, error)) {
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		cctx, cancel := context.WithTimeout(ctx, 4*timeout)
		defer cancel()
		note, err := f(cctx)
		if err == errSkip {
			out = append(out, Result{Name: name, Note: note, Skipped: true})
			return
		}
		out = append(out, Result{Name: name, Note: note, Err: err})
	}
	if s.URL != "" {
		for _, c := range s.httpChecks() {
			add("http/"+c.name, c.run)
		}
	}
	for _, c := range s.Callers {
		t := &target{suite: s, caller: c}
		for _, ch := range t.transportChecks() {
			add(c.Name()+"/"+ch.name, ch.run)
		}
	}
	if len(s.Callers) > 0 {
		t := &target{suite: s, caller: s.Callers[0]}
		for _, ch := range t.behaviourChecks() {
			add(ch.name, ch.run)
		}
	}
	return out
}

var errSkip = fmt.Errorf("skipped")

type check struct {
	name string
	run  func(ctx context.Context) (string, error)
}

// target is one way to one function.
type target struct {
	suite  *Suite
	caller Caller
}

func (t *target) profile() Profile { return t.suite.Profile }

func (t *target) transportChecks() []check {
	checks := []check{
		{"suggest", t.checkSuggest},
		{"validate", t.checkValidate},
		{"unknown-setting", t.checkUnknownSetting},
		{"history-columns", t.checkHistoryColumns},
	}
	if raw, ok := t.caller.(rawSender); ok {
		checks = append(checks, check{"undecodable", func(ctx context.Context) (string, error) {
			err := raw.sendRaw(ctx, pb.Suggestion_GetSuggestions_FullMethodName, []byte("\xff\xff\xff\xff"))
			if err == nil {
				return "", fmt.Errorf("an undecodable message was answered; want INVALID_ARGUMENT")
			}
			return checkRefusal(err, "")
		}})
	}
	return checks
}

func (t *target) behaviourChecks() []check {
	return []check{
		{"parameter-types", t.checkParameterTypes},
		{"deterministic", t.checkDeterministic},
		{"history", t.checkHistory},
		{"batches", t.checkBatches},
		{"state", t.checkState},
		{"tampered-state", t.checkTamperedState},
		{"exhaustion", t.checkExhaustion},
		{"conditional", t.checkConditional},
		{"objectives", t.checkObjectives},
		{"bad-search-space", t.checkBadSpace},
		{"bad-request-number", t.checkBadRequestNumber},
		{"bad-setting-value", t.checkBadSettingValue},
		{"bad-metric", t.checkBadMetric},
		{"bad-history-columns", t.checkBadHistoryColumns},
	}
}

// ask sends a request for n suggestions given the history and holds the
// reply to the contract; it returns the reply and its points.
func (t *target) ask(ctx context.Context, exp *pb.Experiment, history []*pb.Trial, n int) (*pb.GetSuggestionsReply, []searchspace.Point, error) {
	space, err := searchspace.Parse(exp.GetExperimentSpec().GetParameterSpecs().GetParameters())
	if err != nil {
		return nil, nil, fmt.Errorf("the check's own search space: %w", err)
	}
	reply, err := t.caller.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: exp, Trials: history, RequestNumber: int32(n)})
	if err != nil {
		r := classify(err)
		if r.invalid {
			return nil, nil, fmt.Errorf("a valid request was refused (%s): %s", r.what, r.message)
		}
		return nil, nil, fmt.Errorf("a valid request failed: %w", err)
	}
	handed := make([][]*pb.ParameterAssignment, len(history))
	for i, h := range history {
		handed[i] = h.GetSpec().GetParameterAssignments().GetAssignments()
	}
	points, err := contract.CheckReply(space, contract.HistoryOf(space, handed), reply, n)
	if err != nil {
		return nil, nil, fmt.Errorf("%d asked with %d trials in the history: %w", n, len(history), err)
	}
	return reply, points, nil
}

// refused sends a request that must be refused as the caller's mistake, and
// checks the message names what to fix.
func (t *target) refused(ctx context.Context, req *pb.GetSuggestionsRequest, mentions string) (string, error) {
	reply, err := t.caller.GetSuggestions(ctx, req)
	if err == nil {
		return "", fmt.Errorf("answered %d assignments; want it refused as invalid (HTTP 400 with a dev.knobs.error of code InvalidArgument, or gRPC INVALID_ARGUMENT)", len(reply.GetParameterAssignments()))
	}
	return checkRefusal(err, mentions)
}

func checkRefusal(err error, mentions string) (string, error) {
	r := classify(err)
	switch {
	case r.fault:
		return "", fmt.Errorf("answered %s, a fault, for the caller's mistake; want HTTP 400 or gRPC INVALID_ARGUMENT: %s", r.what, r.message)
	case !r.invalid:
		return "", fmt.Errorf("answered %s; want HTTP 400 with code InvalidArgument or gRPC INVALID_ARGUMENT: %s", r.what, r.message)
	case mentions != "" && !strings.Contains(r.message, mentions):
		return "", fmt.Errorf("refused, but the message does not name %q, the thing to fix: %s", mentions, r.message)
	}
	return r.message, nil
}

func (t *target) checkSuggest(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	_, pts, err := t.ask(ctx, exp, nil, 3)
	if err != nil {
		return "", err
	}
	if len(pts) != 3 {
		return "", fmt.Errorf("%d assignments for 3 asked of an infinite space", len(pts))
	}
	return "", nil
}

func (t *target) checkValidate(ctx context.Context) (string, error) {
	err := t.caller.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: t.experiment(basicSpace(t.profile()), nil)})
	if err != nil {
		return "", fmt.Errorf("valid settings were not accepted: %w", err)
	}
	return "", nil
}

const unknownSetting = "no_such_setting"

func (t *target) checkUnknownSetting(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), []*pb.AlgorithmSetting{{Name: unknownSetting, Value: "1"}})
	err := t.caller.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: exp})
	if err == nil {
		return "", fmt.Errorf("validate accepted the setting %q; want it refused, naming the setting", unknownSetting)
	}
	if _, err := checkRefusal(err, unknownSetting); err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	if _, err := t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 1}, unknownSetting); err != nil {
		return "", fmt.Errorf("suggest: %w", err)
	}
	return "", nil
}

// checkParameterTypes asks for suggestions over one problem per kind of
// parameter. A function may refuse a kind it does not take, as the caller's
// mistake naming the parameter; what it answers must hold to the contract.
func (t *target) checkParameterTypes(ctx context.Context) (string, error) {
	var took, refused []string
	for _, kind := range parameterKinds(t.profile()) {
		space := append(basicSpace(t.profile()), kind.spec)
		exp := t.experiment(space, nil)
		reply, err := t.caller.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 4})
		if err != nil {
			if _, rerr := checkRefusal(err, kind.spec.GetName()); rerr != nil {
				return "", fmt.Errorf("%s: %w", kind.name, rerr)
			}
			refused = append(refused, kind.name)
			continue
		}
		sp, err := searchspace.Parse(space)
		if err != nil {
			return "", fmt.Errorf("the check's own search space: %w", err)
		}
		if _, err := contract.CheckReply(sp, nil, reply, 4); err != nil {
			return "", fmt.Errorf("%s: %w", kind.name, err)
		}
		took = append(took, kind.name)
	}
	if len(took) == 0 {
		return "", fmt.Errorf("every kind of parameter refused: %s", strings.Join(refused, ", "))
	}
	note := "takes " + strings.Join(took, ", ")
	if len(refused) > 0 {
		note += "; refuses " + strings.Join(refused, ", ")
	}
	return note, nil
}

func (t *target) checkDeterministic(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	history := evaluated(exp, t.grow(ctx, exp, 2, 3))
	first, _, err := t.ask(ctx, exp, history, 3)
	if err != nil {
		return "", err
	}
	second, _, err := t.ask(ctx, exp, history, 3)
	if err != nil {
		return "", err
	}
	// The state returned may hold anything (a time, say); the assignments
	// may not differ.
	if !proto.Equal(&pb.GetSuggestionsReply{ParameterAssignments: first.GetParameterAssignments()},
		&pb.GetSuggestionsReply{ParameterAssignments: second.GetParameterAssignments()}) {
		return "", fmt.Errorf("the same request gave two replies: %s and then %s", formatReply(first), formatReply(second))
	}
	return fmt.Sprintf("%d trials in the history", len(history)), nil
}

// checkHistory sends trials of every condition: pending and running ones
// without values, succeeded and early-stopped ones with, failed ones and
// ones whose metrics never came, and one of the original API's form with no
// condition at all.
func (t *target) checkHistory(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	points := t.grow(ctx, exp, 3, 4)
	if len(points) == 0 {
		return "", fmt.Errorf("no history could be built: the function answered no suggestions")
	}
	conds := []pb.TrialCondition{
		pb.TrialCondition_SUCCEEDED, pb.TrialCondition_EARLY_STOPPED, pb.TrialCondition_FAILED,
		pb.TrialCondition_METRICS_UNAVAILABLE, pb.TrialCondition_PENDING, pb.TrialCondition_RUNNING,
		pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED,
	}
	history := make([]*pb.Trial, len(points))
	for i, as := range points {
		c := conds[i%len(conds)]
		history[i] = trial(exp, i, as, c, c == pb.TrialCondition_SUCCEEDED || c == pb.TrialCondition_EARLY_STOPPED || c == pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED)
	}
	if _, _, err := t.ask(ctx, exp, history, 4); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d trials of %d conditions", len(history), len(conds)), nil
}

// columnsHistory is a history of trials of every condition, some with
// learning curves, one hand-written (its name breaks the pattern, its
// learning rate is written "0.0200") and one whose parameters come in
// another order, so that its columns hold every kind of entry: numbers,
// texts, absences, curves and a plain row.
func (t *target) columnsHistory(ctx context.Context, exp *pb.Experiment) []*pb.Trial {
	conds := []pb.TrialCondition{pb.TrialCondition_SUCCEEDED, pb.TrialCondition_RUNNING, pb.TrialCondition_FAILED, pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED}
	var history []*pb.Trial
	for i, as := range t.grow(ctx, exp, 3, 4) {
		c := conds[i%len(conds)]
		tr := trial(exp, i, as, c, c != pb.TrialCondition_RUNNING)
		if i%2 == 0 && tr.Status.Observation != nil {
			m := tr.Status.Observation.Metrics[0]
			m.Curve = []*pb.MetricPoint{{Step: 1, Value: "1e-05"}, {Step: 3, Value: m.Value}}
		}
		history = append(history, tr)
	}
	if len(history) < 2 {
		return nil
	}
	warm := proto.Clone(history[0]).(*pb.Trial)
	warm.Name = "warm-start"
	for _, a := range warm.Spec.ParameterAssignments.Assignments {
		if a.Name == "lr" {
			a.Value = "0.0200"
		}
	}
	swapped := proto.Clone(history[1]).(*pb.Trial)
	as := swapped.Spec.ParameterAssignments.Assignments
	as[0], as[1] = as[1], as[0]
	swapped.Name = fmt.Sprintf("%s-%d", exp.GetName(), len(history)+2)
	return append(history, warm, swapped)
}

// checkHistoryColumns sends one history in plain and in columns
// (GetSuggestionsRequest.history): the assignments must be the same.
func (t *target) checkHistoryColumns(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	history := t.columnsHistory(ctx, exp)
	if len(history) == 0 {
		return "", fmt.Errorf("no history could be built: the function answered no suggestions")
	}
	plain, _, err := t.ask(ctx, exp, history, 3)
	if err != nil {
		return "", fmt.Errorf("in plain: %w", err)
	}
	req := &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 3,
		History: function.CompactHistory(exp.GetExperimentSpec().GetParameterSpecs().GetParameters(), history)}
	columns, err := t.caller.GetSuggestions(ctx, req)
	if err != nil {
		return "", fmt.Errorf("the history in columns failed where the same in plain was answered: %w", err)
	}
	if !proto.Equal(&pb.GetSuggestionsReply{ParameterAssignments: plain.GetParameterAssignments(), SearchSpaceExhausted: plain.GetSearchSpaceExhausted()},
		&pb.GetSuggestionsReply{ParameterAssignments: columns.GetParameterAssignments(), SearchSpaceExhausted: columns.GetSearchSpaceExhausted()}) {
		return "", fmt.Errorf("one history gave two replies: %s in plain, %s in columns", formatReply(plain), formatReply(columns))
	}
	return fmt.Sprintf("%d trials, %d bytes in columns against %d in plain", len(history), proto.Size(req), proto.Size(&pb.GetSuggestionsRequest{Experiment: exp, Trials: history, RequestNumber: 3})), nil
}

// checkBadHistoryColumns sends histories in columns that are malformed: each
// must be refused as the caller's mistake, naming the history.
func (t *target) checkBadHistoryColumns(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	history := t.columnsHistory(ctx, exp)
	if len(history) == 0 {
		return "", fmt.Errorf("no history could be built: the function answered no suggestions")
	}
	specs := exp.GetExperimentSpec().GetParameterSpecs().GetParameters()
	for _, bad := range []struct {
		name  string
		spoil func(*pb.GetSuggestionsRequest)
	}{
		{"a column one short", func(r *pb.GetSuggestionsRequest) {
			c := r.History.Parameters[1]
			c.Ints, c.Doubles = c.Ints[min(1, len(c.Ints)):], c.Doubles[min(1, len(c.Doubles)):]
		}},
		{"a column missing", func(r *pb.GetSuggestionsRequest) { r.History.Parameters = r.History.Parameters[1:] }},
		{"a metric value missing", func(r *pb.GetSuggestionsRequest) { r.History.Metrics[0].Values = r.History.Metrics[0].Values[1:] }},
		{"a position past the end", func(r *pb.GetSuggestionsRequest) {
			r.History.Parameters[0].Texts = &pb.Texts{At: []uint32{uint32(len(r.History.Conditions))}, Values: []string{"0.02"}}
		}},
		{"a plain row without its trial", func(r *pb.GetSuggestionsRequest) { r.History.Plain = nil }},
		{"trials too", func(r *pb.GetSuggestionsRequest) { r.Trials = history[:1] }},
	} {
		req := &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 1, History: function.CompactHistory(specs, history)}
		bad.spoil(req)
		if _, err := t.refused(ctx, req, "history"); err != nil {
			return "", fmt.Errorf("%s: %w", bad.name, err)
		}
	}
	return "", nil
}

func (t *target) checkBatches(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	for _, n := range []int{1, 8} {
		_, pts, err := t.ask(ctx, exp, nil, n)
		if err != nil {
			return "", err
		}
		if len(pts) != n {
			return "", fmt.Errorf("%d assignments for %d asked of an infinite space", len(pts), n)
		}
	}
	return "", nil
}

// checkState runs rounds as the controller does: the settings the function
// returned are sent back with the next request, over the same settings the
// experiment gives, and every reply's points join the history, evaluated.
func (t *target) checkState(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	base := exp.GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()
	var history []*pb.Trial
	var state []*pb.AlgorithmSetting
	rounds := 6
	for round := range rounds {
		exp.ExperimentSpec.Algorithm.AlgorithmSettings = algorithm.OverlaySettings(base, state)
		reply, _, err := t.ask(ctx, exp, history, 3)
		if err != nil {
			return "", fmt.Errorf("round %d: %w", round+1, err)
		}
		state = reply.GetAlgorithm().GetAlgorithmSettings()
		for _, a := range reply.GetParameterAssignments() {
			history = append(history, trial(exp, len(history), a.GetAssignments(), pb.TrialCondition_SUCCEEDED, true))
		}
	}
	names := make([]string, len(state))
	for i, s := range state {
		names[i] = s.GetName()
	}
	if len(names) == 0 {
		return fmt.Sprintf("%d rounds; no state returned", rounds), nil
	}
	return fmt.Sprintf("%d rounds; state %s sent back each time", rounds, strings.Join(names, ", ")), nil
}

// checkTamperedState sends back, in place of the state a function
// returned, values it never wrote: garbage, and its own state with every
// number made huge or negative. The state travels through a resource a user
// can edit, so the function must refuse such a state as the caller's
// mistake, naming the setting, or rebuild what it needs; never fail.
func (t *target) checkTamperedState(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	base := exp.GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()
	var history []*pb.Trial
	var state []*pb.AlgorithmSetting
	for range 3 {
		exp.ExperimentSpec.Algorithm.AlgorithmSettings = algorithm.OverlaySettings(base, state)
		reply, _, err := t.ask(ctx, exp, history, 3)
		if err != nil {
			return "", err
		}
		state = reply.GetAlgorithm().GetAlgorithmSettings()
		for _, a := range reply.GetParameterAssignments() {
			history = append(history, trial(exp, len(history), a.GetAssignments(), pb.TrialCondition_SUCCEEDED, true))
		}
	}
	if len(state) == 0 {
		return "the function returns no state", errSkip
	}
	refused, accepted := 0, 0
	for _, s := range state {
		for _, tc := range tamperings(s.GetValue()) {
			tampered := &pb.AlgorithmSetting{Name: s.GetName(), Value: tc.value}
			exp.ExperimentSpec.Algorithm.AlgorithmSettings = algorithm.OverlaySettings(base, append(state, tampered))
			reply, err := t.caller.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: exp, Trials: history, RequestNumber: 3})
			if err != nil {
				if _, rerr := checkRefusal(err, s.GetName()); rerr != nil {
					return "", fmt.Errorf("%s with %s: %w", s.GetName(), tc.name, rerr)
				}
				refused++
				continue
			}
			sp, err := searchspace.Parse(exp.GetExperimentSpec().GetParameterSpecs().GetParameters())
			if err != nil {
				return "", fmt.Errorf("the check's own search space: %w", err)
			}
			handed := make([][]*pb.ParameterAssignment, len(history))
			for i, h := range history {
				handed[i] = h.GetSpec().GetParameterAssignments().GetAssignments()
			}
			if _, err := contract.CheckReply(sp, contract.HistoryOf(sp, handed), reply, 3); err != nil {
				return "", fmt.Errorf("%s with %s: %w", s.GetName(), tc.name, err)
			}
			accepted++
		}
	}
	return fmt.Sprintf("%d tampered states refused, %d rebuilt from", refused, accepted), nil
}

var numbers = regexp.MustCompile(`-?[0-9]+`)

type tampering struct{ name, value string }

// tamperings are values a state never had: garbage; every number made
// huge, or negative; and each of its first numbers alone made huge, so that
// one field out of range is not hidden behind another refused first.
func tamperings(v string) []tampering {
	const huge = "9223372036854775807"
	out := []tampering{
		{"garbage", "{not the state"},
		{"every number huge", numbers.ReplaceAllString(v, huge)},
		{"every number -1", numbers.ReplaceAllString(v, "-1")},
	}
	locs := numbers.FindAllStringIndex(v, 16)
	for i, loc := range locs {
		out = append(out, tampering{fmt.Sprintf("number %d of %d huge", i+1, len(locs)), v[:loc[0]] + huge + v[loc[1]:]})
	}
	if len(locs) > 0 { // the last, which a list of numbers may not reach
		all := numbers.FindAllStringIndex(v, -1)
		last := all[len(all)-1]
		out = append(out, tampering{"the last number huge", v[:last[0]] + huge + v[last[1]:]})
	}
	return out
}

// checkExhaustion asks a space of six points for four at a time: every
// point must come once, the reply that runs out must say the space is
// exhausted, and so must every reply after it.
func (t *target) checkExhaustion(ctx context.Context) (string, error) {
	if t.profile().Budget {
		return "budgeted algorithms end by their schedule, not by the space", errSkip
	}
	space := []*pb.ParameterSpec{
		{Name: "a", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "3"}},
		{Name: "b", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "2"}},
	}
	return t.exhaust(ctx, space, 6, 4)
}

// exhaust asks a finite space of the given size for n points at a time
// until the function says it is used up: every point must come once, the
// reply that runs out must say so, and so must the one after it.
func (t *target) exhaust(ctx context.Context, space []*pb.ParameterSpec, size, n int) (string, error) {
	exp := t.experiment(space, nil)
	var history []*pb.Trial
	for round := 1; round <= 2*size; round++ {
		reply, _, err := t.ask(ctx, exp, history, n)
		if err != nil {
			return "", fmt.Errorf("round %d: %w", round, err)
		}
		for _, a := range reply.GetParameterAssignments() {
			history = append(history, trial(exp, len(history), a.GetAssignments(), pb.TrialCondition_SUCCEEDED, true))
		}
		if !reply.GetSearchSpaceExhausted() {
			if len(history) >= size {
				return "", fmt.Errorf("round %d: all %d points handed out and the reply does not say the space is exhausted", round, size)
			}
			continue
		}
		if len(history) != size {
			return "", fmt.Errorf("round %d: the reply says the space is exhausted after %d of its %d points", round, len(history), size)
		}
		again, _, err := t.ask(ctx, exp, history, n)
		if err != nil {
			return "", fmt.Errorf("once exhausted: %w", err)
		}
		if !again.GetSearchSpaceExhausted() {
			return "", fmt.Errorf("once exhausted, the next reply does not say so")
		}
		return fmt.Sprintf("%d points in %d rounds", size, round), nil
	}
	return "", fmt.Errorf("never said the space of %d points is exhausted", size)
}

// checkConditional gives the function parameters that are active only
// under some values of a parent, nested two deep. It may refuse them, as
// the caller's mistake naming the first conditional parameter, when asked
// to validate and when asked for suggestions; or it must honour them: over
// rounds whose points join the history, every reply assigns exactly the
// active parameters (contract.CheckReply), and, unless it is budgeted, it
// walks a finite conditional space of eight valid combinations (of sixteen
// without the conditions) to its exhaustion.
func (t *target) checkConditional(ctx context.Context) (string, error) {
	p := t.profile()
	space := append(basicSpace(p),
		&pb.ParameterSpec{Name: "optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam"}}},
		&pb.ParameterSpec{Name: "momentum", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.5", Max: "0.99", Step: stepIf(p.FiniteOnly, "0.01")},
			ParentName: "optimizer", ParentValues: []string{"sgd"}},
		&pb.ParameterSpec{Name: "beta", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"0.9", "0.99", "0.999"}},
			ParentName: "optimizer", ParentValues: []string{"adam"}},
		&pb.ParameterSpec{Name: "warmup", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "5"},
			ParentName: "beta", ParentValues: []string{"0.99", "0.999"}},
	)
	exp := t.experiment(space, nil)
	verr := t.caller.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: exp})
	reply, err := t.caller.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 4})
	if verr != nil || err != nil {
		if verr == nil {
			return "", fmt.Errorf("validate accepted the conditional parameters, then suggest refused them: %w", err)
		}
		msg, rerr := checkRefusal(verr, "momentum")
		if rerr != nil {
			return "", fmt.Errorf("validate: %w", rerr)
		}
		if err == nil {
			return "", fmt.Errorf("validate refused the conditional parameters, then suggest answered %d assignments", len(reply.GetParameterAssignments()))
		}
		if _, rerr := checkRefusal(err, "momentum"); rerr != nil {
			return "", fmt.Errorf("suggest: %w", rerr)
		}
		return "refuses conditional parameters: " + msg, nil
	}
	var history []*pb.Trial
	active := map[string]int{}
	for round := range 4 {
		_, pts, err := t.ask(ctx, exp, history, 4)
		if err != nil {
			return "", fmt.Errorf("round %d: %w", round+1, err)
		}
		sp, _ := searchspace.Parse(space)
		for _, pt := range pts {
			as := sp.Format(pt)
			for _, a := range as {
				active[a.GetName()]++
			}
			history = append(history, trial(exp, len(history), as, pb.TrialCondition_SUCCEEDED, true))
		}
	}
	note := fmt.Sprintf("honours them: %d points, momentum active in %d, beta in %d, warmup in %d", len(history), active["momentum"], active["beta"], active["warmup"])
	if p.Budget {
		return note, nil
	}
	// Under each d: a 1 alone, a 2 with b x, a 2 with b y and c 1 or 2.
	finite := []*pb.ParameterSpec{
		{Name: "a", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "2"}},
		{Name: "b", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"x", "y"}}, ParentName: "a", ParentValues: []string{"2"}},
		{Name: "c", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "2"}, ParentName: "b", ParentValues: []string{"y"}},
		{Name: "d", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "2"}},
	}
	ex, err := t.exhaust(ctx, finite, 8, 3)
	if err != nil {
		return "", fmt.Errorf("a finite conditional space: %w", err)
	}
	return note + "; a finite conditional space: " + ex, nil
}

// checkObjectives asks with a second objective and a constraint: the
// function takes them and answers valid points round after round, or
// refuses the second objective, in validation and suggestion alike, naming
// the field. A constraint alone every function must take.
func (t *target) checkObjectives(ctx context.Context) (string, error) {
	most := 3.0
	exp := t.experiment(basicSpace(t.profile()), nil)
	exp.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: costMetric, Max: &most}}
	if _, err := t.rounds(ctx, exp, 3); err != nil {
		return "", fmt.Errorf("a constraint: %w", err)
	}
	exp.ExperimentSpec.Objective.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: costMetric, Type: pb.ObjectiveType_MINIMIZE}}
	verr := t.caller.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: exp})
	if verr != nil {
		msg, err := checkRefusal(verr, "additionalObjectives")
		if err != nil {
			return "", fmt.Errorf("validate, two objectives: %w", err)
		}
		if _, err := t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 2}, "additionalObjectives"); err != nil {
			return "", fmt.Errorf("validate refused two objectives, suggest: %w", err)
		}
		return "takes a constraint; refuses two objectives: " + msg, nil
	}
	n, err := t.rounds(ctx, exp, 3)
	if err != nil {
		return "", fmt.Errorf("two objectives and a constraint: %w", err)
	}
	return fmt.Sprintf("takes a constraint, and two objectives with it: %d points", n), nil
}

// costMetric is the second metric of the objectives check: it grows with
// the numbers of a point, where the loss has its minimum inside.
const costMetric = "cost"

// rounds asks for 3 points a round, each answered with its loss and its
// cost, and returns how many were handed out.
func (t *target) rounds(ctx context.Context, exp *pb.Experiment, n int) (int, error) {
	var history []*pb.Trial
	for round := range n {
		_, pts, err := t.ask(ctx, exp, history, 3)
		if err != nil {
			return 0, fmt.Errorf("round %d: %w", round+1, err)
		}
		sp, _ := searchspace.Parse(exp.GetExperimentSpec().GetParameterSpecs().GetParameters())
		for _, pt := range pts {
			as := sp.Format(pt)
			tr := trial(exp, len(history), as, pb.TrialCondition_SUCCEEDED, true)
			cost := 0.0
			for _, a := range as {
				if v, err := strconv.ParseFloat(a.GetValue(), 64); err == nil {
					cost += math.Log1p(math.Abs(v))
				}
			}
			tr.Status.Observation.Metrics = append(tr.Status.Observation.Metrics, &pb.Metric{Name: costMetric, Value: strconv.FormatFloat(cost, 'g', -1, 64)})
			history = append(history, tr)
		}
	}
	return len(history), nil
}

func (t *target) checkBadSpace(ctx context.Context) (string, error) {
	space := append(basicSpace(t.profile()), &pb.ParameterSpec{Name: "backwards", ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "0.5", Step: stepIf(t.profile().FiniteOnly, "0.1")}})
	return t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: t.experiment(space, nil), RequestNumber: 1}, "backwards")
}

func (t *target) checkBadRequestNumber(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	return t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 0}, "")
}

// checkBadSettingValue gives a setting that every algorithm knows, or that
// none does, a value no algorithm takes.
func (t *target) checkBadSettingValue(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), []*pb.AlgorithmSetting{{Name: algorithm.RandomState, Value: "not-a-number"}})
	return t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 1}, algorithm.RandomState)
}

// checkBadMetric sends a trial whose objective metric is no finite number:
// the request is the caller's mistake, whatever the algorithm does with
// values.
func (t *target) checkBadMetric(ctx context.Context) (string, error) {
	exp := t.experiment(basicSpace(t.profile()), nil)
	points := t.grow(ctx, exp, 1, 1)
	if len(points) == 0 {
		return "", fmt.Errorf("no history could be built: the function answered no suggestions")
	}
	for _, bad := range []string{"+Inf", "NaN", "high"} {
		tr := trial(exp, 0, points[0], pb.TrialCondition_SUCCEEDED, true)
		tr.Status.Observation.Metrics[0].Value = bad
		if _, err := t.refused(ctx, &pb.GetSuggestionsRequest{Experiment: exp, Trials: []*pb.Trial{tr}, RequestNumber: 1}, bad); err != nil {
			return "", fmt.Errorf("objective metric %q: %w", bad, err)
		}
	}
	return "", nil
}

// grow runs rounds of n suggestions, each evaluated and added to the
// history, and returns the assignments handed out. It stops early at a
// failure, which the check that uses it will meet again and report.
func (t *target) grow(ctx context.Context, exp *pb.Experiment, rounds, n int) [][]*pb.ParameterAssignment {
	var out [][]*pb.ParameterAssignment
	var history []*pb.Trial
	for range rounds {
		reply, _, err := t.ask(ctx, exp, history, n)
		if err != nil {
			return out
		}
		for _, a := range reply.GetParameterAssignments() {
			out = append(out, a.GetAssignments())
			history = append(history, trial(exp, len(history), a.GetAssignments(), pb.TrialCondition_SUCCEEDED, true))
		}
	}
	return out
}

// experiment is the experiment of a check: its space, a loss to minimise,
// the profile's algorithm and budget settings, and the settings given.
func (t *target) experiment(space []*pb.ParameterSpec, settings []*pb.AlgorithmSetting) *pb.Experiment {
	p := t.profile()
	var all []*pb.AlgorithmSetting
	if p.Budget {
		all = append(all,
			&pb.AlgorithmSetting{Name: "resource_name", Value: budgetParam},
			&pb.AlgorithmSetting{Name: "r_l", Value: "9"},
			&pb.AlgorithmSetting{Name: "eta", Value: "3"})
	}
	all = append(all, settings...)
	return &pb.Experiment{
		Name: "conformance",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: p.Algorithm, AlgorithmSettings: all},
			Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: lossMetric, Goal: -1e9},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: space},
		},
	}
}

const (
	lossMetric  = "loss"
	budgetParam = "epochs"
)

// basicSpace is a double and an int (and the budget, for budgeted
// algorithms): a space every algorithm must take.
func basicSpace(p Profile) []*pb.ParameterSpec {
	out := []*pb.ParameterSpec{
		{Name: "lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.05", Step: stepIf(p.FiniteOnly, "0.005")}},
		{Name: "layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "8"}},
	}
	if p.Budget {
		out = append(out, &pb.ParameterSpec{Name: budgetParam, ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "9"}})
	}
	return out
}

func stepIf(finite bool, step string) string {
	if finite {
		return step
	}
	return ""
}

type kind struct {
	name string
	spec *pb.ParameterSpec
}

// parameterKinds is one parameter of each type and distribution.
func parameterKinds(p Profile) []kind {
	num := func(name string, typ pb.ParameterType, min, max, step string, d pb.Distribution) *pb.ParameterSpec {
		return &pb.ParameterSpec{Name: name, ParameterType: typ, FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max, Step: step, Distribution: d}}
	}
	list := func(name string, typ pb.ParameterType, values ...string) *pb.ParameterSpec {
		return &pb.ParameterSpec{Name: name, ParameterType: typ, FeasibleSpace: &pb.FeasibleSpace{List: values}}
	}
	out := []kind{
		{"DOUBLE with step", num("width", pb.ParameterType_DOUBLE, "0", "1", "0.125", 0)},
		{"INT", num("units", pb.ParameterType_INT, "-4", "12", "", 0)},
		{"INT with step", num("batch", pb.ParameterType_INT, "16", "128", "16", 0)},
		{"INT LOG_UNIFORM", num("hidden", pb.ParameterType_INT, "8", "1024", "", pb.Distribution_LOG_UNIFORM)},
		{"DISCRETE", list("ratio", pb.ParameterType_DISCRETE, "0.5", "1", "2", "4")},
		{"CATEGORICAL", list("optimizer", pb.ParameterType_CATEGORICAL, "sgd", "adam", "rmsprop")},
	}
	if !p.FiniteOnly {
		out = append([]kind{
			{"DOUBLE UNIFORM", num("dropout", pb.ParameterType_DOUBLE, "0", "0.5", "", pb.Distribution_UNIFORM)},
			{"DOUBLE LOG_UNIFORM", num("rate", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM)},
			{"DOUBLE NORMAL", num("momentum", pb.ParameterType_DOUBLE, "0.5", "0.99", "", pb.Distribution_NORMAL)},
			{"DOUBLE LOG_NORMAL", num("decay", pb.ParameterType_DOUBLE, "1e-6", "1e-2", "", pb.Distribution_LOG_NORMAL)},
		}, out...)
	}
	return out
}

// trial is the i-th trial of a check's history; evaluated trials report a
// loss that depends on their assignments.
func trial(exp *pb.Experiment, i int, as []*pb.ParameterAssignment, c pb.TrialCondition, evaluated bool) *pb.Trial {
	t := &pb.Trial{
		Name:   fmt.Sprintf("%s-%d", exp.GetName(), i+1),
		Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: as}},
		Status: &pb.TrialStatus{Condition: c},
	}
	if evaluated {
		t.Status.Observation = &pb.Observation{Metrics: []*pb.Metric{{Name: lossMetric, Value: strconv.FormatFloat(loss(as), 'g', -1, 64)}}}
	}
	return t
}

// evaluated turns assignments into succeeded trials.
func evaluated(exp *pb.Experiment, points [][]*pb.ParameterAssignment) []*pb.Trial {
	out := make([]*pb.Trial, len(points))
	for i, as := range points {
		out[i] = trial(exp, i, as, pb.TrialCondition_SUCCEEDED, true)
	}
	return out
}

// loss is a smooth function of the numeric values, with categories
// counted by their length: enough for a model to learn from.
func loss(as []*pb.ParameterAssignment) float64 {
	sum := 0.0
	for _, a := range as {
		v, err := strconv.ParseFloat(a.GetValue(), 64)
		if err != nil {
			v = float64(len(a.GetValue()))
		}
		sum += math.Pow(math.Log1p(math.Abs(v))-0.5, 2)
	}
	return sum
}

func formatReply(r *pb.GetSuggestionsReply) string {
	parts := make([]string, len(r.GetParameterAssignments()))
	for i, a := range r.GetParameterAssignments() {
		parts[i] = "[" + contract.Format(a.GetAssignments()) + "]"
	}
	return strings.Join(parts, " ")
}

// ProfileFor returns the profile of a registered algorithm, and a profile
// asking nothing special of an algorithm the registry does not know.
func ProfileFor(name string) Profile {
	p := Profile{Algorithm: name}
	if e, ok := registry.Lookup(name); ok {
		p.FiniteOnly, p.Budget = e.Needs.FiniteSpace, e.Needs.Budget
	}
	return p
}
