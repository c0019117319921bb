package resources

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// What a metrics collector adds to a pod template; cmd/knobs-collector
// relies on these names.
const (
	// CollectorVolume is the emptyDir the collector's binary is copied to.
	CollectorVolume = "knobs-bin"
	// CollectorInitContainer copies the binary into CollectorVolume.
	CollectorInitContainer = "knobs-collector-init"
	// CollectorDir is where CollectorVolume is mounted.
	CollectorDir = "/knobs/bin"
	// CollectorBinary is the primary container's command once wrapped.
	CollectorBinary = CollectorDir + "/knobs-collector"
	// MetricsVolume is the emptyDir, as Katib names it, given to the
	// directory of a File or TensorFlowEvent collector's path when the
	// container has no volume there.
	MetricsVolume = "metrics-volume"
)

// The fields of a pod spec and a container that the rewrite touches.
const (
	keyInitContainers = "initContainers"
	keyVolumes        = "volumes"
	keyVolumeMounts   = "volumeMounts"
	keyCommand        = "command"
	keyArgs           = "args"
	keyName           = "name"
	keyMountPath      = "mountPath"
)

// AddMetricsCollector rewrites the pod templates of a trial's workload (as
// MakeWorkload returns it) so that a StdOut, File or TensorFlowEvent
// collector runs the primary container's program, the way Tekton runs a
// step through its entrypoint: an emptyDir CollectorVolume; an init
// container CollectorInitContainer of image that runs
// `copy CollectorBinary`; and in the primary container the volume mounted
// read-only at CollectorDir, the command CollectorBinary and the args the
// collector's flags, "--", then the original command and args. For File and
// TensorFlowEvent, the path's directory (File) or the directory itself
// (Directory) gets the emptyDir MetricsVolume unless the container mounts a
// volume at or above it.
//
// The primary container is the one named t.Spec.PrimaryContainerName in
// every pod template that has one, or else the only container of each pod
// template. Pod templates are found as MakeWorkload finds them. Push and
// None leave the workload as it is. An error says what to change.
func AddMetricsCollector(w *unstructured.Unstructured, t *v1alpha1.Trial, image string) error {
	mc := t.Spec.MetricsCollector.DeepCopy()
	kind := mc.CollectorKind()
	if !kind.Wraps() {
		return nil
	}
	mc.SetDefaults()
	if err := mc.Validate().ViaField("spec", "metricsCollector"); err != nil {
		return fmt.Errorf("the trial's metrics collector is invalid: %v", err)
	}
	if image == "" {
		return fmt.Errorf("the controller has no image of the %s metrics collector: set KNOBS_COLLECTOR_IMAGE in its environment", kind)
	}

	var specs []podSpec
	findPodSpecs(w.Object, fieldRunSpec, &specs)
	primary := t.Spec.PrimaryContainerName
	var names []string
	wrapped := 0
	for _, ps := range specs {
		list, _ := containers(ps.spec[keyContainers])
		i, err := primaryIndex(list, primary, ps.path, kind)
		if err != nil {
			return err
		}
		if i < 0 {
			for _, c := range list {
				names = append(names, fmt.Sprint(c[keyName]))
			}
			continue
		}
		if err := wrap(ps, list[i], i, mc, t, image); err != nil {
			return err
		}
		wrapped++
	}
	if wrapped == 0 {
		sort.Strings(names)
		names = slices.Compact(names)
		return fmt.Errorf("%s has no container named %q, the primaryContainerName: name the container that runs the training program, one of %s",
			fieldRunSpec, primary, strings.Join(names, ", "))
	}
	return nil
}

// podSpec is an object holding a list of containers, at path.
type podSpec struct {
	spec map[string]any
	path string
}

// findPodSpecs collects, in the order of their keys, the objects of v that
// hold a list of containers: the pod specs MakeWorkload gives the
// environment to.
func findPodSpecs(v any, p string, out *[]podSpec) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := containers(v[keyContainers]); ok {
			*out = append(*out, podSpec{spec: v, path: p})
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == keyContainers {
				if _, ok := containers(v[k]); ok {
					continue
				}
			}
			findPodSpecs(v[k], p+"."+k, out)
		}
	case []any:
		for i, item := range v {
			findPodSpecs(item, fmt.Sprintf("%s[%d]", p, i), out)
		}
	}
}

// primaryIndex returns the index of the primary container of a pod spec at
// path: the one named primary, or, primary empty, the only one; -1 when
// none is named primary.
func primaryIndex(list []map[string]any, primary, p string, kind v1alpha1.CollectorKind) (int, error) {
	if primary == "" {
		if len(list) == 1 {
			return 0, nil
		}
		names := make([]string, len(list))
		for i, c := range list {
			names[i] = fmt.Sprint(c[keyName])
		}
		return -1, fmt.Errorf("%s.%s has %d containers (%s) and the trial no primaryContainerName: set the Experiment's trialTemplate.primaryContainerName to the one that runs the training program, for the %s metrics collector to wrap",
			p, keyContainers, len(list), strings.Join(names, ", "), kind)
	}
	for i, c := range list {
		if c[keyName] == primary {
			return i, nil
		}
	}
	return -1, nil
}

