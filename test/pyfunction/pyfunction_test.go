// Package pyfunction tests the Python example function
// (examples/function-python) as users run it: python3 started as a process
// on a free loopback port, called over real sockets with the cloudevents CLI
// (github.com/cloudevents/conformance), with Knobs' CloudEvents client and
// with plain HTTP, in binary and structured mode, with protobuf JSON and
// binary protobuf.
//
// The tests skip when python3 is not installed. The CLI comes from
// hack/install-tools.sh (into .bin/), or from the folder in $KNOBS_TOOLS_BIN.
package pyfunction

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/test/fnproc"
)

// script is the function under test, from this folder.
const script = "../../examples/function-python/function.py"

// start runs the function with python3 and waits until it answers
// /healthz; it skips the test when python3 is not installed.
func start(t *testing.T) *fnproc.Proc {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Python example function cannot run")
	}
	return fnproc.Start(t, "function.py", exec.Command(python, script))
}

// experiment is the experiment of the Katib Suggestion design.
func experiment() *pb.Experiment {
	return newExperiment("python-experiment",
		&pb.ParameterSpec{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03"}},
		&pb.ParameterSpec{Name: "--num-layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"}},
		&pb.ParameterSpec{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
	)
}

func newExperiment(name string, params ...*pb.ParameterSpec) *pb.Experiment {
	return &pb.Experiment{
		Name: name,
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: "random"},
			Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: params},
		},
	}
}

func requestJSON(t *testing.T, m proto.Message) string {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkReply checks that a reply holds n assignments of the experiment's
// space: every parameter once, each value of its type, inside its feasible
// space and written as the Go functions write it, no assignment twice, none
// already held by a trial of the history.
func checkReply(t *testing.T, exp *pb.Experiment, history []*pb.Trial, reply *pb.GetSuggestionsReply, n int) {
	t.Helper()
	if got := len(reply.GetParameterAssignments()); got != n {
		t.Fatalf("%d assignments, want %d: %v", got, n, reply)
	}
	space, err := searchspace.Parse(exp.GetExperimentSpec().GetParameterSpecs().GetParameters())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tr := range history {
		pt, err := space.ParseAssignments(tr.GetSpec().GetParameterAssignments().GetAssignments())
		if err != nil {
			t.Fatal(err)
		}
		seen[space.Key(pt)] = true
	}
	for _, a := range reply.GetParameterAssignments() {
		pt, err := space.ParseAssignments(a.GetAssignments())
		if err != nil {
			t.Fatalf("assignment %v: %v", a, err)
		}
		if !space.Contains(pt) {
			t.Errorf("assignment %v is outside the feasible space", a)
		}
		for i, f := range space.Format(pt) {
			if got := a.GetAssignments()[i]; got.GetName() != f.GetName() || got.GetValue() != f.GetValue() {
				t.Errorf("assignment %s=%q, want it written as the Go functions do: %s=%q", got.GetName(), got.GetValue(), f.GetName(), f.GetValue())
			}
		}
		if k := space.Key(pt); seen[k] {
			t.Errorf("assignment %v twice, or already in the history", a)
		} else {
			seen[k] = true
		}
	}
}

// trialsOf turns a reply into trials, as the controller records them.
func trialsOf(reply *pb.GetSuggestionsReply, first int, condition pb.TrialCondition) []*pb.Trial {
	var out []*pb.Trial
	for i, a := range reply.GetParameterAssignments() {
		tr := &pb.Trial{
			Name:   fmt.Sprintf("t%d", first+i),
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
			Status: &pb.TrialStatus{Condition: condition},
		}
		if condition == pb.TrialCondition_SUCCEEDED || condition == pb.TrialCondition_EARLY_STOPPED {
			tr.Status.Observation = &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: fmt.Sprint(0.5 + 0.01*float64(i))}}}
		}
		out = append(out, tr)
	}
	return out
}

