// Command suggest asks a Knobs function for suggestions and prints them.
//
//	suggest -url http://localhost:8080 -f examples/requests/random.json
//	suggest -url localhost:8080 -grpc -n 5 -f examples/requests/grid.json
//	suggest -url http://localhost:8080 -validate -f examples/requests/random.json
//
// The request file holds a GetSuggestionsRequest as protobuf JSON. Over
// CloudEvents it is sent as binary protobuf unless -json is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "suggest:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("suggest", flag.ContinueOnError)
	url := fs.String("url", "http://localhost:8080", "the function's URL (host:port with -grpc)")
	file := fs.String("f", "", "file holding a GetSuggestionsRequest as protobuf JSON (- for standard input)")
	n := fs.Int("n", 0, "request_number: overrides the file's")
	useGRPC := fs.Bool("grpc", false, "call over gRPC instead of CloudEvents")
	useJSON := fs.Bool("json", false, "send protobuf JSON instead of binary protobuf (CloudEvents)")
	validate := fs.Bool("validate", false, "only validate the experiment's algorithm settings")
	rounds := fs.Int("rounds", 1, "ask this many times, each time with the suggestions so far as pending trials; stops early when the space is exhausted")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("-f is required: the request file")
	}
	req, err := readRequest(*file)
	if err != nil {
		return err
	}
	if *n > 0 {
		req.RequestNumber = int32(*n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var call func(context.Context, *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error)
	var check func(context.Context, *pb.ValidateAlgorithmSettingsRequest) error
	if *useGRPC {
		conn, err := grpc.NewClient(strings.TrimPrefix(*url, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		c := pb.NewSuggestionClient(conn)
		call = func(ctx context.Context, r *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
			return c.GetSuggestions(ctx, r)
		}
		check = func(ctx context.Context, r *pb.ValidateAlgorithmSettingsRequest) error {
			_, err := c.ValidateAlgorithmSettings(ctx, r)
			return err
		}
	} else {
		c := &function.Client{JSON: *useJSON, Source: "knobs.dev/cmd/suggest"}
		call = func(ctx context.Context, r *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
			return c.GetSuggestions(ctx, *url, r)
		}
		check = func(ctx context.Context, r *pb.ValidateAlgorithmSettingsRequest) error {
			return c.ValidateAlgorithmSettings(ctx, *url, r)
		}
	}
	if *validate {
		if err := check(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: req.GetExperiment()}); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "valid")
		return err
	}
	for round := 1; round <= *rounds; round++ {
		reply, err := call(ctx, req)
		if err != nil {
			return err
		}
		if *rounds > 1 {
			fmt.Fprintf(stdout, "round %d: %d suggestions\n", round, len(reply.GetParameterAssignments()))
		}
		if err := printReply(stdout, req, reply, len(req.GetTrials())); err != nil {
			return err
		}
		if reply.GetSearchSpaceExhausted() {
			break
		}
		// Hand the suggestions back as pending trials, with the state the
		// algorithm returned, as the controller does.
		for _, a := range reply.GetParameterAssignments() {
			req.Trials = append(req.Trials, &pb.Trial{
				Name:   fmt.Sprintf("trial-%d", len(req.Trials)+1),
				Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
				Status: &pb.TrialStatus{Condition: pb.TrialCondition_PENDING},
			})
		}
		if alg := req.GetExperiment().GetExperimentSpec().GetAlgorithm(); alg != nil {
			alg.AlgorithmSettings = algorithm.OverlaySettings(alg.AlgorithmSettings, reply.GetAlgorithm().GetAlgorithmSettings())
		}
	}
	return nil
}

func readRequest(file string) (*pb.GetSuggestionsRequest, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	req := &pb.GetSuggestionsRequest{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, req); err != nil {
		return nil, fmt.Errorf("%s: not a GetSuggestionsRequest in protobuf JSON: %w", file, err)
	}
	return req, nil
}

// printReply writes one row per suggestion, one column per parameter.
func printReply(w io.Writer, req *pb.GetSuggestionsRequest, reply *pb.GetSuggestionsReply, first int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var header []string
	for _, p := range req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters() {
		header = append(header, p.GetName())
	}
	fmt.Fprintln(tw, "#\t"+strings.Join(header, "\t"))
	for i, a := range reply.GetParameterAssignments() {
		values := make(map[string]string, len(a.GetAssignments()))
		for _, pa := range a.GetAssignments() {
			values[pa.GetName()] = pa.GetValue()
		}
		row := make([]string, len(header))
		for j, h := range header {
			row[j] = values[h]
		}
		fmt.Fprintf(tw, "%d\t%s\n", first+i+1, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if reply.GetSearchSpaceExhausted() {
		fmt.Fprintln(w, "search space exhausted")
	}
	for _, s := range reply.GetAlgorithm().GetAlgorithmSettings() {
		fmt.Fprintf(w, "state %s=%s\n", s.GetName(), s.GetValue())
	}
	return nil
}
