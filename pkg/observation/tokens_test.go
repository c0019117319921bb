package observation

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgotesting "k8s.io/client-go/testing"
)

func TestTokens(t *testing.T) {
	tk := NewTokens(testKey)
	t1 := newTrial("t1")
	tok := tk.For(t1)

	if tok != tk.For(t1.DeepCopy()) {
		t.Error("For is not deterministic")
	}
	if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
		t.Errorf("For() = %q: want unpadded base64url of 32 bytes (%v)", tok, err)
	}
	if !tk.Valid(t1, tok) {
		t.Error("Valid(own token) = false")
	}

	other := newTrial("t1")
	other.Namespace = "team-b"
	for name, tr := range map[string]func() bool{
		"other name":      func() bool { return tk.Valid(newTrial("t2"), tok) },
		"other namespace": func() bool { return tk.Valid(other, tok) },
		"other uid":       func() bool { return tk.Valid(newTrial("t1", withUID("recreated")), tok) },
		"other key":       func() bool { return NewTokens([]byte("another key of thirty-two bytes!")).Valid(t1, tok) },
		"empty":           func() bool { return tk.Valid(t1, "") },
		"not base64":      func() bool { return tk.Valid(t1, "%%%") },
		"padded":          func() bool { return tk.Valid(t1, tok+"=") },
		"truncated":       func() bool { return tk.Valid(t1, tok[:len(tok)-2]) },
	} {
		if tr() {
			t.Errorf("%s: Valid = true, want false", name)
		}
	}

	// The key is copied: changing the caller's slice changes nothing.
	key := bytes.Clone(testKey)
	tk2 := NewTokens(key)
	key[0] ^= 0xff
	if tk2.For(t1) != tok {
		t.Error("NewTokens keeps a reference to the caller's key")
	}
}

func TestLoadKey(t *testing.T) {
	ctx := context.Background()
	secret := func(key []byte) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName},
			Data:       map[string][]byte{KeySecretDataKey: key},
		}
	}

	t.Run("creates the Secret when absent", func(t *testing.T) {
		kube := kubefake.NewSimpleClientset()
		key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != 32 {
			t.Errorf("key has %d bytes, want 32", len(key))
		}
		s, err := kube.CoreV1().Secrets("knobs-system").Get(ctx, KeySecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Data[KeySecretDataKey], key) {
			t.Error("the Secret does not hold the key returned")
		}
		again, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || !bytes.Equal(again, key) {
			t.Errorf("second LoadKey = %x, %v; want the same key", again, err)
		}
	})

	t.Run("reads an existing Secret", func(t *testing.T) {
		kube := kubefake.NewSimpleClientset(secret(testKey))
		key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || !bytes.Equal(key, testKey) {
			t.Errorf("LoadKey = %q, %v; want %q", key, err, testKey)
		}
	})

	t.Run("another replica creates it first", func(t *testing.T) {
		kube := kubefake.NewSimpleClientset()
		winner := []byte("the key of the replica that won!")
		kube.PrependReactor("create", "secrets", func(clientgotesting.Action) (bool, runtime.Object, error) {
			if err := kube.Tracker().Add(secret(winner)); err != nil {
				t.Errorf("tracker add: %v", err)
			}
			return true, nil, apierrs.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, KeySecretName)
		})
		key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || !bytes.Equal(key, winner) {
			t.Errorf("LoadKey = %q, %v; want the winner's key %q", key, err, winner)
		}
	})

	for name, tc := range map[string]struct {
		objects []runtime.Object
		verb    string
		err     error
	}{
		"get forbidden":    {verb: "get", err: apierrs.NewForbidden(schema.GroupResource{Resource: "secrets"}, KeySecretName, nil)},
		"create forbidden": {verb: "create", err: apierrs.NewForbidden(schema.GroupResource{Resource: "secrets"}, KeySecretName, nil)},
		"no key in data":   {objects: []runtime.Object{secret(nil)}},
		"key too short":    {objects: []runtime.Object{secret([]byte("short"))}},
	} {
		t.Run(name, func(t *testing.T) {
			kube := kubefake.NewSimpleClientset(tc.objects...)
			if tc.err != nil {
				kube.PrependReactor(tc.verb, "secrets", func(clientgotesting.Action) (bool, runtime.Object, error) {
					return true, nil, tc.err
				})
			}
			key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
			if err == nil || !strings.Contains(err.Error(), "Secret knobs-system/"+KeySecretName) {
				t.Errorf("LoadKey = %x, %v; want an error naming the Secret", key, err)
			}
		})
	}
}
