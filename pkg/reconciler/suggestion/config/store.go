package config

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/system"
)

type cfgKey struct{}

// Config is the configuration a reconcile sees, fixed for its duration.
type Config struct {
	Algorithms *Algorithms
}

// FromContext returns the configuration stored in ctx, or the defaults.
func FromContext(ctx context.Context) *Config {
	if c, ok := ctx.Value(cfgKey{}).(*Config); ok && c != nil {
		return c
	}
	return &Config{Algorithms: &Algorithms{URLs: map[string]string{}, RequestTimeout: DefaultRequestTimeout}}
}

// ToContext stores c in ctx.
func ToContext(ctx context.Context, c *Config) context.Context {
	return context.WithValue(ctx, cfgKey{}, c)
}

// Store keeps the latest configuration from the ConfigMaps.
type Store struct {
	*configmap.UntypedStore
}

// NewStore returns a Store; onAfterStore runs after each change, for
// example to resync the reconciler's objects.
func NewStore(logger configmap.Logger, onAfterStore ...func(name string, value interface{})) *Store {
	return &Store{UntypedStore: configmap.NewUntypedStore("algorithms", logger,
		configmap.Constructors{AlgorithmsConfigName: NewAlgorithmsFromConfigMap}, onAfterStore...)}
}

// WatchConfigs watches the ConfigMaps; a missing config-algorithms counts as
// an empty one when the watcher can default it.
func (s *Store) WatchConfigs(w configmap.Watcher) {
	if dw, ok := w.(configmap.DefaultingWatcher); ok {
		dw.WatchWithDefault(corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: AlgorithmsConfigName, Namespace: system.Namespace()},
		}, s.OnConfigChanged)
		return
	}
	s.UntypedStore.WatchConfigs(w)
}

// ToContext stores the current configuration in ctx.
func (s *Store) ToContext(ctx context.Context) context.Context {
	return ToContext(ctx, s.Load())
}

// Load returns the current configuration.
func (s *Store) Load() *Config {
	c := &Config{}
	if a, ok := s.UntypedLoad(AlgorithmsConfigName).(*Algorithms); ok {
		c.Algorithms = a
	}
	if c.Algorithms == nil {
		c.Algorithms = FromContext(context.Background()).Algorithms
	}
	return c
}
