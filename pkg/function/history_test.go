package function

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/random"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// historyExperiment has a parameter of every type.
func historyExperiment() *pb.Experiment {
	exp := seedExperiment()
	exp.ExperimentSpec.ParameterSpecs.Parameters = append(exp.ExperimentSpec.ParameterSpecs.Parameters,
		&pb.ParameterSpec{Name: "--batch", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"16", "0.10", "64"}}},
		&pb.ParameterSpec{Name: "--decay", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "1e-6", Max: "1e6", Distribution: pb.Distribution_LOG_UNIFORM}})
	return exp
}

func assigned(values ...string) *pb.TrialSpec {
	names := []string{"--lr", "--num-layers", "--optimizer", "--batch", "--decay"}
	as := make([]*pb.ParameterAssignment, len(values))
	for i, v := range values {
		as[i] = &pb.ParameterAssignment{Name: names[i], Value: v}
	}
	return &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: as}}
}

func observed(cond pb.TrialCondition, metrics ...*pb.Metric) *pb.TrialStatus {
	st := &pb.TrialStatus{Condition: cond}
	if len(metrics) > 0 {
		st.Observation = &pb.Observation{Metrics: metrics}
	}
	return st
}

func curve(steps []int64, values ...string) []*pb.MetricPoint {
	out := make([]*pb.MetricPoint, len(values))
	for i := range values {
		out[i] = &pb.MetricPoint{Step: steps[i], Value: values[i]}
	}
	return out
}

// historyTrials holds every case the columns must carry exactly: strings
// the columns write differently, curves, absences, names that break the
// pattern, and trials that only fit whole.
func historyTrials() []*pb.Trial {
	acc := func(v string) *pb.Metric { return &pb.Metric{Name: "Validation-accuracy", Value: v} }
	loss := func(v string, c ...*pb.MetricPoint) *pb.Metric { return &pb.Metric{Name: "loss", Value: v, Curve: c} }
	ts := []*pb.Trial{
		{Name: "exp-1", Spec: assigned("0.02", "3", "sgd", "16", "1.5e-05"), Status: observed(pb.TrialCondition_SUCCEEDED, acc("0.9"), loss("0.31", curve([]int64{1, 2, 5}, "0.9", "0.5", "0.31")...))},
		{Name: "exp-2", Spec: assigned("0.025", "-0", "adam", "0.10", "123456.5"), Status: observed(pb.TrialCondition_RUNNING, loss("0.5", curve([]int64{math.MaxInt64, math.MinInt64}, "1e-7", "NaN")...))},
		{Name: "exp-3", Spec: assigned("0.0100", "4.0", "ftrl", "0.1", "2e-3"), Status: observed(pb.TrialCondition_PENDING)},
		{Name: "hand-written", Spec: assigned("-0", "9223372036854775807", "sgd", "64", "0.000001"), Status: observed(pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED, acc("0.80"))},
		{Name: "exp-5", Spec: assigned("1e+21", "+5", "unknown", "32", "NaN"), Status: observed(pb.TrialCondition_FAILED, acc(""))},
		// Whole, in plain: parameters out of order, a run spec, metrics in
		// the other order, an observation without metrics, no status.
		{Name: "exp-6", Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
			{Name: "--num-layers", Value: "2"}, {Name: "--lr", Value: "0.02"}, {Name: "--optimizer", Value: "sgd"}, {Name: "--batch", Value: "16"}, {Name: "--decay", Value: "1"}}}},
			Status: observed(pb.TrialCondition_SUCCEEDED, acc("0.5"))},
		{Name: "exp-7", Spec: &pb.TrialSpec{ParameterAssignments: assigned("0.02", "3", "sgd", "16", "1").ParameterAssignments, RunSpec: "kind: Job"}, Status: observed(pb.TrialCondition_SUCCEEDED)},
		{Name: "exp-8", Spec: assigned("0.02", "3", "sgd", "16", "2"), Status: observed(pb.TrialCondition_SUCCEEDED, loss("0.2"), acc("0.7"))},
		{Name: "exp-9", Spec: assigned("0.02", "3", "sgd", "16", "3"), Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{}}},
		{Name: "exp-10", Spec: assigned("0.02", "3", "sgd", "16", "4")},
		{Name: "", Spec: assigned("0.0123", "2", "adam", "64", "5"), Status: observed(pb.TrialCondition_EARLY_STOPPED, acc("0.75"), &pb.Metric{Name: "epochs", Value: "7"})},
		{Name: "exp-12", Spec: assigned("0.03", "5", "ftrl", "16", "6"), Status: observed(pb.TrialCondition(42), acc("1e-300"))},
	}
	return ts
}

