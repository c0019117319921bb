// Package functions tests each function as users run it: the real binary,
// started as a process on a free port, called over real sockets with the
// cloudevents CLI (github.com/cloudevents/conformance), with Knobs'
// CloudEvents client and with gRPC.
//
// The CLI comes from hack/install-tools.sh (into .bin/), or from the folder
// in $KNOBS_TOOLS_BIN.
package functions

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/contract"
	esregistry "knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/test/fnproc"
)

// binDir holds the function binaries built for this run.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := fnproc.CLIPath(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir, err = os.MkdirTemp("", "knobs-functions-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	build := exec.Command("go", "build", "-o", binDir+"/", "./functions/...", "./cmd/knobs-conformance")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the functions and knobs-conformance: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// start runs a function binary and waits until it answers /healthz.
func start(t *testing.T, name string) *fnproc.Proc {
	t.Helper()
	return fnproc.Start(t, name, exec.Command(filepath.Join(binDir, name)))
}

// experiment is the experiment of the Katib Suggestion design, as each
// function takes it: grid needs a step for --lr; Hyperband and BOHB need a
// budget parameter and its settings.
func experiment(algorithm string) *pb.Experiment {
	lr := &pb.FeasibleSpace{Min: "0.01", Max: "0.03"}
	needs := registry.MustLookup(algorithm).Needs
	if needs.FiniteSpace {
		lr.Step = "0.005"
	}
	params := []*pb.ParameterSpec{
		{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: lr},
		{Name: "--num-layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"}},
		{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
	}
	var settings []*pb.AlgorithmSetting
	switch {
	case needs.Budget:
		params = append(params, &pb.ParameterSpec{Name: "--epochs", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "9"}})
		settings = []*pb.AlgorithmSetting{{Name: "resource_name", Value: "--epochs"}, {Name: "r_l", Value: "9"}, {Name: "eta", Value: "3"}}
	}
	return &pb.Experiment{
		Name: algorithm + "-experiment",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: algorithm, AlgorithmSettings: settings},
			Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: params},
		},
	}
}

// functionNames lists the search algorithms' functions: a folder each
// under functions/, named as in the registry.
func functionNames(t *testing.T) []string {
	t.Helper()
	names := folders(t, func(n string) bool { _, ok := registry.Lookup(n); return ok })
	if len(names) < 2 {
		t.Fatalf("found functions %v, want at least random and grid", names)
	}
	return names
}

// earlyStoppingNames lists the early-stopping algorithms' functions.
func earlyStoppingNames(t *testing.T) []string {
	t.Helper()
	return folders(t, func(n string) bool { _, ok := esregistry.Lookup(n); return ok })
}