// wrap rewrites the primary container c, the i-th of pod spec ps.
func wrap(ps podSpec, c map[string]any, i int, mc *v1alpha1.MetricsCollectorSpec, t *v1alpha1.Trial, image string) error {
	cpath := fmt.Sprintf("%s.%s[%d]", ps.path, keyContainers, i)
	command, err := stringList(c[keyCommand], cpath+"."+keyCommand)
	if err != nil {
		return err
	}
	if len(command) == 0 {
		return fmt.Errorf("%s.%s is missing: the %s metrics collector runs the program of container %v as %s [flags] -- <command> <args>, and cannot know the entrypoint of its image; give the container its command (and args) in the trial template",
			cpath, keyCommand, mc.CollectorKind(), c[keyName], CollectorBinary)
	}
	args, err := stringList(c[keyArgs], cpath+"."+keyArgs)
	if err != nil {
		return err
	}
	mounts, err := list(c, keyVolumeMounts, cpath)
	if err != nil {
		return err
	}
	volumes, err := list(ps.spec, keyVolumes, ps.path)
	if err != nil {
		return err
	}
	inits, err := list(ps.spec, keyInitContainers, ps.path)
	if err != nil {
		return err
	}

	wrapped := append(collectorFlags(mc, t), "--")
	wrapped = append(wrapped, command...)
	wrapped = append(wrapped, args...)
	c[keyCommand] = []any{CollectorBinary}
	c[keyArgs] = anys(wrapped)

	volumes = append(volumes, map[string]any{keyName: CollectorVolume, "emptyDir": map[string]any{}})
	mounts = append(mounts, map[string]any{keyName: CollectorVolume, keyMountPath: CollectorDir, "readOnly": true})
	if dir := metricsDir(mc); dir != "" && !mounted(mounts, dir) {
		volumes = append(volumes, map[string]any{keyName: MetricsVolume, "emptyDir": map[string]any{}})
		mounts = append(mounts, map[string]any{keyName: MetricsVolume, keyMountPath: dir})
	}
	c[keyVolumeMounts] = mounts
	ps.spec[keyVolumes] = volumes
	ps.spec[keyInitContainers] = append([]any{map[string]any{
		keyName:         CollectorInitContainer,
		"image":         image,
		keyArgs:         []any{"copy", CollectorBinary},
		keyVolumeMounts: []any{map[string]any{keyName: CollectorVolume, keyMountPath: CollectorDir}},
	}}, inits...)
	return nil
}

// collectorFlags returns the flags of cmd/knobs-collector for mc and the
// trial's metrics.
func collectorFlags(mc *v1alpha1.MetricsCollectorSpec, t *v1alpha1.Trial) []string {
	flags := []string{"-kind", string(mc.CollectorKind())}
	if t.Spec.Objective != nil {
		for _, m := range t.Spec.Objective.MetricNames() {
			flags = append(flags, "-metric", m)
		}
	}
	for _, f := range mc.MetricsFormat() {
		flags = append(flags, "-format", f)
	}
	if fp := mc.FileSystemPath(); fp != nil {
		flags = append(flags, "-path", fp.Path)
		if fp.Kind != "" {
			flags = append(flags, "-path-kind", string(fp.Kind))
		}
		if fp.Format != "" {
			flags = append(flags, "-file-format", string(fp.Format))
		}
	}
	return flags
}

// metricsDir returns the directory the program writes its metrics to, which
// must be writable: the path's directory for a file, the path for a
// directory; "" when the collector reads no path.
func metricsDir(mc *v1alpha1.MetricsCollectorSpec) string {
	fp := mc.FileSystemPath()
	if fp == nil {
		return ""
	}
	p := path.Clean(fp.Path)
	if fp.Kind == v1alpha1.FileKind {
		return path.Dir(p)
	}
	return p
}

// mounted reports whether one of a container's volume mounts holds dir.
func mounted(mounts []any, dir string) bool {
	for _, m := range mounts {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		mp, ok := mm[keyMountPath].(string)
		if !ok || mp == "" {
			continue
		}
		mp = path.Clean(mp)
		if dir == mp || mp == "/" || strings.HasPrefix(dir, mp+"/") {
			return true
		}
	}
	return false
}

// stringList returns v, at p, as a list of strings; nil when v is.
func stringList(v any, p string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not a list of strings", p, trialtemplate.JSONType(v))
	}
	out := make([]string, len(l))
	for i, item := range l {
		if out[i], ok = item.(string); !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a string", p, i, trialtemplate.JSONType(item))
		}
	}
	return out, nil
}

// list returns the list under key in parent, at p; nil when there is none.
func list(parent map[string]any, key, p string) ([]any, error) {
	switch v := parent[key].(type) {
	case nil:
		return nil, nil
	case []any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s.%s is %s, not a list", p, key, trialtemplate.JSONType(v))
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