func TestHistoryColumnsRoundTrip(t *testing.T) {
	specs := historyExperiment().ExperimentSpec.ParameterSpecs.Parameters
	trials := historyTrials()
	h := CompactHistory(specs, trials)
	if h == nil {
		t.Fatal("CompactHistory: nil")
	}
	if got, want := h.GetPlainRows(), []uint32{5, 6, 7, 8, 9}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("plain rows %v, want %v", got, want)
	}
	if h.GetNamePrefix() != "exp-" || h.GetNameFirst() != 1 {
		t.Errorf("name pattern %q, %d; want exp-, 1", h.GetNamePrefix(), h.GetNameFirst())
	}
	// Through the wire, as a function gets it.
	wire, err := proto.Marshal(&pb.GetSuggestionsRequest{History: h})
	if err != nil {
		t.Fatal(err)
	}
	req := &pb.GetSuggestionsRequest{}
	if err := proto.Unmarshal(wire, req); err != nil {
		t.Fatal(err)
	}
	got, err := ExpandHistory(specs, req.GetHistory())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(trials) {
		t.Fatalf("%d trials, want %d", len(got), len(trials))
	}
	for i := range trials {
		if !proto.Equal(got[i], trials[i]) {
			t.Errorf("trial %d:\n got %v\nwant %v", i, got[i], trials[i])
		}
	}
}

func TestHistoryColumnsFormats(t *testing.T) {
	specs := []*pb.ParameterSpec{{Name: "x", ParameterType: pb.ParameterType_DOUBLE}}
	for _, tc := range []struct {
		name   string
		values []string
		format pb.NumberFormat
		texts  int
	}{
		{"positional", []string{"0.00001", "1234567", "0.5"}, pb.NumberFormat_POSITIONAL, 0},
		{"exponents", []string{"1e-05", "1.234567e+06", "0.5"}, pb.NumberFormat_SHORTEST, 0},
		{"mixed", []string{"1e-05", "0.00001", "1.234567e+06", "0.5", "0.50", ".5", "-0", "+Inf", "NaN"}, pb.NumberFormat_SHORTEST, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trials := make([]*pb.Trial, len(tc.values))
			for i, v := range tc.values {
				trials[i] = &pb.Trial{Name: "t" + strconv.Itoa(i), Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{{Name: "x", Value: v}}}}, Status: &pb.TrialStatus{}}
			}
			h := CompactHistory(specs, trials)
			col := h.GetParameters()[0]
			if col.GetFormat() != tc.format || len(col.GetTexts().GetAt()) != tc.texts {
				t.Errorf("format %v with %d texts (%v), want %v with %d", col.GetFormat(), len(col.GetTexts().GetAt()), col.GetTexts().GetValues(), tc.format, tc.texts)
			}
			got, err := ExpandHistory(specs, h)
			if err != nil {
				t.Fatal(err)
			}
			for i := range trials {
				if !proto.Equal(got[i], trials[i]) {
					t.Errorf("trial %d: got %v, want %v", i, got[i], trials[i])
				}
			}
		})
	}
}

// readBoth reads a request's trials as they come and in columns.
func readBoth(t *testing.T, exp *pb.Experiment, trials []*pb.Trial) (plain, columns []algorithm.Trial, plainErr, columnsErr error) {
	t.Helper()
	p, err := algorithm.NewProblem(random.Random{}, exp)
	if err != nil {
		t.Fatal(err)
	}
	specs := exp.GetExperimentSpec().GetParameterSpecs().GetParameters()
	plain, plainErr = ReadTrials(context.Background(), p, &pb.GetSuggestionsRequest{Experiment: exp, Trials: trials})
	columns, columnsErr = ReadTrials(context.Background(), p, &pb.GetSuggestionsRequest{Experiment: exp, History: CompactHistory(specs, trials)})
	return plain, columns, plainErr, columnsErr
}

func sameTrials(a, b []algorithm.Trial) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d trials against %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Condition != y.Condition || x.HasValue != y.HasValue || x.Value != y.Value || fmt.Sprint(x.Point) != fmt.Sprint(y.Point) ||
			fmt.Sprint(x.Losses) != fmt.Sprint(y.Losses) || x.Violation != y.Violation || x.Loss != y.Loss {
			return fmt.Errorf("trial %d: %+v against %+v", i, x, y)
		}
	}
	return nil
}

