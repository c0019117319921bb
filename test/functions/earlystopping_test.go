package functions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/earlystopping/earlystoppingtest"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/test/fnproc"
)

// earlyStoppingRequest is a request that each early-stopping function
// answers by stopping "losing" alone: three trials have succeeded with
// losses falling to 1, "winning" runs at 0.5 and "losing" at 9 after four
// steps of a minimised loss.
func earlyStoppingRequest(name string) *pb.GetEarlyStoppingDecisionsRequest {
	trials := []earlystoppingtest.Trial{
		earlystoppingtest.Succeeded("s1", 4, 3, 2, 1),
		earlystoppingtest.Succeeded("s2", 4, 3, 2, 1),
		earlystoppingtest.Succeeded("s3", 4, 3, 2, 1),
		earlystoppingtest.Running("winning", 3, 2, 1, 0.5),
		earlystoppingtest.Running("losing", 9, 9, 9, 9),
	}
	req := earlystoppingtest.Request(false, trials)
	req.EarlyStopping.AlgorithmName = name
	return req
}

func decided(t *testing.T, reply *pb.GetEarlyStoppingDecisionsReply) {
	t.Helper()
	d := reply.GetDecisions()
	if len(d) != 1 || d[0].GetTrialName() != "losing" || d[0].GetMessage() == "" {
		t.Fatalf("decisions %v, want trial losing alone, with a message", d)
	}
}

func TestEarlyStoppingFunctions(t *testing.T) {
	names := earlyStoppingNames(t)
	if len(names) < 2 {
		t.Fatalf("early-stopping functions %v, want medianstop and asha", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := start(t, name)
			req := earlyStoppingRequest(name)
			validate := &pb.ValidateEarlyStoppingSettingsRequest{EarlyStopping: req.GetEarlyStopping()}

			t.Run("cloudevents CLI", func(t *testing.T) {
				for _, mode := range []string{"binary", "structured"} {
					id := "es-cli-" + mode
					out, ok := fnproc.CLI(t, p.URL, "--mode", mode, "--id", id, "--source", "test/functions",
						"--type", function.TypeEarlyStoppingRequest, "--subject", "e",
						"--datacontenttype", "application/json", "--data", requestJSON(t, req))
					if !ok {
						t.Fatalf("%s mode: %s", mode, out)
					}
					out, ok = fnproc.CLI(t, p.URL, "--mode", mode, "--id", id+"-validate", "--source", "test/functions",
						"--type", function.TypeEarlyStoppingValidate, "--datacontenttype", "application/json", "--data", requestJSON(t, validate))
					if !ok {
						t.Fatalf("%s mode, validate: %s", mode, out)
					}
				}
				for _, id := range []string{"es-cli-binary", "es-cli-structured", "es-cli-binary-validate", "es-cli-structured-validate"} {
					p.WaitLogged(t, id, "OK")
				}
			})

			t.Run("cloudevents CLI, bad input", func(t *testing.T) {
				badSetting := proto.Clone(req).(*pb.GetEarlyStoppingDecisionsRequest)
				badSetting.EarlyStopping.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "patience", Value: "3"}}
				badCurve := proto.Clone(req).(*pb.GetEarlyStoppingDecisionsRequest)
				badCurve.Trials[4].Status.Observation.Metrics[0].Curve[2].Value = "Infinity"
				noMetric := proto.Clone(req).(*pb.GetEarlyStoppingDecisionsRequest)
				noMetric.Experiment.ExperimentSpec.Objective.ObjectiveMetricName = ""
				cases := []struct {
					name, typ, data string
					// req, when set, is sent by Knobs' client too, whose
					// error must say want.
					req  *pb.GetEarlyStoppingDecisionsRequest
					want string
				}{
					{"unknown setting", function.TypeEarlyStoppingRequest, requestJSON(t, badSetting), badSetting, `unknown setting "patience"`},
					{"a curve value not finite", function.TypeEarlyStoppingRequest, requestJSON(t, badCurve), badCurve, `"Infinity" is not a finite number`},
					{"no objective metric", function.TypeEarlyStoppingRequest, requestJSON(t, noMetric), noMetric, "objectiveMetricName: missing"},
					{"malformed JSON", function.TypeEarlyStoppingRequest, `{"trials": [`, nil, ""},
					{"a suggestion request", function.TypeSuggestionRequest, "{}", nil, ""},
				}
				for i, tc := range cases {
					id := fmt.Sprintf("es-bad-%d", i)
					out, ok := fnproc.CLI(t, p.URL, "--id", id, "--source", "test/functions", "--type", tc.typ,
						"--datacontenttype", "application/json", "--data", tc.data)
					if ok || !strings.Contains(out, "400 Bad Request") {
						t.Errorf("%s: want a 400, CLI said (ok=%v): %.300s", tc.name, ok, out)
					}
					p.WaitLogged(t, id, "InvalidArgument")
					if tc.req == nil {
						continue
					}
					_, err := (&function.Client{}).GetEarlyStoppingDecisions(context.Background(), p.URL, tc.req)
					var ce *function.CallError
					if !errors.As(err, &ce) || !ce.Permanent() || !strings.Contains(ce.Message, tc.want) {
						t.Errorf("%s: %v, want a refusal saying %q", tc.name, err, tc.want)
					}
				}
				p.Alive(t)
			})

			t.Run("CloudEvents client", func(t *testing.T) {
				for _, useJSON := range []bool{false, true} {
					c := &function.Client{JSON: useJSON}
					reply, err := c.GetEarlyStoppingDecisions(context.Background(), p.URL, req)
					if err != nil {
						t.Fatalf("JSON=%v: %v", useJSON, err)
					}
					decided(t, reply)
					if err := c.ValidateEarlyStoppingSettings(context.Background(), p.URL, validate); err != nil {
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
				ctx := context.Background()
				c := pb.NewEarlyStoppingClient(conn)
				reply, err := c.GetEarlyStoppingDecisions(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				decided(t, reply)
				if _, err := c.ValidateEarlyStoppingSettings(ctx, validate); err != nil {
					t.Fatal(err)
				}
				bad := proto.Clone(validate).(*pb.ValidateEarlyStoppingSettingsRequest)
				bad.EarlyStopping.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: bad.EarlyStopping.AlgorithmName, Value: "1"}}
				_, err = c.ValidateEarlyStoppingSettings(ctx, bad)
				if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "earlyStopping.algorithmSettings[0]") {
					t.Errorf("bad setting: %v, want InvalidArgument naming it", err)
				}
				// The Suggestion API is not served here.
				_, err = pb.NewSuggestionClient(conn).GetSuggestions(ctx, &pb.GetSuggestionsRequest{})
				if status.Code(err) != codes.Unimplemented {
					t.Errorf("GetSuggestions: %v, want Unimplemented", err)
				}
			})

			t.Run("SIGTERM shuts down cleanly", func(t *testing.T) { p.Terminate(t) })
		})
	}
}
