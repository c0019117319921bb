package conformance_test

import (
	"context"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/conformance"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// TestRegisteredAlgorithms runs the whole suite against every registered
// algorithm, served by the function runtime in this process: a new server
// for every call, as if the function restarted between calls.
func TestRegisteredAlgorithms(t *testing.T) {
	for _, e := range registry.All() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			suite := conformance.Suite{
				Profile: conformance.ProfileFor(e.Name),
				Callers: []conformance.Caller{conformance.ServerCaller{New: func() pb.SuggestionServer {
					return &function.Service{Name: e.Name, Algorithm: e.Algorithm}
				}}},
			}
			for _, r := range suite.Run(context.Background()) {
				if r.Err != nil {
					t.Error(r)
				} else {
					t.Log(r)
				}
			}
		})
	}
}
