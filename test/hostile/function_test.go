package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/test/fnproc"
)

// request is a valid request of three suggestions with one trial done.
func request() *pb.GetSuggestionsRequest {
	return &pb.GetSuggestionsRequest{
		Experiment:    experiment(),
		RequestNumber: 3,
		Trials: []*pb.Trial{{
			Name: "t1",
			Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
				{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "3"}, {Name: "--optimizer", Value: "sgd"},
			}}},
			Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "accuracy", Value: "0.5"}}}},
		}},
	}
}

func params(r *pb.GetSuggestionsRequest) []*pb.ParameterSpec {
	return r.Experiment.ExperimentSpec.ParameterSpecs.Parameters
}

func assignments(r *pb.GetSuggestionsRequest) []*pb.ParameterAssignment {
	return r.Trials[0].Spec.ParameterAssignments.Assignments
}

func settings(kv ...string) func(*pb.GetSuggestionsRequest) {
	return func(r *pb.GetSuggestionsRequest) {
		for i := 0; i+1 < len(kv); i += 2 {
			r.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = append(r.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings,
				&pb.AlgorithmSetting{Name: kv[i], Value: kv[i+1]})
		}
	}
}

// contentCase is a request that decodes but is wrong: a caller's mistake
// in the search space, the settings, the history or the count, answered
// 400 and INVALID_ARGUMENT with a message naming the field.
type contentCase struct {
	name   string
	mutate func(*pb.GetSuggestionsRequest)
	want   string
}

