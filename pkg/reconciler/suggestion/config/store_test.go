package config

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakekubeclientset "k8s.io/client-go/kubernetes/fake"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/configmap/informer"
	logtesting "knative.dev/pkg/logging/testing"
)

// recordingLogger keeps what the store logs, so that a fatal error does not
// end the test binary.
type recordingLogger struct {
	mu     sync.Mutex
	errors []string
	fatals []string
}

func (l *recordingLogger) Debugf(string, ...interface{}) {}
func (l *recordingLogger) Infof(string, ...interface{})  {}
func (l *recordingLogger) Errorf(f string, a ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errors = append(l.errors, fmt.Sprintf(f, a...))
}
func (l *recordingLogger) Fatalf(f string, a ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fatals = append(l.fatals, fmt.Sprintf(f, a...))
}

var _ configmap.Logger = (*recordingLogger)(nil)

func defaultConfig() *Config {
	return &Config{Algorithms: &Algorithms{URLs: map[string]string{}, RequestTimeout: 30 * time.Second}}
}

func TestStoreSawNothing(t *testing.T) {
	s := NewStore(logtesting.TestLogger(t))
	if diff := cmp.Diff(defaultConfig(), s.Load()); diff != "" {
		t.Errorf("Load() (-want, +got):\n%s", diff)
	}
	if diff := cmp.Diff(defaultConfig(), FromContext(s.ToContext(context.Background()))); diff != "" {
		t.Errorf("FromContext(ToContext()) (-want, +got):\n%s", diff)
	}
}