// folders lists the folders of functions/ that keep says to, and fails on
// any folder that is in neither registry.
func folders(t *testing.T, keep func(string) bool) []string {
	t.Helper()
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		_, search := registry.Lookup(e.Name())
		_, stopping := esregistry.Lookup(e.Name())
		if !search && !stopping {
			t.Errorf("functions/%s serves no registered algorithm", e.Name())
		}
		if keep(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
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
// space: every parameter once, each value of its type and inside its
// feasible space, no assignment twice.
func checkReply(t *testing.T, exp *pb.Experiment, reply *pb.GetSuggestionsReply, n int) {
	t.Helper()
	if got := len(reply.GetParameterAssignments()); got != n {
		t.Fatalf("%d assignments, want %d: %v", got, n, reply)
	}
	space, err := searchspace.Parse(exp.GetExperimentSpec().GetParameterSpecs().GetParameters())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contract.CheckReply(space, nil, reply, n); err != nil {
		t.Fatal(err)
	}
}

func TestFunctions(t *testing.T) {
	for _, name := range functionNames(t) {
		t.Run(name, func(t *testing.T) {
			p := start(t, name)
			req := &pb.GetSuggestionsRequest{Experiment: experiment(name), RequestNumber: 3}
			validate := &pb.ValidateAlgorithmSettingsRequest{Experiment: experiment(name)}

			t.Run("cloudevents CLI", func(t *testing.T) {
				for _, mode := range []string{"binary", "structured"} {
					id := "cli-" + mode
					out, ok := fnproc.CLI(t, p.URL, "--mode", mode, "--id", id, "--source", "test/functions",
						"--type", function.TypeSuggestionRequest, "--subject", name+"-experiment",
						"--datacontenttype", "application/json", "--data", requestJSON(t, req))
					if !ok {
						t.Fatalf("%s mode: %s", mode, out)
					}
					out, ok = fnproc.CLI(t, p.URL, "--mode", mode, "--id", id+"-validate", "--source", "test/functions",
						"--type", function.TypeValidateRequest, "--datacontenttype", "application/json", "--data", requestJSON(t, validate))
					if !ok {
						t.Fatalf("%s mode, validate: %s", mode, out)
					}
				}
				// The function logged each event the CLI sent as answered. A
				// line is written once the reply has gone, so the last may
				// come a moment after the CLI returns.
				for _, id := range []string{"cli-binary", "cli-structured", "cli-binary-validate", "cli-structured-validate"} {
					p.WaitLogged(t, id, "OK")
				}
			})

			t.Run("cloudevents CLI, bad input", func(t *testing.T) {
				badSpace := proto.Clone(req).(*pb.GetSuggestionsRequest)
				badSpace.Experiment.ExperimentSpec.ParameterSpecs.Parameters[1].FeasibleSpace.Min = "9"
				emptyList := proto.Clone(req).(*pb.GetSuggestionsRequest)
				emptyList.Experiment.ExperimentSpec.ParameterSpecs.Parameters = append(emptyList.Experiment.ExperimentSpec.ParameterSpecs.Parameters,
					&pb.ParameterSpec{Name: "--extra", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{}})
				tooMany := proto.Clone(req).(*pb.GetSuggestionsRequest)
				tooMany.RequestNumber = 1 << 30
				cases := []struct{ name, typ, data string }{
					{"min above max", function.TypeSuggestionRequest, requestJSON(t, badSpace)},
					{"empty list", function.TypeSuggestionRequest, requestJSON(t, emptyList)},
					{"absurd request number", function.TypeSuggestionRequest, requestJSON(t, tooMany)},
					{"malformed JSON", function.TypeSuggestionRequest, `{"experiment": [`},
					{"empty data", function.TypeSuggestionRequest, ""},
					{"wrong event type", "com.example.unknown", requestJSON(t, req)},
				}
				for _, tc := range cases {
					out, ok := fnproc.CLI(t, p.URL, "--id", "bad", "--source", "test/functions", "--type", tc.typ,
						"--datacontenttype", "application/json", "--data", tc.data)
					if ok || !strings.Contains(out, "400 Bad Request") {
						t.Errorf("%s: want a 400, CLI said (ok=%v): %.300s", tc.name, ok, out)
					}
				}
				p.Alive(t)
			})

			t.Run("CloudEvents client", func(t *testing.T) {
				for _, useJSON := range []bool{false, true} {
					c := &function.Client{JSON: useJSON}
					reply, err := c.GetSuggestions(context.Background(), p.URL, req)
					if err != nil {
						t.Fatalf("JSON=%v: %v", useJSON, err)
					}
					checkReply(t, req.GetExperiment(), reply, 3)
					if err := c.ValidateAlgorithmSettings(context.Background(), p.URL, validate); err != nil {
						t.Fatalf("JSON=%v: validate: %v", useJSON, err)
					}
				}
			})

			t.Run("gRPC", func(t *testing.T) {
				conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				c := pb.NewSuggestionClient(conn)
				ctx := context.Background()
				reply, err := c.GetSuggestions(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				checkReply(t, req.GetExperiment(), reply, 3)
				if _, err := c.ValidateAlgorithmSettings(ctx, validate); err != nil {
					t.Fatal(err)
				}
				bad := proto.Clone(req).(*pb.GetSuggestionsRequest)
				bad.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Max = "high"
				_, err = c.GetSuggestions(ctx, bad)
				if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), `"high" is not a number`) {
					t.Errorf("bad bound: %v, want InvalidArgument naming it", err)
				}
			})

			t.Run("SIGTERM shuts down cleanly", func(t *testing.T) { p.Terminate(t) })
		})
	}
}

// TestGridUsesUpItsSpace walks the 60 points of the stepped design
// experiment over gRPC, feeding each reply back as trials as the controller
// does, and checks every point comes once and the end is reported.
func TestGridUsesUpItsSpace(t *testing.T) {
	p := start(t, "grid")
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewSuggestionClient(conn)
	req := &pb.GetSuggestionsRequest{Experiment: experiment("grid"), RequestNumber: 7}
	seen := map[string]bool{}
	for round := 0; round < 20; round++ {
		reply, err := c.GetSuggestions(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range reply.GetParameterAssignments() {
			k := fmt.Sprint(a.GetAssignments())
			if seen[k] {
				t.Fatalf("round %d: %s again", round, k)
			}
			seen[k] = true
			req.Trials = append(req.Trials, &pb.Trial{
				Name:   fmt.Sprintf("t%d", len(req.Trials)),
				Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
				Status: &pb.TrialStatus{Condition: pb.TrialCondition_RUNNING},
			})
		}
		if reply.GetSearchSpaceExhausted() {
			if len(seen) != 60 {
				t.Fatalf("exhausted after %d points, want 60", len(seen))
			}
			if got := len(reply.GetParameterAssignments()); got != 60%7 {
				t.Errorf("last reply has %d points, want %d", got, 60%7)
			}
			return
		}
		if len(reply.GetParameterAssignments()) != 7 {
			t.Fatalf("round %d: %d points without exhaustion, want 7", round, len(reply.GetParameterAssignments()))
		}
	}
	t.Fatalf("not exhausted after %d points", len(seen))
}

// The algorithms that carry state between calls (Hyperband's brackets, BOHB's,
// CMA-ES's generations) give the same sequence of suggestions whether the
// function process lives through the run or is restarted before every call:
// everything they remember travels in the request.
func TestRestartsChangeNothing(t *testing.T) {
	for _, name := range []string{"hyperband", "bohb", "cmaes"} {
		t.Run(name, func(t *testing.T) {
			steady := start(t, name)
			kept := loop(t, name, func() string { return steady.URL })
			restarted := loop(t, name, func() string {
				p := start(t, name)
				t.Cleanup(func() { _ = p.Cmd.Process.Kill() })
				return p.URL
			})
			if len(kept) != len(restarted) {
				t.Fatalf("%d replies with one process, %d with restarts", len(kept), len(restarted))
			}
			for i := range kept {
				if !proto.Equal(kept[i], restarted[i]) {
					t.Fatalf("reply %d differs after a restart:\n%v\n%v", i, kept[i], restarted[i])
				}
			}
			if len(kept[len(kept)-1].GetAlgorithm().GetAlgorithmSettings()) == 0 {
				t.Errorf("%s returned no state to carry; the test would prove nothing", name)
			}
		})
	}
}

// loop runs 8 calls of 2 suggestions as the controller does: every trial so
// far, completed with a loss computed from its values, and the state the
// function returned last overlaid on the settings.
func loop(t *testing.T, name string, url func() string) []*pb.GetSuggestionsReply {
	t.Helper()
	exp := experiment(name)
	base := exp.GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()
	var state []*pb.AlgorithmSetting
	var trials []*pb.Trial
	var replies []*pb.GetSuggestionsReply
	c := &function.Client{}
	for call := 0; call < 8; call++ {
		req := proto.Clone(&pb.GetSuggestionsRequest{Experiment: exp, Trials: trials, RequestNumber: 2}).(*pb.GetSuggestionsRequest)
		settings := append([]*pb.AlgorithmSetting{}, base...)
		settings = append(settings, &pb.AlgorithmSetting{Name: "random_state", Value: "11"})
		for _, s := range state {
			replaced := false
			for i := range settings {
				if settings[i].GetName() == s.GetName() {
					settings[i], replaced = s, true
				}
			}
			if !replaced {
				settings = append(settings, s)
			}
		}
		req.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = settings
		reply, err := c.GetSuggestions(context.Background(), url(), req)
		if err != nil {
			t.Fatalf("call %d: %v", call, err)
		}
		replies = append(replies, reply)
		state = reply.GetAlgorithm().GetAlgorithmSettings()
		for _, a := range reply.GetParameterAssignments() {
			loss := 0.0
			for _, pa := range a.GetAssignments() {
				var x float64
				if _, err := fmt.Sscan(pa.GetValue(), &x); err == nil {
					loss += (x - 3) * (x - 3)
				}
			}
			trials = append(trials, &pb.Trial{
				Name:   fmt.Sprintf("t%d", len(trials)),
				Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
				Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: fmt.Sprint(-loss)}}}},
			})
		}
	}
	return replies
}
