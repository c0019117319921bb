// Tools the build and the tests use, pinned here so the product's go.mod
// carries only what the product imports. Build them with hack/install-tools.sh.
module knobs.dev/knobs/hack/tools

go 1.26

tool (
	github.com/cloudevents/conformance/cmd/cloudevents
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	github.com/cloudevents/conformance v0.2.0 // indirect
	github.com/inconshreveable/mousetrap v1.0.0 // indirect
	github.com/spf13/cobra v0.0.5 // indirect
	github.com/spf13/pflag v1.0.3 // indirect
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)