func TestStoreOnConfigChanged(t *testing.T) {
	type stored struct {
		name  string
		value interface{}
	}
	var after []stored
	s := NewStore(logtesting.TestLogger(t), func(name string, value interface{}) {
		after = append(after, stored{name, value})
	})
	s.OnConfigChanged(algorithmsConfigMap(map[string]string{
		"_example":        "ignored",
		"random":          "http://random.knobs-system.svc.cluster.local",
		"grid":            "https://grid.example.com",
		RequestTimeoutKey: "10s",
	}))

	want := &Config{Algorithms: &Algorithms{
		URLs:           map[string]string{"random": "http://random.knobs-system.svc.cluster.local", "grid": "https://grid.example.com"},
		RequestTimeout: 10 * time.Second,
	}}
	if diff := cmp.Diff(want, s.Load()); diff != "" {
		t.Errorf("Load() (-want, +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, FromContext(s.ToContext(context.Background()))); diff != "" {
		t.Errorf("FromContext(ToContext()) (-want, +got):\n%s", diff)
	}
	if len(after) != 1 || after[0].name != AlgorithmsConfigName {
		t.Fatalf("onAfterStore calls = %+v, want one for %s", after, AlgorithmsConfigName)
	}
	if diff := cmp.Diff(want.Algorithms, after[0].value); diff != "" {
		t.Errorf("onAfterStore value (-want, +got):\n%s", diff)
	}

	// A later change replaces the configuration.
	s.OnConfigChanged(algorithmsConfigMap(map[string]string{"tpe": "http://tpe"}))
	want = &Config{Algorithms: &Algorithms{URLs: map[string]string{"tpe": "http://tpe"}, RequestTimeout: 30 * time.Second}}
	if diff := cmp.Diff(want, s.Load()); diff != "" {
		t.Errorf("Load() after a second change (-want, +got):\n%s", diff)
	}
	if len(after) != 2 {
		t.Errorf("onAfterStore ran %d times, want 2", len(after))
	}
}

func TestStoreKeepsTheLastGoodConfig(t *testing.T) {
	logger := &recordingLogger{}
	s := NewStore(logger)
	s.OnConfigChanged(algorithmsConfigMap(map[string]string{"random": "http://random", RequestTimeoutKey: "3s"}))
	s.OnConfigChanged(algorithmsConfigMap(map[string]string{"random": "ftp://random"}))

	want := &Config{Algorithms: &Algorithms{URLs: map[string]string{"random": "http://random"}, RequestTimeout: 3 * time.Second}}
	if diff := cmp.Diff(want, s.Load()); diff != "" {
		t.Errorf("Load() after a bad change (-want, +got):\n%s", diff)
	}
	if len(logger.errors) != 1 || len(logger.fatals) != 0 {
		t.Fatalf("logged errors %q and fatals %q, want one error", logger.errors, logger.fatals)
	}
	if want := `config-algorithms: algorithm random: \"ftp://random\" is not an absolute http or https URL`; !strings.Contains(logger.errors[0], want) {
		t.Errorf("logged %q, want it to contain %q", logger.errors[0], want)
	}
}

func TestStoreBadFirstConfig(t *testing.T) {
	logger := &recordingLogger{}
	s := NewStore(logger)
	s.OnConfigChanged(algorithmsConfigMap(map[string]string{RequestTimeoutKey: "-1s"}))
	if len(logger.fatals) != 1 {
		t.Fatalf("logged fatals %q, want one", logger.fatals)
	}
	if want := `config-algorithms: request-timeout: \"-1s\" is not a positive duration such as 30s`; !strings.Contains(logger.fatals[0], want) {
		t.Errorf("logged %q, want it to contain %q", logger.fatals[0], want)
	}
	if diff := cmp.Diff(defaultConfig(), s.Load()); diff != "" {
		t.Errorf("Load() (-want, +got):\n%s", diff)
	}
}

func TestStoreWatchConfigsManual(t *testing.T) {
	w := &configmap.ManualWatcher{Namespace: "knobs-system"}
	s := NewStore(logtesting.TestLogger(t))
	s.WatchConfigs(w)
	w.OnChange(algorithmsConfigMap(map[string]string{"grid": "http://grid"}))

	want := &Config{Algorithms: &Algorithms{URLs: map[string]string{"grid": "http://grid"}, RequestTimeout: 30 * time.Second}}
	if diff := cmp.Diff(want, s.Load()); diff != "" {
		t.Errorf("Load() (-want, +got):\n%s", diff)
	}
}

func TestStoreWatchConfigsDefaulting(t *testing.T) {
	t.Setenv("SYSTEM_NAMESPACE", "knobs-system")
	tests := []struct {
		name    string
		objects []*corev1.ConfigMap
		want    *Config
	}{{
		name: "missing ConfigMap counts as empty",
		want: defaultConfig(),
	}, {
		name:    "existing ConfigMap is read",
		objects: []*corev1.ConfigMap{algorithmsConfigMap(map[string]string{"random": "http://random", RequestTimeoutKey: "2s"})},
		want:    &Config{Algorithms: &Algorithms{URLs: map[string]string{"random": "http://random"}, RequestTimeout: 2 * time.Second}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kc := fakekubeclientset.NewClientset()
			for _, cm := range tc.objects {
				if _, err := kc.CoreV1().ConfigMaps(cm.Namespace).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			w := informer.NewInformedWatcher(kc, "knobs-system")
			var mu sync.Mutex
			stores := 0
			s := NewStore(logtesting.TestLogger(t), func(string, interface{}) {
				mu.Lock()
				defer mu.Unlock()
				stores++
			})
			s.WatchConfigs(w)
			stop := make(chan struct{})
			defer close(stop)
			if err := w.Start(stop); err != nil {
				t.Fatalf("Start() = %v", err)
			}
			// Start returns once each ConfigMap was seen once, which may be
			// the default ahead of the real one: wait for the real one.
			var diff string
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if diff = cmp.Diff(tc.want, s.Load()); diff == "" || time.Now().After(deadline) {
					break
				}
			}
			if diff != "" {
				t.Errorf("Load() (-want, +got):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if stores == 0 {
				t.Error("onAfterStore never ran")
			}
		})
	}
}
