// Package config checks the manifests of config/ other than the CRDs (which
// test/crd checks): every object decodes strictly into its Go type, the
// Knative Services of the functions pass Knative Serving's own validation,
// the documented keys of each ConfigMap's _example parse with the code that
// reads them, and the RBAC grants what the controller needs and no more.
// examples_test.go checks the example Experiments of examples/ and runs
// their first trials with the trial program of examples/trial.
package config

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/leaderelection"
	"knative.dev/pkg/logging"
	"knative.dev/pkg/observability"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/observation"
	knobsconfig "knobs.dev/knobs/pkg/reconciler/suggestion/config"
)

// object is one YAML document of config/, decoded.
type object struct {
	file string
	kind string
	obj  metav1.Object
}

// newObject returns an empty Go object for a kind of config/.
func newObject(apiVersion, kind string) metav1.Object {
	if apiVersion == "v1" && kind == "Service" {
		return &corev1.Service{}
	}
	switch kind {
	case "Namespace":
		return &corev1.Namespace{}
	case "ServiceAccount":
		return &corev1.ServiceAccount{}
	case "ConfigMap":
		return &corev1.ConfigMap{}
	case "Secret":
		return &corev1.Secret{}
	case "ClusterRole":
		return &rbacv1.ClusterRole{}
	case "ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}
	case "Role":
		return &rbacv1.Role{}
	case "RoleBinding":
		return &rbacv1.RoleBinding{}
	case "Deployment":
		return &appsv1.Deployment{}
	case "Service":
		return &servingv1.Service{}
	case "CustomResourceDefinition":
		return &apiextensionsv1.CustomResourceDefinition{}
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "ValidatingAdmissionPolicy":
		return &admissionregistrationv1.ValidatingAdmissionPolicy{}
	case "ValidatingAdmissionPolicyBinding":
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	}
	return nil
}

// yamlDocuments splits a file's data into its YAML documents.
func yamlDocuments(t *testing.T, file string, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		docs = append(docs, doc)
	}
}

// load decodes every document of every file of config/, refusing unknown
// fields.
func load(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("../../config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in config/: %v", err)
	}
	var objs []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range yamlDocuments(t, f, data) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if tm.Kind == "" {
				continue
			}
			o := newObject(tm.APIVersion, tm.Kind)
			if o == nil {
				t.Errorf("%s: unexpected kind %s", f, tm.Kind)
				continue
			}
			if err := yaml.UnmarshalStrict(doc, o); err != nil {
				t.Errorf("%s: %s: %v", f, tm.Kind, err)
				continue
			}
			objs = append(objs, object{file: filepath.Base(f), kind: tm.Kind, obj: o})
		}
	}
	return objs
}

func find[T metav1.Object](t *testing.T, objs []object, name string) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.obj.(T); ok && o.obj.GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T named %s in config/", zero, name)
	return zero
}

func TestObjectsAreInKnobsSystem(t *testing.T) {
	for _, o := range load(t) {
		switch o.kind {
		case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
			if o.obj.GetNamespace() != "" {
				t.Errorf("%s: %s %s is cluster-scoped but names a namespace", o.file, o.kind, o.obj.GetName())
			}
		default:
			if o.obj.GetNamespace() != tuning.SystemNamespace {
				t.Errorf("%s: %s %s in namespace %q, want %s", o.file, o.kind, o.obj.GetName(), o.obj.GetNamespace(), tuning.SystemNamespace)
			}
		}
	}
}

func TestFunctionsPassKnativeValidation(t *testing.T) {
	objs := load(t)
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	// Every function of functions/ is deployed by config/.
	var algs []string
	for _, e := range entries {
		if e.IsDir() {
			algs = append(algs, e.Name())
		}
	}
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			svc := find[*servingv1.Service](t, objs, alg)
			ctx := apis.WithinCreate(context.Background())
			svc.SetDefaults(ctx)
			if err := svc.Validate(ctx); err != nil {
				t.Errorf("Knative Serving refuses it: %v", err)
			}
			if got := svc.Labels[tuning.AlgorithmLabelKey]; got != alg {
				t.Errorf("label %s = %q, want %q", tuning.AlgorithmLabelKey, got, alg)
			}
			if got := svc.Labels["networking.knative.dev/visibility"]; got != "cluster-local" {
				t.Errorf("visibility %q, want cluster-local", got)
			}
			spec := svc.Spec.Template.Spec
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Error("the function would get a service-account token")
			}
			if got := svc.Spec.Template.Annotations["autoscaling.knative.dev/min-scale"]; got != "0" {
				t.Errorf("min-scale %q, want 0", got)
			}
			c := spec.Containers[0]
			if want := "ko://knobs.dev/knobs/functions/" + alg; c.Image != want {
				t.Errorf("image %s, want %s", c.Image, want)
			}
			if len(c.Ports) != 1 || c.Ports[0].Name != "h2c" || c.Ports[0].ContainerPort != 8080 {
				t.Errorf("ports %+v, want one h2c port 8080", c.Ports)
			}
			checkRestricted(t, c.SecurityContext)
			checkBounded(t, spec, c)
		})
	}
}