// post sends a raw HTTP request to the function and returns the reply.
func post(t *testing.T, url string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// checkReplyEvent checks the attributes of a binary-mode reply event, which
// is how the function answers in either mode.
func checkReplyEvent(t *testing.T, resp *http.Response, wantType, wantContentType, requestID, subject string) {
	t.Helper()
	h := resp.Header
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	checks := []struct{ name, got, want string }{
		{"ce-type", h.Get("ce-type"), wantType},
		{"ce-specversion", h.Get("ce-specversion"), "1.0"},
		{"content-type", h.Get("content-type"), wantContentType},
		{"ce-knobsrequestid", h.Get("ce-knobsrequestid"), requestID},
		{"ce-subject", h.Get("ce-subject"), subject},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("reply header %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if h.Get("ce-id") == "" || h.Get("ce-source") == "" || h.Get("ce-time") == "" {
		t.Errorf("reply lacks ce-id, ce-source or ce-time: %v", h)
	}
}

func TestPythonFunction(t *testing.T) {
	p := start(t)
	exp := experiment()
	req := &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 3}
	validate := &pb.ValidateAlgorithmSettingsRequest{Experiment: exp}

	t.Run("healthz and methods", func(t *testing.T) {
		resp, err := http.Get(p.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
			t.Errorf("GET /healthz: %d %q, want 200 \"ok\\n\"", resp.StatusCode, body)
		}
		resp, err = http.Get(p.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost || resp.Header.Get("ce-type") != function.TypeError {
			t.Errorf("GET /: %d, Allow %q, ce-type %q; want 405, POST, %s", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("ce-type"), function.TypeError)
		}
	})

	t.Run("cloudevents CLI", func(t *testing.T) {
		for _, mode := range []string{"binary", "structured"} {
			id := "cli-" + mode
			out, ok := fnproc.CLI(t, p.URL, "--mode", mode, "--id", id, "--source", "test/pyfunction",
				"--type", function.TypeSuggestionRequest, "--subject", exp.GetName(),
				"--datacontenttype", "application/json", "--data", requestJSON(t, req))
			if !ok {
				t.Fatalf("%s mode: %s", mode, out)
			}
			out, ok = fnproc.CLI(t, p.URL, "--mode", mode, "--id", id+"-validate", "--source", "test/pyfunction",
				"--type", function.TypeValidateRequest, "--datacontenttype", "application/json", "--data", requestJSON(t, validate))
			if !ok {
				t.Fatalf("%s mode, validate: %s", mode, out)
			}
		}
		// The function logged each event the CLI sent as answered (just
		// after answering, so give the last line a moment).
		for _, id := range []string{"cli-binary", "cli-structured", "cli-binary-validate", "cli-structured-validate"} {
			p.WaitLogged(t, id, "OK")
		}
	})

	t.Run("cloudevents CLI, bad input", func(t *testing.T) {
		badSpace := proto.Clone(req).(*pb.GetSuggestionsRequest)
		badSpace.Experiment.ExperimentSpec.ParameterSpecs.Parameters[1].FeasibleSpace.Min = "9"
		emptyList := proto.Clone(req).(*pb.GetSuggestionsRequest)
		emptyList.Experiment.ExperimentSpec.ParameterSpecs.Parameters[2].FeasibleSpace.List = nil
		unknownSetting := proto.Clone(req).(*pb.GetSuggestionsRequest)
		unknownSetting.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "randomstate", Value: "1"}}
		tooMany := proto.Clone(req).(*pb.GetSuggestionsRequest)
		tooMany.RequestNumber = 1 << 30
		cases := []struct{ name, typ, data string }{
			{"min above max", function.TypeSuggestionRequest, requestJSON(t, badSpace)},
			{"empty list", function.TypeSuggestionRequest, requestJSON(t, emptyList)},
			{"unknown setting", function.TypeSuggestionRequest, requestJSON(t, unknownSetting)},
			{"absurd request number", function.TypeSuggestionRequest, requestJSON(t, tooMany)},
			{"malformed JSON", function.TypeSuggestionRequest, `{"experiment": [`},
			{"empty data", function.TypeSuggestionRequest, ""},
			{"wrong event type", "com.example.unknown", requestJSON(t, req)},
		}
		for _, tc := range cases {
			for _, mode := range []string{"binary", "structured"} {
				if tc.name == "malformed JSON" && mode == "structured" {
					continue // the CLI cannot put malformed JSON in a structured event
				}
				out, ok := fnproc.CLI(t, p.URL, "--mode", mode, "--id", "bad", "--source", "test/pyfunction", "--type", tc.typ,
					"--datacontenttype", "application/json", "--data", tc.data)
				if ok || !strings.Contains(out, "400 Bad Request") {
					t.Errorf("%s, %s mode: want a 400, CLI said (ok=%v): %.300s", tc.name, mode, ok, out)
				}
			}
		}
	})

	t.Run("CloudEvents client, protobuf and JSON", func(t *testing.T) {
		for _, useJSON := range []bool{false, true} {
			c := &function.Client{JSON: useJSON}
			reply, err := c.GetSuggestions(context.Background(), p.URL, req)
			if err != nil {
				t.Fatalf("JSON=%v: %v", useJSON, err)
			}
			checkReply(t, exp, nil, reply, 3)
			if reply.GetSearchSpaceExhausted() || reply.GetAlgorithm().GetAlgorithmName() != "random" {
				t.Errorf("JSON=%v: exhausted %v, algorithm %q; want false, random", useJSON, reply.GetSearchSpaceExhausted(), reply.GetAlgorithm().GetAlgorithmName())
			}
			if err := c.ValidateAlgorithmSettings(context.Background(), p.URL, validate); err != nil {
				t.Fatalf("JSON=%v: validate: %v", useJSON, err)
			}
		}
	})

	t.Run("structured mode, protobuf and JSON", func(t *testing.T) {
		raw, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		envelope := map[string]any{
			"specversion": "1.0", "id": "structured-pb", "source": "test/pyfunction", "subject": exp.GetName(),
			"type": function.TypeSuggestionRequest, "datacontenttype": function.ContentTypeProtobuf,
			"data_base64": base64.StdEncoding.EncodeToString(raw),
		}
		body, _ := json.Marshal(envelope)
		header := http.Header{"Content-Type": {"application/cloudevents+json; charset=utf-8"}}
		resp, data := post(t, p.URL, header, body)
		checkReplyEvent(t, resp, function.TypeSuggestionReply, function.ContentTypeProtobuf, "structured-pb", exp.GetName())
		pbReply := &pb.GetSuggestionsReply{}
		if err := proto.Unmarshal(data, pbReply); err != nil {
			t.Fatalf("reply is not binary protobuf: %v", err)
		}
		checkReply(t, exp, nil, pbReply, 3)

		delete(envelope, "data_base64")
		envelope["id"], envelope["datacontenttype"] = "structured-json", function.ContentTypeJSON
		envelope["data"] = json.RawMessage(requestJSON(t, req))
		body, _ = json.Marshal(envelope)
		resp, data = post(t, p.URL, header, body)
		checkReplyEvent(t, resp, function.TypeSuggestionReply, function.ContentTypeJSON, "structured-json", exp.GetName())
		jsonReply := &pb.GetSuggestionsReply{}
		if err := protojson.Unmarshal(data, jsonReply); err != nil {
			t.Fatalf("reply is not protobuf JSON: %v\n%s", err, data)
		}
		// The same request in either encoding gives the same reply.
		if !proto.Equal(pbReply, jsonReply) {
			t.Errorf("protobuf and JSON replies differ:\n%v\n%v", pbReply, jsonReply)
		}

		// Validation in binary mode with binary protobuf: an empty reply.
		raw, _ = proto.Marshal(validate)
		header = http.Header{
			"Ce-Specversion": {"1.0"}, "Ce-Id": {"validate-pb"}, "Ce-Source": {"test/pyfunction"},
			"Ce-Type": {function.TypeValidateRequest}, "Content-Type": {function.ContentTypeProtobuf},
		}
		resp, data = post(t, p.URL, header, raw)
		checkReplyEvent(t, resp, function.TypeValidateReply, function.ContentTypeProtobuf, "validate-pb", "")
		if len(data) != 0 {
			t.Errorf("validate reply has %d bytes, want an empty message", len(data))
		}
	})

	t.Run("every parameter type and distribution", func(t *testing.T) {
		exp := newExperiment("python-spaces",
			&pb.ParameterSpec{Name: "uniform", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "-1.5", Max: "2.5", Distribution: pb.Distribution_UNIFORM}},
			&pb.ParameterSpec{Name: "log", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "1e-5", Max: "1e-1", Distribution: pb.Distribution_LOG_UNIFORM}},
			&pb.ParameterSpec{Name: "normal", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "10", Distribution: pb.Distribution_NORMAL}},
			&pb.ParameterSpec{Name: "lognormal", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.001", Max: "1000", Distribution: pb.Distribution_LOG_NORMAL}},
			&pb.ParameterSpec{Name: "stepped", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03", Step: "0.005"}},
			&pb.ParameterSpec{Name: "int", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "-3", Max: "40", Step: "3"}},
			&pb.ParameterSpec{Name: "logint", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "1024", Distribution: pb.Distribution_LOG_UNIFORM}},
			&pb.ParameterSpec{Name: "discrete", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"0.10", "1", "-2.5", "1e3"}}},
			&pb.ParameterSpec{Name: "categorical", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
		)
		first := &pb.GetSuggestionsRequest{Experiment: exp, RequestNumber: 40}
		reply, err := (&function.Client{}).GetSuggestions(context.Background(), p.URL, first)
		if err != nil {
			t.Fatal(err)
		}
		checkReply(t, exp, nil, reply, 40)
		// A second batch, with the first as history in every condition.
		conditions := []pb.TrialCondition{pb.TrialCondition_PENDING, pb.TrialCondition_RUNNING, pb.TrialCondition_SUCCEEDED,
			pb.TrialCondition_FAILED, pb.TrialCondition_METRICS_UNAVAILABLE, pb.TrialCondition_EARLY_STOPPED, pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED}
		var history []*pb.Trial
		for i, tr := range trialsOf(reply, 0, pb.TrialCondition_SUCCEEDED) {
			tr.Status.Condition = conditions[i%len(conditions)]
			history = append(history, tr)
		}
		next := &pb.GetSuggestionsRequest{Experiment: exp, Trials: history, RequestNumber: 40}
		reply, err = (&function.Client{JSON: true}).GetSuggestions(context.Background(), p.URL, next)
		if err != nil {
			t.Fatal(err)
		}
		checkReply(t, exp, history, reply, 40)
	})

	t.Run("a finite space runs out", func(t *testing.T) {
		// 3 x 2 = 6 points, asked for 4 at a time.
		exp := newExperiment("python-tiny",
			&pb.ParameterSpec{Name: "n", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "3"}},
			&pb.ParameterSpec{Name: "c", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"a", "b"}}},
		)
		c := &function.Client{}
		var trials []*pb.Trial
		wantLen := []int{4, 2, 0}
		wantExhausted := []bool{false, true, true}
		for call := range wantLen {
			req := &pb.GetSuggestionsRequest{Experiment: exp, Trials: trials, RequestNumber: 4}
			reply, err := c.GetSuggestions(context.Background(), p.URL, req)
			if err != nil {
				t.Fatalf("call %d: %v", call, err)
			}
			checkReply(t, exp, trials, reply, wantLen[call])
			if reply.GetSearchSpaceExhausted() != wantExhausted[call] {
				t.Fatalf("call %d: exhausted %v, want %v", call, reply.GetSearchSpaceExhausted(), wantExhausted[call])
			}
			trials = append(trials, trialsOf(reply, len(trials), pb.TrialCondition_RUNNING)...)
		}
		if len(trials) != 6 {
			t.Errorf("%d points handed out, want all 6", len(trials))
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		c := &function.Client{}
		seeded := proto.Clone(req).(*pb.GetSuggestionsRequest)
		seeded.RequestNumber = 5
		seeded.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "random_state", Value: "42"}}
		ask := func(r *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
			t.Helper()
			reply, err := c.GetSuggestions(context.Background(), p.URL, r)
			if err != nil {
				t.Fatal(err)
			}
			return reply
		}
		a, b := ask(seeded), ask(seeded)
		if !proto.Equal(a, b) {
			t.Errorf("the same request gave two replies:\n%v\n%v", a, b)
		}
		unseeded := proto.Clone(seeded).(*pb.GetSuggestionsRequest)
		unseeded.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = nil
		if x, y := ask(unseeded), ask(unseeded); !proto.Equal(x, y) {
			t.Errorf("the same request without a seed gave two replies:\n%v\n%v", x, y)
		}
		other := proto.Clone(seeded).(*pb.GetSuggestionsRequest)
		other.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings[0].Value = "43"
		if proto.Equal(a, ask(other)) {
			t.Error("random_state 42 and 43 gave the same reply")
		}
		next := proto.Clone(seeded).(*pb.GetSuggestionsRequest)
		next.Trials = trialsOf(a, 0, pb.TrialCondition_PENDING)
		n := ask(next)
		checkReply(t, exp, next.Trials, n, 5)
	})

	t.Run("errors are 400 naming the field", func(t *testing.T) {
		unknownSetting := proto.Clone(req).(*pb.GetSuggestionsRequest)
		unknownSetting.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "randomstate", Value: "1"}}
		badSeed := proto.Clone(req).(*pb.GetSuggestionsRequest)
		badSeed.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "random_state", Value: "-1"}}
		minAboveMax := proto.Clone(req).(*pb.GetSuggestionsRequest)
		minAboveMax.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace = &pb.FeasibleSpace{Min: "0.05", Max: "0.03"}
		noSpace := proto.Clone(req).(*pb.GetSuggestionsRequest)
		noSpace.Experiment.ExperimentSpec.ParameterSpecs.Parameters[1].FeasibleSpace = nil
		unknownType := proto.Clone(req).(*pb.GetSuggestionsRequest)
		unknownType.Experiment.ExperimentSpec.ParameterSpecs.Parameters[2].ParameterType = pb.ParameterType(9)
		zero := proto.Clone(req).(*pb.GetSuggestionsRequest)
		zero.RequestNumber = 0
		badTrial := proto.Clone(req).(*pb.GetSuggestionsRequest)
		badTrial.Trials = []*pb.Trial{{Name: "t3", Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
			{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "three"}, {Name: "--optimizer", Value: "sgd"}}}}}}
		cases := []struct {
			name string
			req  *pb.GetSuggestionsRequest
			want string
		}{
			{"unknown setting", unknownSetting, `experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "randomstate": this algorithm takes random_state`},
			{"bad seed", badSeed, `experiment.experimentSpec.algorithm.algorithmSettings[0]: random_state: "-1" is not an integer of at least 0`},
			{"min above max", minAboveMax, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace: min 0.05 is greater than max 0.03`},
			{"no feasible space", noSpace, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.min: missing`},
			{"unknown type", unknownType, `experiment.experimentSpec.parameterSpecs.parameters[2] ("--optimizer").parameterType: unknown parameter type 9`},
			{"no request number", zero, `requestNumber: 0 is out of range`},
			{"bad trial", badTrial, `trials[0] ("t3").spec.parameterAssignments.assignments[1]: parameter "--num-layers": "three" is not a number`},
		}
		for _, tc := range cases {
			for _, useJSON := range []bool{false, true} {
				_, err := (&function.Client{JSON: useJSON}).GetSuggestions(context.Background(), p.URL, tc.req)
				var ce *function.CallError
				if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || !ce.Permanent() || !strings.Contains(ce.Message, tc.want) {
					t.Errorf("%s, JSON=%v: got %v, want a 400 InvalidArgument saying %q", tc.name, useJSON, err, tc.want)
				}
			}
		}
		err := (&function.Client{}).ValidateAlgorithmSettings(context.Background(), p.URL, &pb.ValidateAlgorithmSettingsRequest{Experiment: unknownSetting.GetExperiment()})
		var ce *function.CallError
		if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || !strings.Contains(ce.Message, `unknown setting "randomstate"`) {
			t.Errorf("validate with an unknown setting: %v, want a 400 naming it", err)
		}

		// Data that is not the message it claims to be.
		header := http.Header{
			"Ce-Specversion": {"1.0"}, "Ce-Id": {"garbage"}, "Ce-Source": {"test/pyfunction"},
			"Ce-Type": {function.TypeSuggestionRequest}, "Content-Type": {function.ContentTypeProtobuf},
		}
		resp, data := post(t, p.URL, header, []byte{0x0a, 0xff, 0xff})
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("ce-type") != function.TypeError || !strings.Contains(string(data), "InvalidArgument") {
			t.Errorf("undecodable protobuf: %d %s %s, want a 400 dev.knobs.error", resp.StatusCode, resp.Header.Get("ce-type"), data)
		}
		resp, data = post(t, p.URL, http.Header{"Content-Type": {"application/json"}}, []byte(requestJSON(t, req)))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "not a CloudEvent") {
			t.Errorf("plain POST: %d %s, want a 400 saying it is not a CloudEvent", resp.StatusCode, data)
		}
	})

	t.Run("SIGTERM shuts down cleanly", func(t *testing.T) { p.Terminate(t) })
}