func contentCases() []contentCase {
	return []contentCase{
		{"no experiment", func(r *pb.GetSuggestionsRequest) { r.Experiment = nil }, "experiment: missing"},
		{"no experiment spec", func(r *pb.GetSuggestionsRequest) { r.Experiment.ExperimentSpec = nil }, `experiment: missing: the request needs the experiment with its experimentSpec`},
		{"request number zero", func(r *pb.GetSuggestionsRequest) { r.RequestNumber = 0 }, "requestNumber: 0 is out of range"},
		{"request number negative", func(r *pb.GetSuggestionsRequest) { r.RequestNumber = -1 }, "requestNumber: -1 is out of range"},
		{"request number above the bound", func(r *pb.GetSuggestionsRequest) { r.RequestNumber = 10001 }, "ask for 1 to 10000 suggestions"},
		{"request number the largest int32", func(r *pb.GetSuggestionsRequest) { r.RequestNumber = 1<<31 - 1 }, "ask for 1 to 10000 suggestions"},
		{"no parameters", func(r *pb.GetSuggestionsRequest) { r.Experiment.ExperimentSpec.ParameterSpecs = nil }, `experiment.experimentSpec.parameterSpecs.parameters: no parameters: give at least one, each with a name, a parameterType and a feasibleSpace`},
		{"empty parameter list", func(r *pb.GetSuggestionsRequest) { r.Experiment.ExperimentSpec.ParameterSpecs.Parameters = nil }, `experiment.experimentSpec.parameterSpecs.parameters: no parameters: give at least one, each with a name, a parameterType and a feasibleSpace`},
		{"nil parameter", func(r *pb.GetSuggestionsRequest) {
			r.Experiment.ExperimentSpec.ParameterSpecs.Parameters = append(params(r), nil)
		}, `experiment.experimentSpec.parameterSpecs.parameters[3].name: missing name`},
		{"parameter without a name", func(r *pb.GetSuggestionsRequest) { params(r)[0].Name = "" }, `experiment.experimentSpec.parameterSpecs.parameters[0].name: missing name`},
		{"parameter named twice", func(r *pb.GetSuggestionsRequest) { params(r)[1].Name = "--lr" }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--lr").name: duplicate name: parameters[0] has the same name`},
		{"parameter type unknown", func(r *pb.GetSuggestionsRequest) { params(r)[1].ParameterType = pb.ParameterType_UNKNOWN_TYPE }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").parameterType: missing or unknown parameter type: use DOUBLE, INT, DISCRETE or CATEGORICAL`},
		{"parameter type out of the enum", func(r *pb.GetSuggestionsRequest) { params(r)[1].ParameterType = 42 }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").parameterType: unknown parameter type 42: use DOUBLE, INT, DISCRETE or CATEGORICAL`},
		{"no feasible space", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace = nil }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min: missing: a double parameter needs min and max`},
		{"double min above max", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Min = "0.05" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace: min 0.05 is greater than max 0.03`},
		{"double min not a number", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Min = "low" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min: "low" is not a number`},
		{"double max missing", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Max = "" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.max: missing: a double parameter needs min and max`},
		{"double min NaN", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Min = "NaN" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min: "NaN" is not a finite number`},
		{"double max infinite", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Max = "+Inf" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.max: "+Inf" is not a finite number`},
		{"double max beyond float64", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Max = "1e400" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.max: "1e400" is not a number`},
		{"double with a list", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.List = []string{"0.01"} }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.list: a double parameter takes min and max, not a list (use discrete or categorical for a list)`},
		{"double step negative", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Step = "-0.01" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.step: -0.01 must be above 0`},
		{"double step not a number", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Step = "small" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.step: "small" is not a number`},
		{"double step zero", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Step = "0" }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.step: 0 must be above 0`},
		{"log-uniform from zero", func(r *pb.GetSuggestionsRequest) {
			params(r)[0].FeasibleSpace.Min = "0"
			params(r)[0].FeasibleSpace.Distribution = pb.Distribution_LOG_UNIFORM
		}, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min: 0 must be above 0 for the logUniform distribution`},
		{"log-uniform below zero", func(r *pb.GetSuggestionsRequest) {
			params(r)[0].FeasibleSpace.Min = "-1"
			params(r)[0].FeasibleSpace.Distribution = pb.Distribution_LOG_UNIFORM
		}, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min: -1 must be above 0 for the logUniform distribution`},
		{"distribution out of the enum", func(r *pb.GetSuggestionsRequest) { params(r)[0].FeasibleSpace.Distribution = 42 }, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.distribution: unknown distribution 42: use UNIFORM, LOG_UNIFORM, NORMAL or LOG_NORMAL`},
		{"int min a fraction", func(r *pb.GetSuggestionsRequest) { params(r)[1].FeasibleSpace.Min = "1.5" }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.min: "1.5" is not an integer`},
		{"int min above max", func(r *pb.GetSuggestionsRequest) { params(r)[1].FeasibleSpace.Min = "9" }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace: min 9 is greater than max 5`},
		{"int max beyond int64", func(r *pb.GetSuggestionsRequest) { params(r)[1].FeasibleSpace.Max = "99999999999999999999" }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace: int bounds must lie within ±9007199254740991, where every integer has an exact value`},
		{"int step a fraction", func(r *pb.GetSuggestionsRequest) { params(r)[1].FeasibleSpace.Step = "0.5" }, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.step: "0.5" is not an integer`},
		{"categorical empty list", func(r *pb.GetSuggestionsRequest) { params(r)[2].FeasibleSpace.List = nil }, `experiment.experimentSpec.parameterSpecs.parameters[2] ("--optimizer").feasibleSpace.list: empty list: a categorical parameter needs at least one value`},
		{"categorical value twice", func(r *pb.GetSuggestionsRequest) { params(r)[2].FeasibleSpace.List = []string{"sgd", "adam", "sgd"} }, `experiment.experimentSpec.parameterSpecs.parameters[2] ("--optimizer").feasibleSpace.list[2]: "sgd" repeats list[0]`},
		{"categorical with bounds", func(r *pb.GetSuggestionsRequest) { params(r)[2].FeasibleSpace.Min = "1" }, `experiment.experimentSpec.parameterSpecs.parameters[2] ("--optimizer").feasibleSpace.min: a categorical parameter takes its values from list, not min`},
		{"discrete value not a number", func(r *pb.GetSuggestionsRequest) {
			params(r)[1].ParameterType = pb.ParameterType_DISCRETE
			params(r)[1].FeasibleSpace = &pb.FeasibleSpace{List: []string{"2", "four"}}
		}, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.list[1]: "four" is not a number: a discrete parameter lists numbers (use categorical for strings)`},
		{"discrete empty list", func(r *pb.GetSuggestionsRequest) {
			params(r)[1].ParameterType = pb.ParameterType_DISCRETE
			params(r)[1].FeasibleSpace = &pb.FeasibleSpace{}
		}, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.list: empty list: a discrete parameter needs at least one value`},
		{"discrete value twice", func(r *pb.GetSuggestionsRequest) {
			params(r)[1].ParameterType = pb.ParameterType_DISCRETE
			params(r)[1].FeasibleSpace = &pb.FeasibleSpace{List: []string{"2", "2.0"}}
		}, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.list[1]: "2.0" is the same number as list[0]`},
		{"discrete value infinite", func(r *pb.GetSuggestionsRequest) {
			params(r)[1].ParameterType = pb.ParameterType_DISCRETE
			params(r)[1].FeasibleSpace = &pb.FeasibleSpace{List: []string{"2", "Inf"}}
		}, `experiment.experimentSpec.parameterSpecs.parameters[1] ("--num-layers").feasibleSpace.list[1]: "Inf" is not a finite number: a discrete parameter lists numbers (use categorical for strings)`},
		{"unknown setting", settings("randomstate", "1"), `experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "randomstate": this algorithm takes random_state`},
		{"random_state not a number", settings("random_state", "seven"), `experiment.experimentSpec.algorithm.algorithmSettings[0]: random_state: "seven" is not an integer of at least 0`},
		{"random_state a fraction", settings("random_state", "1.5"), `experiment.experimentSpec.algorithm.algorithmSettings[0]: random_state: "1.5" is not an integer of at least 0`},
		{"random_state beyond int64", settings("random_state", "99999999999999999999"), `experiment.experimentSpec.algorithm.algorithmSettings[0]: random_state: "99999999999999999999" is not an integer of at least 0`},
		{"setting without a name", settings("", "1"), `experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "": this algorithm takes random_state`},
		{"trial without a spec", func(r *pb.GetSuggestionsRequest) { r.Trials[0].Spec = nil }, `trials[0] ("t1").spec.parameterAssignments.assignments: parameter "--lr" is not assigned`},
		{"nil trial", func(r *pb.GetSuggestionsRequest) { r.Trials = append(r.Trials, nil) }, `trials[1].spec.parameterAssignments.assignments: parameter "--lr" is not assigned`},
		{"trial missing a parameter", func(r *pb.GetSuggestionsRequest) {
			r.Trials[0].Spec.ParameterAssignments.Assignments = assignments(r)[:2]
		}, `trials[0] ("t1").spec.parameterAssignments.assignments: parameter "--optimizer" is not assigned`},
		{"trial with an unknown parameter", func(r *pb.GetSuggestionsRequest) {
			r.Trials[0].Spec.ParameterAssignments.Assignments = append(assignments(r), &pb.ParameterAssignment{Name: "--momentum", Value: "0.9"})
		}, `trials[0] ("t1").spec.parameterAssignments.assignments[3]: unknown parameter "--momentum"`},
		{"trial with a parameter twice", func(r *pb.GetSuggestionsRequest) {
			r.Trials[0].Spec.ParameterAssignments.Assignments = append(assignments(r), &pb.ParameterAssignment{Name: "--lr", Value: "0.02"})
		}, `trials[0] ("t1").spec.parameterAssignments.assignments[3]: parameter "--lr" is assigned twice`},
		{"trial value not a number", func(r *pb.GetSuggestionsRequest) { assignments(r)[0].Value = "fast" }, `trials[0] ("t1").spec.parameterAssignments.assignments[0]: parameter "--lr": "fast" is not a number`},
		{"trial value NaN", func(r *pb.GetSuggestionsRequest) { assignments(r)[0].Value = "NaN" }, `trials[0] ("t1").spec.parameterAssignments.assignments[0]: parameter "--lr": "NaN" is not a finite number`},
		{"trial int value a fraction", func(r *pb.GetSuggestionsRequest) { assignments(r)[1].Value = "2.5" }, `trials[0] ("t1").spec.parameterAssignments.assignments[1]: parameter "--num-layers": "2.5" is not an integer`},
		{"trial category not in the list", func(r *pb.GetSuggestionsRequest) { assignments(r)[2].Value = "rmsprop" }, `trials[0] ("t1").spec.parameterAssignments.assignments[2]: parameter "--optimizer": "rmsprop" is not one of ["sgd", "adam", "ftrl"]`},
		{"trial metric not a number", func(r *pb.GetSuggestionsRequest) { r.Trials[0].Status.Observation.Metrics[0].Value = "good" }, `trials[0] ("t1").status.observation: metric "accuracy": "good" is not a finite number`},
		{"trial metric NaN", func(r *pb.GetSuggestionsRequest) { r.Trials[0].Status.Observation.Metrics[0].Value = "NaN" }, `trials[0] ("t1").status.observation: metric "accuracy": "NaN" is not a finite number`},
		{"trial metric infinite", func(r *pb.GetSuggestionsRequest) { r.Trials[0].Status.Observation.Metrics[0].Value = "-Inf" }, `trials[0] ("t1").status.observation: metric "accuracy": "-Inf" is not a finite number`},
		{"trial metric beyond float64", func(r *pb.GetSuggestionsRequest) { r.Trials[0].Status.Observation.Metrics[0].Value = "1e999" }, `trials[0] ("t1").status.observation: metric "accuracy": "1e999" is not a finite number`},
		{"objective type out of the enum", func(r *pb.GetSuggestionsRequest) { r.Experiment.ExperimentSpec.Objective.Type = 42 }, `experiment.experimentSpec.objective.type: unknown objective type 42: use MINIMIZE or MAXIMIZE`},
	}
}

// sendEvent posts a binary-mode CloudEvent and returns the status and the
// message of the dev.knobs.error reply.
func sendEvent(t *testing.T, url, typ, contentType string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "hostile-1")
	req.Header.Set("ce-source", "hostile")
	req.Header.Set("ce-type", typ)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			if v != "" {
				req.Header.Add(k, v)
			}
		}
	}
	return roundTrip(t, req)
}

func roundTrip(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var d function.ErrorData
	if err := json.Unmarshal(body, &d); err != nil || d.Message == "" {
		return resp.StatusCode, string(body)
	}
	return resp.StatusCode, d.Code + ": " + d.Message
}

func grpcConn(t *testing.T, p *fnproc.Proc) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// counted counts the bad inputs a test sent, for the suite's total.
var counted = map[string]int{}

// TestBadContent sends every content mistake as a CloudEvent (protobuf
// JSON) and over gRPC.
func TestBadContent(t *testing.T) {
	p := startRandom(t)
	client := pb.NewSuggestionClient(grpcConn(t, p))
	for _, tc := range contentCases() {
		req := request()
		tc.mutate(req)
		t.Run(tc.name, func(t *testing.T) {
			data, err := protojson.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			code, msg := sendEvent(t, p.URL, function.TypeSuggestionRequest, function.ContentTypeJSON, data, nil)
			if code != http.StatusBadRequest || !strings.HasPrefix(msg, "InvalidArgument: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("CloudEvent: %d %q, want 400 InvalidArgument with %q", code, msg, tc.want)
			}
			p.Alive(t)
			_, err = client.GetSuggestions(context.Background(), req)
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), tc.want) || tc.want == "" {
				t.Errorf("gRPC: %v, want InvalidArgument with %q", err, tc.want)
			}
			p.Alive(t)
		})
		counted["content"] += 2
	}
}

// eventCase is a request that is not a valid CloudEvent of the contract,
// or whose data does not decode.
type eventCase struct {
	name        string
	method      string // POST if empty
	typ         string // dev.knobs.suggestion.request if empty
	contentType string
	header      http.Header // set over the binary-mode headers; "" deletes
	body        []byte
	status      int
	want        string
}

func eventCases(t *testing.T) []eventCase {
	valid, err := protojson.Marshal(request())
	if err != nil {
		t.Fatal(err)
	}
	binary, err := proto.Marshal(request())
	if err != nil {
		t.Fatal(err)
	}
	const js = function.ContentTypeJSON
	deep := strings.Repeat(`{"experiment":`, 20000) + "{}" + strings.Repeat("}", 20000)
	return []eventCase{
		{name: "GET", method: http.MethodGet, status: 405, want: "method GET: send CloudEvents with POST"},
		{name: "PUT", method: http.MethodPut, contentType: js, body: valid, status: 405, want: "method PUT: send CloudEvents with POST"},
		{name: "DELETE", method: http.MethodDelete, status: 405, want: "method DELETE: send CloudEvents with POST"},
		{name: "PATCH", method: http.MethodPatch, contentType: js, body: valid, status: 405, want: "method PATCH: send CloudEvents with POST"},
		{name: "plain JSON, no CloudEvent headers", contentType: js, body: valid, header: http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}}, status: 400, want: "not a CloudEvent: send binary mode (ce-specversion, ce-type, ce-source and ce-id headers)"},
		{name: "no id", contentType: js, body: valid, header: http.Header{"Ce-Id": {""}}, status: 400, want: "not a valid CloudEvent: id: MUST be a non-empty string"},
		{name: "no source", contentType: js, body: valid, header: http.Header{"Ce-Source": {""}}, status: 400, want: "not a valid CloudEvent: source: REQUIRED"},
		{name: "no type", contentType: js, body: valid, header: http.Header{"Ce-Type": {""}}, status: 400, want: "not a valid CloudEvent: type: MUST be a non-empty string"},
		{name: "spec version 0.1", contentType: js, body: valid, header: http.Header{"Ce-Specversion": {"0.1"}}, status: 400, want: "not a CloudEvent: send binary mode (ce-specversion"},
		{name: "spec version 2.0", contentType: js, body: valid, header: http.Header{"Ce-Specversion": {"2.0"}}, status: 400, want: "not a CloudEvent: send binary mode (ce-specversion"},
		{name: "unknown event type", typ: "com.example.other", contentType: js, body: valid, status: 400, want: "event type \"com.example.other\": send dev.knobs.suggestion.request or dev.knobs.algorithmsettings.validate"},
		{name: "reply type sent as a request", typ: function.TypeSuggestionReply, contentType: js, body: valid, status: 400, want: "event type \"dev.knobs.suggestion.reply\": send dev.knobs.suggestion.request"},
		{name: "error type sent as a request", typ: function.TypeError, contentType: js, body: valid, status: 400, want: "event type \"dev.knobs.error\": send dev.knobs.suggestion.request"},
		{name: "text/plain data", contentType: "text/plain", body: valid, status: 400, want: "datacontenttype \"text/plain\": send application/json (protobuf JSON) or application/protobuf (binary protobuf)"},
		{name: "malformed content type", contentType: "application/json; charset", body: valid, status: 400, want: "not a valid CloudEvent: datacontenttype: failed to parse RFC 2046 media type"},
		{name: "XML data", contentType: "application/xml", body: []byte("<request/>"), status: 400, want: "datacontenttype \"application/xml\": send application/json"},
		{name: "empty JSON body", contentType: js, status: 400, want: "event has no data: send a GetSuggestionsRequest as application/json"},
		{name: "truncated JSON", contentType: js, body: valid[:len(valid)/2], status: 400, want: "data is not a GetSuggestionsRequest in application/json:"},
		{name: "JSON array", contentType: js, body: []byte(`[1, 2]`), status: 400, want: "unexpected token ["},
		{name: "JSON string", contentType: js, body: []byte(`"request"`), status: 400, want: "unexpected token \"request\""},
		{name: "JSON null", contentType: js, body: []byte(`null`), status: 400, want: "unexpected token null"},
		{name: "request number a string", contentType: js, body: []byte(`{"requestNumber": "three"}`), status: 400, want: "invalid value for int32 field requestNumber: \"three\""},
		{name: "request number beyond int32", contentType: js, body: []byte(`{"requestNumber": 1e10}`), status: 400, want: "invalid value for int32 field requestNumber: 1e10"},
		{name: "unknown enum name", contentType: js, body: []byte(`{"experiment": {"experimentSpec": {"parameterSpecs": {"parameters": [{"name": "x", "parameterType": "FLOAT"}]}}}, "requestNumber": 1}`), status: 400, want: "parameters[0] (\"x\").parameterType: missing or unknown parameter type"},
		{name: "JSON nested 20000 deep", contentType: js, body: []byte(deep), status: 400, want: "exceeded max recursion depth"},
		{name: "invalid UTF-8 in JSON", contentType: js, body: []byte("{\"experiment\": {\"name\": \"\xff\xfe\"}}"), status: 400, want: "invalid UTF-8 in string"},
		{name: "binary protobuf garbage", contentType: function.ContentTypeProtobuf, body: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, status: 400, want: "data is not a GetSuggestionsRequest in application/protobuf:"},
		{name: "binary protobuf truncated", contentType: function.ContentTypeProtobuf, body: binary[:len(binary)-3], status: 400, want: "data is not a GetSuggestionsRequest in application/protobuf:"},
		{name: "binary protobuf of nothing", contentType: function.ContentTypeProtobuf, status: 400, want: "requestNumber: 0 is out of range: ask for 1 to 10000 suggestions"},
		{name: "validate with no data", typ: function.TypeValidateRequest, contentType: js, status: 400, want: "event has no data: send a ValidateAlgorithmSettingsRequest"},
		{name: "validate with a bad space", typ: function.TypeValidateRequest, contentType: js,
			body: []byte(`{"experiment": {"experimentSpec": {"parameterSpecs": {"parameters": [{"name": "x", "parameterType": "DOUBLE", "feasibleSpace": {"min": "2", "max": "1"}}]}}}}`), status: 400, want: "parameters[0] (\"x\").feasibleSpace: min 2 is greater than max 1"},
		{name: "structured mode, not JSON", contentType: "application/cloudevents+json", body: []byte("{"), header: http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}}, status: 400, want: "not a valid CloudEvent: unexpected end of JSON input"},
		{name: "structured mode without an id", contentType: "application/cloudevents+json", header: http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}},
			body: []byte(`{"specversion": "1.0", "source": "s", "type": "dev.knobs.suggestion.request", "data": {}}`), status: 400, want: "not a valid CloudEvent: id: MUST be a non-empty string"},
		{name: "structured mode, bad base64", contentType: "application/cloudevents+json", header: http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}},
			body: []byte(`{"specversion": "1.0", "id": "1", "source": "s", "type": "dev.knobs.suggestion.request", "datacontenttype": "application/protobuf", "data_base64": "!!!"}`), status: 400, want: "not a valid CloudEvent: illegal base64 data"},
		{name: "a batch", contentType: "application/cloudevents-batch+json", header: http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}},
			body: []byte(`[{"specversion": "1.0", "id": "1", "source": "s", "type": "dev.knobs.suggestion.request"}]`), status: 400, want: "not a valid CloudEvent: not supported for batch events"},
		{name: "body over 32 MiB", contentType: function.ContentTypeProtobuf, body: make([]byte, function.DefaultMaxRequestBytes+1), status: 413, want: "request body over 33554432 bytes: send fewer trials, or raise the function's limit with KNOBS_MAX_REQUEST_BYTES"},
	}
}

// TestBadEvents sends requests that break the CloudEvents binding or
// whose data does not decode.
func TestBadEvents(t *testing.T) {
	p := startRandom(t)
	for _, tc := range eventCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			typ := tc.typ
			if typ == "" {
				typ = function.TypeSuggestionRequest
			}
			req, err := http.NewRequest(method, p.URL, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"hostile-1"}, "Ce-Source": {"hostile"}, "Ce-Type": {typ}}
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			for k, vs := range tc.header {
				h.Del(k)
				for _, v := range vs {
					if v != "" {
						h.Add(k, v)
					}
				}
			}
			req.Header = h
			code, msg := roundTrip(t, req)
			if code != tc.status || !strings.Contains(msg, tc.want) || tc.want == "" {
				t.Errorf("%d %q, want %d with %q", code, msg, tc.status, tc.want)
			}
			p.Alive(t)
		})
	}
}

// TestSuiteSize counts the distinct bad inputs of the suite: each content
// mistake is sent over both transports.
func TestSuiteSize(t *testing.T) {
	content, events, calls, reports := 2*len(contentCases()), len(eventCases(t)), len(grpcCases(t))+len(frameCases()), len(receiverCases())
	total := content + events + calls + reports
	t.Logf("%d bad inputs: %d content mistakes over CloudEvents and gRPC, %d CloudEvents, %d gRPC calls, %d reports to the receiver", total, content, events, calls, reports)
	if total < 100 {
		t.Errorf("%d bad inputs, want at least 100", total)
	}
}