// checkBounded checks that a function's pod cannot be run out of memory or
// held: few requests at once, a timeout above the function's own bound on
// one request, and Go's memory limit just under the container's.
func checkBounded(t *testing.T, spec servingv1.RevisionSpec, c corev1.Container) {
	t.Helper()
	if cc := spec.ContainerConcurrency; cc == nil || *cc < 1 || *cc > 4 {
		t.Errorf("containerConcurrency %v, want 1 to 4: a request of %d MiB takes up to about 95 MB decoded", cc, function.DefaultMaxRequestBytes>>20)
	}
	if ts := spec.TimeoutSeconds; ts == nil || time.Duration(*ts)*time.Second <= function.DefaultMaxDuration {
		t.Errorf("timeoutSeconds %v, want above the function's bound of %s on one request", ts, function.DefaultMaxDuration)
	}
	limit := c.Resources.Limits.Memory()
	var gomemlimit string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			gomemlimit = e.Value
		}
	}
	mib, err := strconv.ParseInt(strings.TrimSuffix(gomemlimit, "MiB"), 10, 64)
	if limit.IsZero() || err != nil || !strings.HasSuffix(gomemlimit, "MiB") {
		t.Fatalf("memory limit %s and GOMEMLIMIT %q: want both, GOMEMLIMIT in MiB", limit, gomemlimit)
	}
	if ratio := float64(mib<<20) / float64(limit.Value()); ratio < 0.8 || ratio > 0.95 {
		t.Errorf("GOMEMLIMIT %s is %.0f%% of the memory limit %s; keep it at about 90%%", gomemlimit, 100*ratio, limit.String())
	}
}

// checkRestricted checks what the restricted Pod Security Standard asks of
// a container, and a read-only root filesystem.
func checkRestricted(t *testing.T, sc *corev1.SecurityContext) {
	t.Helper()
	switch {
	case sc == nil:
		t.Error("no securityContext")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("runAsNonRoot is not true")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem is not true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation is not false")
	case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Error("capabilities do not drop ALL")
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("seccompProfile is not RuntimeDefault")
	}
}

