// Command kubectl-knobs is Knobs' kubectl and kn plugin: installed on the
// PATH as kubectl-knobs it runs as "kubectl knobs", as kn-knobs as
// "kn knobs", the same binary either way. See docs/cli.md.
package main

import (
	"os"

	"knobs.dev/knobs/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdout, os.Stderr))
}
