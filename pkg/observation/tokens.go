package observation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

const (
	// KeySecretName is the Secret, in the controller's namespace, that holds
	// the key trial tokens are derived from.
	KeySecretName = "knobs-trial-tokens"
	// KeySecretDataKey is the entry of that Secret's data with the key
	// tokens are issued with.
	KeySecretDataKey = "key"
	// KeySecretPreviousDataKey is the optional entry of that Secret's data
	// with the key tokens were issued with before KeySecretDataKey replaced
	// it: tokens made with either are accepted, so the trials that were
	// running keep reporting while the key is rotated.
	KeySecretPreviousDataKey = "previous-key"

	// keySize is the size of a new key: the size of SHA-256's output.
	keySize = 32
	// minKeySize is the shortest key LoadKey accepts from an existing Secret.
	minKeySize = 16
)

// Tokens derives each trial's token from a key the controller keeps, so
// that only the trial's workload, which is given its token, can report for
// it. A token is tied to the trial's UID: a trial deleted and created again
// under the same name gets a new token.
type Tokens struct {
	// keys are the keys tokens are accepted with; tokens are issued with
	// the first.
	keys [][]byte
}

// NewTokens returns the Tokens that issue tokens with key and accept those
// made with key or with any of previous, the keys key replaced. Keys should
// be random and at least 32 bytes long (LoadKey makes such a key).
func NewTokens(key []byte, previous ...[]byte) *Tokens {
	tk := &Tokens{keys: [][]byte{bytes.Clone(key)}}
	for _, p := range previous {
		tk.keys = append(tk.keys, bytes.Clone(p))
	}
	return tk
}

// For returns the trial's token: base64url, unpadded, of
// HMAC-SHA256(key, namespace "/" name "/" uid), with the current key.
func (tk *Tokens) For(t *v1alpha1.Trial) string {
	return base64.RawURLEncoding.EncodeToString(mac(tk.keys[0], t))
}

// Valid reports whether token is the trial's token under the current key
// or a previous one. It compares the token with every key's, so it takes
// the same time wherever the token differs and whichever key made it.
func (tk *Tokens) Valid(t *v1alpha1.Trial, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	valid := false
	for _, key := range tk.keys {
		if hmac.Equal(got, mac(key, t)) {
			valid = true
		}
	}
	return valid
}

func mac(key []byte, t *v1alpha1.Trial) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(t.Namespace + "/" + t.Name + "/" + string(t.UID)))
	return h.Sum(nil)
}

// LoadKey returns the token key kept in the Secret namespace/name under
// the data key "key", and creates that Secret with a new random key when it
// does not exist yet. Replicas of the controller that race to create it all
// end up with the key of the one that won.
func LoadKey(ctx context.Context, kube kubernetes.Interface, namespace, name string) ([]byte, error) {
	key, _, err := LoadKeys(ctx, kube, namespace, name)
	return key, err
}

// fill writes a new random key into a Secret that has none, with the
// resource version read; on a conflict it reads the Secret again, which
// another replica has filled.
func fill(ctx context.Context, secrets typedcorev1.SecretInterface, s *corev1.Secret) (*corev1.Secret, error) {
	fresh := make([]byte, keySize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	s = s.DeepCopy()
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[KeySecretDataKey] = fresh
	updated, err := secrets.Update(ctx, s, metav1.UpdateOptions{})
	if apierrs.IsConflict(err) {
		return secrets.Get(ctx, s.Name, metav1.GetOptions{})
	}
	return updated, err
}

// LoadKeys is LoadKey that also returns the previous key, kept under the
// data key "previous-key" while the key is rotated; nil when there is none.
func LoadKeys(ctx context.Context, kube kubernetes.Interface, namespace, name string) (key, previous []byte, _ error) {
	secrets := kube.CoreV1().Secrets(namespace)
	s, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrs.IsNotFound(err) {
		fresh := make([]byte, keySize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, nil, fmt.Errorf("making a key for Secret %s/%s: %w", namespace, name, err)
		}
		s, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: namespace,
				Name:      name,
				Labels:    map[string]string{"app.kubernetes.io/part-of": "knobs"},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{KeySecretDataKey: fresh},
		}, metav1.CreateOptions{})
		if apierrs.IsAlreadyExists(err) {
			// Another replica created it first: use its key.
			s, err = secrets.Get(ctx, name, metav1.GetOptions{})
		} else if err != nil {
			return nil, nil, fmt.Errorf("creating Secret %s/%s with the trial token key (config/ ships it: apply config/200-secret.yaml): %w", namespace, name, err)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading Secret %s/%s with the trial token key: %w", namespace, name, err)
	}
	if _, ok := s.Data[KeySecretDataKey]; !ok {
		// The Secret config/ ships, empty: the first replica writes a
		// key into it, and one that loses the race reads the winner's.
		if s, err = fill(ctx, secrets, s); err != nil {
			return nil, nil, fmt.Errorf("writing a trial token key into Secret %s/%s: %w", namespace, name, err)
		}
	}
	key = s.Data[KeySecretDataKey]
	if len(key) < minKeySize {
		return nil, nil, fmt.Errorf("trial token key in Secret %s/%s: data %q holds %d bytes, want at least %d random bytes; delete the Secret to have a new key made (running trials then need new tokens)",
			namespace, name, KeySecretDataKey, len(key), minKeySize)
	}
	previous = s.Data[KeySecretPreviousDataKey]
	if len(previous) == 0 {
		return key, nil, nil // an empty entry is no previous key
	}
	if len(previous) < minKeySize {
		return nil, nil, fmt.Errorf("previous trial token key in Secret %s/%s: data %q holds %d bytes, want at least %d random bytes; remove it once the trials started before the key was rotated have ended",
			namespace, name, KeySecretPreviousDataKey, len(previous), minKeySize)
	}
	return key, previous, nil
}

// LoadTokens returns the Tokens of the keys kept in the Secret
// KeySecretName of namespace, the controller's, created by LoadKey if need
// be: they issue tokens with its "key" and accept those of its
// "previous-key" too, if it has one.
func LoadTokens(ctx context.Context, kube kubernetes.Interface, namespace string) (*Tokens, error) {
	key, previous, err := LoadKeys(ctx, kube, namespace, KeySecretName)
	if err != nil {
		return nil, err
	}
	if previous == nil {
		return NewTokens(key), nil
	}
	return NewTokens(key, previous), nil
}
