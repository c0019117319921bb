package config

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func algorithmsConfigMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: AlgorithmsConfigName, Namespace: "knobs-system"},
		Data:       data,
	}
}

func TestNewAlgorithmsFromConfigMap(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want *Algorithms
	}{{
		name: "empty",
		want: &Algorithms{URLs: map[string]string{}, RequestTimeout: 30 * time.Second},
	}, {
		name: "urls",
		data: map[string]string{
			"random": "http://random.knobs-system.svc.cluster.local",
			"grid":   "https://grid.example.com:8443/suggest",
		},
		want: &Algorithms{URLs: map[string]string{
			"random": "http://random.knobs-system.svc.cluster.local",
			"grid":   "https://grid.example.com:8443/suggest",
		}, RequestTimeout: 30 * time.Second},
	}, {
		name: "values are trimmed",
		data: map[string]string{"tpe": "  http://tpe.ns.svc.cluster.local:8080\n", RequestTimeoutKey: " 5s\n"},
		want: &Algorithms{URLs: map[string]string{"tpe": "http://tpe.ns.svc.cluster.local:8080"}, RequestTimeout: 5 * time.Second},
	}, {
		name: "_example and other underscored keys are ignored",
		data: map[string]string{
			"_example": "################################\n# this is not a URL\nrandom: http://random\n",
			"_note":    "ftp://nowhere",
			"random":   "http://random.default.svc",
		},
		want: &Algorithms{URLs: map[string]string{"random": "http://random.default.svc"}, RequestTimeout: 30 * time.Second},
	}, {
		name: "request-timeout is parsed, not an algorithm",
		data: map[string]string{RequestTimeoutKey: "1m30s", "bayesopt": "http://bayesopt"},
		want: &Algorithms{URLs: map[string]string{"bayesopt": "http://bayesopt"}, RequestTimeout: 90 * time.Second},
	}, {
		name: "sub-second request-timeout",
		data: map[string]string{RequestTimeoutKey: "250ms"},
		want: &Algorithms{URLs: map[string]string{}, RequestTimeout: 250 * time.Millisecond},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewAlgorithmsFromConfigMap(algorithmsConfigMap(tc.data))
			if err != nil {
				t.Fatalf("NewAlgorithmsFromConfigMap() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("NewAlgorithmsFromConfigMap() (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestNewAlgorithmsFromConfigMapErrors(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want string
	}{{
		name: "relative URL",
		data: map[string]string{"random": "/random"},
		want: `config-algorithms: algorithm random: "/random" is not an absolute http or https URL`,
	}, {
		name: "host without a scheme",
		data: map[string]string{"grid": "grid.knobs-system.svc.cluster.local"},
		want: `config-algorithms: algorithm grid: "grid.knobs-system.svc.cluster.local" is not an absolute http or https URL`,
	}, {
		name: "ftp URL",
		data: map[string]string{"random": "ftp://files.example.com/random"},
		want: `config-algorithms: algorithm random: "ftp://files.example.com/random" is not an absolute http or https URL`,
	}, {
		name: "empty URL",
		data: map[string]string{"tpe": ""},
		want: `config-algorithms: algorithm tpe: "" is not an absolute http or https URL`,
	}, {
		name: "blank URL",
		data: map[string]string{"tpe": "   "},
		want: `config-algorithms: algorithm tpe: "" is not an absolute http or https URL`,
	}, {
		name: "URL without a host",
		data: map[string]string{"cmaes": "http:///path"},
		want: `config-algorithms: algorithm cmaes: "http:///path" is not an absolute http or https URL`,
	}, {
		name: "unparsable URL",
		data: map[string]string{"sobol": "http://[::1"},
		want: `config-algorithms: algorithm sobol: "http://[::1" is not an absolute http or https URL`,
	}, {
		name: "bad timeout",
		data: map[string]string{RequestTimeoutKey: "soon"},
		want: `config-algorithms: request-timeout: "soon" is not a positive duration such as 30s`,
	}, {
		name: "timeout without a unit",
		data: map[string]string{RequestTimeoutKey: "30"},
		want: `config-algorithms: request-timeout: "30" is not a positive duration such as 30s`,
	}, {
		name: "zero timeout",
		data: map[string]string{RequestTimeoutKey: "0s"},
		want: `config-algorithms: request-timeout: "0s" is not a positive duration such as 30s`,
	}, {
		name: "negative timeout",
		data: map[string]string{RequestTimeoutKey: "-5s"},
		want: `config-algorithms: request-timeout: "-5s" is not a positive duration such as 30s`,
	}, {
		name: "empty timeout",
		data: map[string]string{RequestTimeoutKey: ""},
		want: `config-algorithms: request-timeout: "" is not a positive duration such as 30s`,
	}, {
		name: "the first bad key in order is named",
		data: map[string]string{"zeta": "nope", "alpha": "also nope", "random": "http://random"},
		want: `config-algorithms: algorithm alpha: "also nope" is not an absolute http or https URL`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewAlgorithmsFromConfigMap(algorithmsConfigMap(tc.data))
			if err == nil {
				t.Fatalf("NewAlgorithmsFromConfigMap() = %+v, want error %q", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("NewAlgorithmsFromConfigMap() error =\n%s\nwant\n%s", err, tc.want)
			}
			if got != nil {
				t.Errorf("NewAlgorithmsFromConfigMap() = %+v with an error, want nil", got)
			}
		})
	}
}

func TestFromContextDefaults(t *testing.T) {
	want := &Config{Algorithms: &Algorithms{URLs: map[string]string{}, RequestTimeout: 30 * time.Second}}
	if diff := cmp.Diff(want, FromContext(context.Background())); diff != "" {
		t.Errorf("FromContext(empty) (-want, +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, FromContext(ToContext(context.Background(), nil))); diff != "" {
		t.Errorf("FromContext(nil config) (-want, +got):\n%s", diff)
	}
	if DefaultRequestTimeout != 30*time.Second {
		t.Errorf("DefaultRequestTimeout = %v, want 30s", DefaultRequestTimeout)
	}

	// Each caller gets its own defaults.
	FromContext(context.Background()).Algorithms.URLs["random"] = "http://changed"
	if got := FromContext(context.Background()).Algorithms.URLs; len(got) != 0 {
		t.Errorf("FromContext(empty).Algorithms.URLs = %v after a caller changed its copy, want empty", got)
	}
}

func TestContextRoundTrip(t *testing.T) {
	c := &Config{Algorithms: &Algorithms{URLs: map[string]string{"random": "http://random"}, RequestTimeout: 7 * time.Second}}
	ctx := ToContext(context.Background(), c)
	if got := FromContext(ctx); got != c {
		t.Errorf("FromContext(ToContext(c)) = %+v, want the same *Config %+v", got, c)
	}
	// A later ToContext wins in the context derived from it only.
	c2 := &Config{Algorithms: &Algorithms{URLs: map[string]string{}, RequestTimeout: time.Second}}
	ctx2 := ToContext(ctx, c2)
	if got := FromContext(ctx2); got != c2 {
		t.Errorf("FromContext(ctx2) = %+v, want %+v", got, c2)
	}
	if got := FromContext(ctx); got != c {
		t.Errorf("FromContext(ctx) = %+v after deriving ctx2, want %+v", got, c)
	}
}