func TestController(t *testing.T) {
	objs := load(t)
	d := find[*appsv1.Deployment](t, objs, "knobs-controller")
	spec := d.Spec.Template.Spec
	sa := find[*corev1.ServiceAccount](t, objs, spec.ServiceAccountName)
	if sa.Name != "knobs-controller" {
		t.Errorf("service account %s", sa.Name)
	}
	c := spec.Containers[0]
	if c.Image != "ko://knobs.dev/knobs/cmd/controller" {
		t.Errorf("image %s", c.Image)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["SYSTEM_NAMESPACE"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("SYSTEM_NAMESPACE = %+v, want the pod's namespace", e)
	}
	for name, want := range map[string]string{
		"CONFIG_LOGGING_NAME":       "config-logging",
		"CONFIG_OBSERVABILITY_NAME": "config-observability",
		"METRICS_DOMAIN":            "knobs.dev/tuning",
	} {
		if got := env[name].Value; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
		if name != "METRICS_DOMAIN" {
			find[*corev1.ConfigMap](t, objs, want)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	checkRestricted(t, c.SecurityContext)
	// The client's rate limits, as knative.dev/pkg reads them: numbers above
	// its default of 15 and 30 for three reconcilers, burst above rate.
	qps, errQ := strconv.ParseFloat(env["KUBE_API_QPS"].Value, 64)
	burst, errB := strconv.Atoi(env["KUBE_API_BURST"].Value)
	if errQ != nil || errB != nil || qps <= 15 || float64(burst) < qps {
		t.Errorf("KUBE_API_QPS %q, KUBE_API_BURST %q: want numbers, above 15 and 30, burst at least the rate", env["KUBE_API_QPS"].Value, env["KUBE_API_BURST"].Value)
	}

	// Trials reach the observation receiver through the Service.
	var port int32
	for _, p := range c.Ports {
		if p.Name == "observations" {
			port = p.ContainerPort
		}
	}
	if got := env["OBSERVATION_PORT"].Value; port == 0 || got != strconv.Itoa(int(port)) {
		t.Errorf("OBSERVATION_PORT = %q, container port observations = %d", got, port)
	}
	svc := find[*corev1.Service](t, objs, "knobs-observations")
	if want := "http://" + svc.Name + "." + svc.Namespace + ".svc.cluster.local"; env["OBSERVATION_SINK_URL"].Value != want {
		t.Errorf("OBSERVATION_SINK_URL = %q, want %q", env["OBSERVATION_SINK_URL"].Value, want)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[0].TargetPort.StrVal != "observations" {
		t.Errorf("Service ports %+v, want 80 to the container port observations", svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Service selects %s=%s, which the controller's pods do not carry", k, v)
		}
	}
}

// rules flattens RBAC rules into "group/resource verb" strings.
func rules(rs []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rs {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, g+"/"+res+" "+v)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestRBAC(t *testing.T) {
	objs := load(t)
	cr := find[*rbacv1.ClusterRole](t, objs, "knobs-controller")
	want := []string{
		"/events create", "/events patch",
		"serving.knative.dev/services get", "serving.knative.dev/services list", "serving.knative.dev/services watch",
	}
	for _, res := range []string{"experiments", "suggestions", "trials"} {
		want = append(want, "tuning.knobs.dev/"+res+" get", "tuning.knobs.dev/"+res+" list", "tuning.knobs.dev/"+res+" watch",
			"tuning.knobs.dev/"+res+"/status update")
	}
	for _, res := range []string{"suggestions", "trials"} {
		want = append(want, "tuning.knobs.dev/"+res+" create", "tuning.knobs.dev/"+res+" update")
	}
	want = append(want, "tuning.knobs.dev/experiments/finalizers update", "tuning.knobs.dev/trials/finalizers update",
		"batch/jobs get", "batch/jobs list", "batch/jobs watch", "batch/jobs create",
		// Stopping a trial suspends its Job (retain) or deletes it; an ended
		// trial's Job is deleted unless retained.
		"batch/jobs patch", "batch/jobs delete")
	sort.Strings(want)
	if got := rules(cr.Rules); !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterRole grants\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	role := find[*rbacv1.Role](t, objs, "knobs-controller")
	want = []string{
		"/configmaps get", "/configmaps list", "/configmaps watch",
		"/secrets get", "/secrets update",
		"coordination.k8s.io/leases create", "coordination.k8s.io/leases get", "coordination.k8s.io/leases update",
	}
	if got := rules(role.Rules); !reflect.DeepEqual(got, want) {
		t.Errorf("Role grants\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The one Secret the controller may touch is the one config/ ships.
	secret := find[*corev1.Secret](t, objs, observation.KeySecretName)
	if secret.Namespace != tuning.SystemNamespace || len(secret.Data)+len(secret.StringData) != 0 {
		t.Errorf("Secret %s/%s ships with data %v; want it empty in %s, for the controller to fill", secret.Namespace, secret.Name, secret.Data, tuning.SystemNamespace)
	}
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") && !reflect.DeepEqual(r.ResourceNames, []string{observation.KeySecretName}) {
			t.Errorf("the Role grants %v on secrets %v; want only %s", r.Verbs, r.ResourceNames, observation.KeySecretName)
		}
	}

	for _, ref := range []struct {
		subjects []rbacv1.Subject
		roleRef  rbacv1.RoleRef
	}{
		{find[*rbacv1.ClusterRoleBinding](t, objs, "knobs-controller").Subjects, find[*rbacv1.ClusterRoleBinding](t, objs, "knobs-controller").RoleRef},
		{find[*rbacv1.RoleBinding](t, objs, "knobs-controller").Subjects, find[*rbacv1.RoleBinding](t, objs, "knobs-controller").RoleRef},
	} {
		if len(ref.subjects) != 1 || ref.subjects[0].Kind != "ServiceAccount" || ref.subjects[0].Name != "knobs-controller" || ref.subjects[0].Namespace != tuning.SystemNamespace {
			t.Errorf("subjects %+v", ref.subjects)
		}
		if ref.roleRef.Name != "knobs-controller" {
			t.Errorf("roleRef %+v", ref.roleRef)
		}
	}
}

// example returns the keys documented in a ConfigMap's _example block, as
// an operator would copy them out.
func example(t *testing.T, cm *corev1.ConfigMap) map[string]string {
	t.Helper()
	if len(cm.Data) != 1 || cm.Data["_example"] == "" {
		t.Errorf("%s: data has keys other than _example: %v", cm.Name, cm.Data)
	}
	m := map[string]string{}
	if err := yaml.UnmarshalStrict([]byte(cm.Data["_example"]), &m); err != nil {
		t.Fatalf("%s: _example is not a YAML map of strings: %v", cm.Name, err)
	}
	if len(m) == 0 {
		t.Fatalf("%s: _example documents no key", cm.Name)
	}
	return m
}

func TestConfigMapExamplesParse(t *testing.T) {
	objs := load(t)

	t.Run("config-algorithms", func(t *testing.T) {
		cm := find[*corev1.ConfigMap](t, objs, knobsconfig.AlgorithmsConfigName)
		shipped, err := knobsconfig.NewAlgorithmsFromConfigMap(cm)
		if err != nil {
			t.Fatalf("as shipped: %v", err)
		}
		if len(shipped.URLs) != 0 || shipped.RequestTimeout != knobsconfig.DefaultRequestTimeout {
			t.Errorf("as shipped it sets %+v; want only defaults", shipped)
		}
		m := example(t, cm)
		a, err := knobsconfig.NewAlgorithmsFromConfigMap(&corev1.ConfigMap{Data: m})
		if err != nil {
			t.Fatalf("_example: %v", err)
		}
		if len(a.URLs) == 0 {
			t.Error("_example shows no algorithm URL")
		}
		if a.RequestTimeout != knobsconfig.DefaultRequestTimeout {
			t.Errorf("_example documents request-timeout %s, the default is %s", a.RequestTimeout, knobsconfig.DefaultRequestTimeout)
		}
	})

	t.Run("config-logging", func(t *testing.T) {
		m := example(t, find[*corev1.ConfigMap](t, objs, "config-logging"))
		c, err := logging.NewConfigFromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.LoggingConfig, `"encoding": "json"`) {
			t.Error("zap-logger-config does not log JSON")
		}
		if _, ok := c.LoggingLevel["knobs-controller"]; !ok {
			t.Error("no loglevel.knobs-controller, the controller's component name")
		}
		if _, level := logging.NewLoggerFromConfig(c, "knobs-controller"); level.Level().String() != "info" {
			t.Errorf("level %s", level.Level())
		}
	})

	t.Run("config-observability", func(t *testing.T) {
		m := example(t, find[*corev1.ConfigMap](t, objs, "config-observability"))
		c, err := observability.NewFromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Metrics.Validate(); err != nil {
			t.Error(err)
		}
		if err := c.Tracing.Validate(); err != nil {
			t.Error(err)
		}
	})

	t.Run("config-leader-election", func(t *testing.T) {
		m := example(t, find[*corev1.ConfigMap](t, objs, "config-leader-election"))
		c, err := leaderelection.NewConfigFromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		def, _ := leaderelection.NewConfigFromMap(nil)
		if c.LeaseDuration != def.LeaseDuration || c.RenewDeadline != def.RenewDeadline ||
			c.RetryPeriod != def.RetryPeriod || c.Buckets != def.Buckets {
			t.Errorf("_example documents %+v, the defaults are %+v", c, def)
		}
		if c.LeaseDuration != 60*time.Second {
			t.Errorf("lease-duration %s", c.LeaseDuration)
		}
	})
}

// TestNetworkPolicies checks that the policies select the pods they are
// about: every function's, the controller's; that the receiver's port is
// the controller's observations port and is open to trial pods alone; and
// that nothing else is open on the functions.
func TestNetworkPolicies(t *testing.T) {
	objs := load(t)
	selects := func(np *networkingv1.NetworkPolicy, podLabels map[string]string) bool {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		return sel.Matches(k8slabels.Set(podLabels))
	}
	fns := find[*networkingv1.NetworkPolicy](t, objs, "knobs-functions")
	for _, o := range objs {
		if svc, ok := o.obj.(*servingv1.Service); ok && svc.Labels[tuning.AlgorithmLabelKey] != "" && !selects(fns, svc.Spec.Template.Labels) {
			t.Errorf("NetworkPolicy knobs-functions does not select the pods of function %s (labels %v)", svc.Name, svc.Spec.Template.Labels)
		}
	}
	if len(fns.Spec.Ingress) != 1 || len(fns.Spec.Ingress[0].Ports) != 0 {
		t.Errorf("knobs-functions ingress %+v: want one rule, from the activator, the ingress and the controller", fns.Spec.Ingress)
	}

	ctl := find[*networkingv1.NetworkPolicy](t, objs, "knobs-controller")
	dep := find[*appsv1.Deployment](t, objs, "knobs-controller")
	if !selects(ctl, dep.Spec.Template.Labels) {
		t.Errorf("NetworkPolicy knobs-controller does not select the controller's pods")
	}
	ports := map[string]bool{}
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		ports[p.Name] = true
	}
	trialPod := map[string]string{tuning.TrialLabelKey: "mnist-1", tuning.ExperimentLabelKey: "mnist"}
	receiverOpen := false
	for _, rule := range ctl.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || !ports[p.Port.String()] {
				t.Errorf("NetworkPolicy knobs-controller opens port %v, which the controller does not name", p.Port)
			}
			if p.Port.String() != "observations" {
				continue
			}
			for _, peer := range rule.From {
				sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				if err != nil {
					t.Fatal(err)
				}
				receiverOpen = receiverOpen || (peer.NamespaceSelector != nil && sel.Matches(k8slabels.Set(trialPod)) && !sel.Matches(k8slabels.Set{"app": "other"}))
			}
		}
	}
	if !receiverOpen {
		t.Errorf("the receiver's port is not open to trial pods alone: %+v", ctl.Spec.Ingress)
	}
}

// The dashboard reads Knobs' three resources and nothing else, as its own
// ServiceAccount, from a Knative Service that Knative Serving accepts.
func TestDashboard(t *testing.T) {
	objs := load(t)
	cr := find[*rbacv1.ClusterRole](t, objs, "knobs-dashboard")
	var want []string
	for _, res := range []string{"experiments", "suggestions", "trials"} {
		want = append(want, "tuning.knobs.dev/"+res+" get", "tuning.knobs.dev/"+res+" list", "tuning.knobs.dev/"+res+" watch")
	}
	if got := rules(cr.Rules); !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterRole grants\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	crb := find[*rbacv1.ClusterRoleBinding](t, objs, "knobs-dashboard")
	if s := crb.Subjects; len(s) != 1 || s[0].Kind != "ServiceAccount" || s[0].Name != "knobs-dashboard" || s[0].Namespace != tuning.SystemNamespace || crb.RoleRef.Name != "knobs-dashboard" {
		t.Errorf("binding %+v to %+v, want the ServiceAccount knobs-dashboard to the ClusterRole knobs-dashboard", s, crb.RoleRef)
	}
	find[*corev1.ServiceAccount](t, objs, "knobs-dashboard")
	svc := find[*servingv1.Service](t, objs, "knobs-dashboard")
	ctx := apis.WithinCreate(context.Background())
	svc.SetDefaults(ctx)
	if err := svc.Validate(ctx); err != nil {
		t.Errorf("Knative Serving refuses it: %v", err)
	}
	spec := svc.Spec.Template.Spec
	if spec.ServiceAccountName != "knobs-dashboard" {
		t.Errorf("runs as %q, want knobs-dashboard", spec.ServiceAccountName)
	}
	c := spec.Containers[0]
	if want := "ko://knobs.dev/knobs/cmd/knobs-dashboard"; c.Image != want {
		t.Errorf("image %s, want %s", c.Image, want)
	}
	if _, ok := svc.Labels[tuning.AlgorithmLabelKey]; ok {
		t.Error("the dashboard is labelled as an algorithm's function")
	}
	checkRestricted(t, c.SecurityContext)
}