func TestReadTrialsFromColumns(t *testing.T) {
	exp := historyExperiment()
	var trials []*pb.Trial
	for _, tr := range historyTrials() {
		// The valid ones: every value of its parameter's type.
		switch tr.GetName() {
		case "exp-5", "exp-10", "exp-12":
			continue
		}
		trials = append(trials, tr)
	}
	plain, columns, err1, err2 := readBoth(t, exp, trials)
	if err1 != nil || err2 != nil {
		t.Fatalf("errors: %v, %v", err1, err2)
	}
	if err := sameTrials(plain, columns); err != nil {
		t.Error(err)
	}
	if columns[0].Raw != nil || columns[5].Raw == nil {
		t.Errorf("Raw: %v for a column row, %v for a plain one; want nil and the trial", columns[0].Raw, columns[5].Raw)
	}
	if c := columns[3]; c.Condition != pb.TrialCondition_SUCCEEDED || !c.HasValue || c.Value != 0.8 {
		t.Errorf("trial without condition reporting 0.80: %+v", c)
	}
}

// Several objectives and a constraint read the same from both forms: each
// trial's losses, its violation and the loss an algorithm minimises.
func TestReadTrialsFromColumnsWithSeveralObjectives(t *testing.T) {
	exp := historyExperiment()
	limit := 0.3
	exp.ExperimentSpec.Objective.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "loss", Type: pb.ObjectiveType_MINIMIZE}}
	exp.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "loss", Max: &limit}}
	var trials []*pb.Trial
	for _, tr := range historyTrials() {
		switch tr.GetName() {
		case "exp-5", "exp-10", "exp-12":
			continue
		}
		trials = append(trials, tr)
	}
	plain, columns, err1, err2 := readBoth(t, exp, trials)
	if err1 != nil || err2 != nil {
		t.Fatalf("errors: %v, %v", err1, err2)
	}
	if err := sameTrials(plain, columns); err != nil {
		t.Error(err)
	}
	both, infeasible := 0, 0
	for _, tr := range plain {
		if !tr.HasValue {
			continue
		}
		both++
		if len(tr.Losses) != 2 || tr.Losses[0] != -tr.Value {
			t.Errorf("%s: Losses %v, want the accuracy negated and the loss", tr.Name, tr.Losses)
		}
		if tr.Violation != max(0, tr.Losses[1]-limit) {
			t.Errorf("%s: Violation %v with loss %v over the limit %v", tr.Name, tr.Violation, tr.Losses[1], limit)
		}
		if tr.Violation > 0 {
			infeasible++
		}
	}
	if both == 0 || infeasible == 0 || infeasible == both {
		t.Errorf("%d trials report both metrics, %d of them infeasible: the history should hold both kinds", both, infeasible)
	}
}

// Values the function refuses in plain, it refuses in columns, naming the
// column's field.
func TestReadTrialsFromColumnsRefusesBadValues(t *testing.T) {
	exp := historyExperiment()
	base := func() *pb.Trial {
		return &pb.Trial{Name: "t1", Spec: assigned("0.02", "3", "sgd", "16", "1"), Status: observed(pb.TrialCondition_SUCCEEDED, &pb.Metric{Name: "Validation-accuracy", Value: "0.9"})}
	}
	for _, tc := range []struct {
		name  string
		spoil func(*pb.Trial)
		want  string
	}{
		{"double NaN", func(t *pb.Trial) { t.Spec.ParameterAssignments.Assignments[0].Value = "NaN" }, `history.parameters[0].doubles[0]: parameter "--lr": "NaN" is not a finite number`},
		{"not a number", func(t *pb.Trial) { t.Spec.ParameterAssignments.Assignments[4].Value = "high" }, `history.parameters[4].texts.values[0]: parameter "--decay": "high" is not a number`},
		{"int not an integer", func(t *pb.Trial) { t.Spec.ParameterAssignments.Assignments[1].Value = "2.5" }, `history.parameters[1].texts.values[0]: parameter "--num-layers": "2.5" is not an integer`},
		{"unknown category", func(t *pb.Trial) { t.Spec.ParameterAssignments.Assignments[2].Value = "rmsprop" }, `history.parameters[2].texts.values[0]: parameter "--optimizer": "rmsprop" is not one of`},
		{"metric NaN", func(t *pb.Trial) { t.Status.Observation.Metrics[0].Value = "NaN" }, `history.metrics[0].values[0]: metric "Validation-accuracy": "NaN" is not a finite number`},
		{"metric not a number", func(t *pb.Trial) { t.Status.Observation.Metrics[0].Value = "good" }, `history.metrics[0].texts.values[0]: metric "Validation-accuracy": "good" is not a finite number`},
		{"plain trial", func(t *pb.Trial) {
			t.Spec.ParameterAssignments.Assignments = t.Spec.ParameterAssignments.Assignments[1:]
		}, `history.plain[0] ("t1").spec.parameterAssignments.assignments: parameter "--lr" is not assigned`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := base()
			tc.spoil(tr)
			_, _, err1, err2 := readBoth(t, exp, []*pb.Trial{tr})
			if err1 == nil || err2 == nil || !algorithm.IsInvalidArgument(err2) || !strings.Contains(err2.Error(), tc.want) {
				t.Errorf("errors: plain %v; columns %v; want one containing %q", err1, err2, tc.want)
			}
		})
	}
}

