package observation

import (
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

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

const (
	// KeySecretName is the Secret, in the controller's namespace, that holds
	// the key trial tokens are derived from.
	KeySecretName = "knobs-trial-tokens"
	// KeySecretDataKey is the entry of that Secret's data with the key.
	KeySecretDataKey = "key"

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
	key []byte
}

// NewTokens returns the Tokens derived from key, which should be random and
// at least 32 bytes long (LoadKey makes such a key).
func NewTokens(key []byte) *Tokens {
	return &Tokens{key: append([]byte(nil), key...)}
}

// For returns the trial's token: base64url, unpadded, of
// HMAC-SHA256(key, namespace "/" name "/" uid).
func (tk *Tokens) For(t *v1alpha1.Trial) string {
	return base64.RawURLEncoding.EncodeToString(tk.mac(t))
}

// Valid reports whether token is the trial's token. The comparison takes
// the same time wherever the token differs.
func (tk *Tokens) Valid(t *v1alpha1.Trial, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, tk.mac(t))
}

func (tk *Tokens) mac(t *v1alpha1.Trial) []byte {
	h := hmac.New(sha256.New, tk.key)
	h.Write([]byte(t.Namespace + "/" + t.Name + "/" + string(t.UID)))
	return h.Sum(nil)
}

// LoadKey returns the token key kept in the Secret namespace/name under
// the data key "key", and creates that Secret with a new random key when it
// does not exist yet. Replicas of the controller that race to create it all
// end up with the key of the one that won.
func LoadKey(ctx context.Context, kube kubernetes.Interface, namespace, name string) ([]byte, error) {
	secrets := kube.CoreV1().Secrets(namespace)
	s, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrs.IsNotFound(err) {
		key := make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("making a key for Secret %s/%s: %w", namespace, name, err)
		}
		s, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: namespace,
				Name:      name,
				Labels:    map[string]string{"app.kubernetes.io/part-of": "knobs"},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{KeySecretDataKey: key},
		}, metav1.CreateOptions{})
		if apierrs.IsAlreadyExists(err) {
			// Another replica created it first: use its key.
			s, err = secrets.Get(ctx, name, metav1.GetOptions{})
		} else if err != nil {
			return nil, fmt.Errorf("creating Secret %s/%s with the trial token key: %w", namespace, name, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s with the trial token key: %w", namespace, name, err)
	}
	key := s.Data[KeySecretDataKey]
	if len(key) < minKeySize {
		return nil, fmt.Errorf("trial token key in Secret %s/%s: data %q holds %d bytes, want at least %d random bytes; delete the Secret to have a new key made (running trials then need new tokens)",
			namespace, name, KeySecretDataKey, len(key), minKeySize)
	}
	return key, nil
}

// LoadTokens returns the Tokens of the key kept in the Secret KeySecretName
// of namespace, the controller's, created by LoadKey if need be.
func LoadTokens(ctx context.Context, kube kubernetes.Interface, namespace string) (*Tokens, error) {
	key, err := LoadKey(ctx, kube, namespace, KeySecretName)
	if err != nil {
		return nil, err
	}
	return NewTokens(key), nil
}