// spoiled returns the seed request with a valid history in columns, spoiled
// by f.
func spoiled(f func(h *pb.TrialColumns)) func(*pb.GetSuggestionsRequest) {
	return func(r *pb.GetSuggestionsRequest) {
		r.Experiment = historyExperiment()
		var trials []*pb.Trial
		for i := range 4 {
			trials = append(trials, &pb.Trial{Name: fmt.Sprintf("exp-%d", i+1), Spec: assigned("0.02", strconv.Itoa(2+i), "sgd", "16", "1"),
				Status: observed(pb.TrialCondition_SUCCEEDED, &pb.Metric{Name: "Validation-accuracy", Value: "0.9", Curve: curve([]int64{1, 2}, "0.5", "0.9")})})
		}
		trials[2].Status = observed(pb.TrialCondition_RUNNING)
		trials[3].Spec.RunSpec = "plain"
		r.History = CompactHistory(r.Experiment.ExperimentSpec.ParameterSpecs.Parameters, trials)
		f(r.History)
	}
}

// columnCases are malformed histories in columns: each refused as the
// caller's mistake, naming the field.
func columnCases() []badCase {
	return []badCase{
		{name: "columns: trials too", mutate: func(r *pb.GetSuggestionsRequest) {
			spoiled(func(*pb.TrialColumns) {})(r)
			r.Trials = []*pb.Trial{{Name: "x"}}
		}, want: "history: the request also has 1 trials: send the history in trials or in history, not both"},
		{name: "columns: a column short", mutate: spoiled(func(h *pb.TrialColumns) { h.Parameters[0].Doubles = h.Parameters[0].Doubles[1:] }),
			want: "history.parameters[0].doubles: 2 values for 3 rows"},
		{name: "columns: a column missing", mutate: spoiled(func(h *pb.TrialColumns) { h.Parameters = h.Parameters[1:] }),
			want: "history.parameters: 4 columns for 5 parameters"},
		{name: "columns: the wrong type", mutate: spoiled(func(h *pb.TrialColumns) { h.Parameters[1].Doubles = []float64{1, 2, 3} }),
			want: `history.parameters[1].doubles: parameter "--num-layers" is INT`},
		{name: "columns: an unknown index", mutate: spoiled(func(h *pb.TrialColumns) { h.Parameters[2].Indices[1] = 3 }),
			want: `history.parameters[2].indices[1]: parameter "--optimizer": 3 is not an index of its list of 3 values`},
		{name: "columns: texts unsorted", mutate: spoiled(func(h *pb.TrialColumns) {
			h.Parameters[0].Texts = &pb.Texts{At: []uint32{2, 1}, Values: []string{"a", "b"}}
		}),
			want: "history.parameters[0].texts.at[1]: 1 after 2"},
		{name: "columns: texts past the end", mutate: spoiled(func(h *pb.TrialColumns) { h.Parameters[0].Texts = &pb.Texts{At: []uint32{3}, Values: []string{"a"}} }),
			want: "history.parameters[0].texts.at[0]: 3 is past the last of 3 rows"},
		{name: "columns: texts without values", mutate: spoiled(func(h *pb.TrialColumns) { h.Names.At = []uint32{0} }),
			want: "history.names: 1 positions for 0 values"},
		{name: "columns: a plain row twice", mutate: spoiled(func(h *pb.TrialColumns) {
			h.PlainRows = append(h.PlainRows, h.PlainRows[0])
			h.Plain = append(h.Plain, h.Plain[0])
		}), want: "history.plainRows[1]: 3 after 3"},
		{name: "columns: rows without plain trials", mutate: spoiled(func(h *pb.TrialColumns) { h.Plain = nil }),
			want: "history.plainRows: 1 rows for 0 plain trials"},
		{name: "columns: a name for a plain row", mutate: spoiled(func(h *pb.TrialColumns) { h.Names = &pb.Texts{At: []uint32{3}, Values: []string{"x"}} }),
			want: "history.names.at[0]: row 3 is a plain trial"},
		{name: "columns: names overflow", mutate: spoiled(func(h *pb.TrialColumns) { h.NameFirst = math.MaxInt64 - 1 }),
			want: "history.nameFirst: 9223372036854775806: the name of row 3 would overflow"},
		{name: "columns: a metric value missing", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].Values = h.Metrics[0].Values[1:] }),
			want: `history.metrics[0].values: 1 values for the 2 rows that report metric "Validation-accuracy"`},
		{name: "columns: an absence twice", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].Absent = []uint32{2, 2} }),
			want: "history.metrics[0].absent[1]: 2 after 2"},
		{name: "columns: curves too long", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].CurveLengths[0] = 1 << 31 }),
			want: "history.metrics[0].curveSteps: 4 steps and 4 values for curves of 2147483650 points"},
		{name: "columns: a curve short", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].CurveLengths = h.Metrics[0].CurveLengths[1:] }),
			want: "history.metrics[0].curveLengths: 1 curves for 2 values"},
		{name: "columns: an unknown format", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].Format = 7 }),
			want: "history.metrics[0].format: unknown number format 7"},
		{name: "columns: a NaN objective", mutate: spoiled(func(h *pb.TrialColumns) { h.Metrics[0].Values[1] = math.NaN() }),
			want: `history.metrics[0].values[1]: metric "Validation-accuracy": "NaN" is not a finite number`},
	}
}

func TestMalformedColumnsAreRefused(t *testing.T) {
	svc := &Service{Name: "random", Algorithm: random.Random{}}
	for _, tc := range columnCases() {
		t.Run(tc.name, func(t *testing.T) {
			req := seedRequest(2)
			tc.mutate(req)
			_, err := svc.GetSuggestions(context.Background(), req)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Errorf("got %v; want InvalidArgument containing %q", err, tc.want)
			}
			if _, err := ExpandHistory(req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), req.GetHistory()); err == nil && tc.name != "columns: trials too" && tc.name != "columns: a NaN objective" {
				t.Errorf("ExpandHistory took it")
			}
		})
	}
}

// Both forms of one history get the same reply.
func TestColumnsGetTheSameReply(t *testing.T) {
	svc := &Service{Name: "random", Algorithm: random.Random{}}
	req := historyRequest(3000)
	specs := req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters()
	compact := &pb.GetSuggestionsRequest{Experiment: req.GetExperiment(), RequestNumber: req.GetRequestNumber(), History: CompactHistory(specs, req.GetTrials())}
	a, err := svc.GetSuggestions(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.GetSuggestions(context.Background(), compact)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(a, b) {
		t.Errorf("replies differ:\n%v\n%v", a, b)
	}
	// Names zero-padded, so written in full: the columns save on the rest.
	if p, c := proto.Size(req), proto.Size(compact); c*2 > p {
		t.Errorf("columns take %d bytes against %d in plain; want half at most", c, p)
	}
}

// ExpandHistory, which a caller may use without parsing the space first,
// refuses a column of a parameter without a type rather than guess.
func TestExpandHistoryParameterWithoutType(t *testing.T) {
	specs := []*pb.ParameterSpec{{Name: "x"}}
	h := &pb.TrialColumns{Conditions: []pb.TrialCondition{pb.TrialCondition_SUCCEEDED}, Parameters: []*pb.ParameterColumn{{}}}
	if _, err := ExpandHistory(specs, h); err == nil || !strings.Contains(err.Error(), `history.parameters[0]: parameter "x" has no type`) {
		t.Errorf("got %v", err)
	}
}
