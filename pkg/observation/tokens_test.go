package observation

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgotesting "k8s.io/client-go/testing"

	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
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

	t.Run("fills the empty Secret config/ ships", func(t *testing.T) {
		kube := kubefake.NewSimpleClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName}})
		key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || len(key) != 32 {
			t.Fatalf("LoadKey = %x, %v; want a new 32-byte key", key, err)
		}
		again, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || !bytes.Equal(again, key) {
			t.Errorf("second LoadKey = %x, %v; want the key written", again, err)
		}
	})

	t.Run("another replica fills it first", func(t *testing.T) {
		kube := kubefake.NewSimpleClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName}})
		winner := []byte("the key of the replica that won!")
		kube.PrependReactor("update", "secrets", func(clientgotesting.Action) (bool, runtime.Object, error) {
			if err := kube.Tracker().Update(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, secret(winner), "knobs-system"); err != nil {
				t.Errorf("tracker update: %v", err)
			}
			return true, nil, apierrs.NewConflict(schema.GroupResource{Resource: "secrets"}, KeySecretName, nil)
		})
		key, err := LoadKey(ctx, kube, "knobs-system", KeySecretName)
		if err != nil || !bytes.Equal(key, winner) {
			t.Errorf("LoadKey = %q, %v; want the winner's key %q", key, err, winner)
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
		"an empty key":     {objects: []runtime.Object{secret(nil)}},
		"key too short":    {objects: []runtime.Object{secret([]byte("short"))}},
		"update forbidden": {objects: []runtime.Object{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName}}},
			verb: "update", err: apierrs.NewForbidden(schema.GroupResource{Resource: "secrets"}, KeySecretName, nil)},
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

// Tokens are issued with the Secret's current key and accepted with it or
// with the previous one, so the key can be replaced while trials run.
func TestLoadTokensRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := []byte("the old key of thirty-two bytes!"), []byte("the new key of thirty-two bytes!")
	t1 := newTrial("t1")
	for _, tc := range []struct {
		name      string
		data      map[string][]byte
		wantOld   bool
		wantError string
	}{
		{name: "current only", data: map[string][]byte{"key": newKey}},
		{name: "current and previous", data: map[string][]byte{"key": newKey, "previous-key": oldKey}, wantOld: true},
		{name: "previous too short", data: map[string][]byte{"key": newKey, "previous-key": []byte("short")}, wantError: `"previous-key" holds 5 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube := kubefake.NewSimpleClientset(&corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName},
				Data:       tc.data,
			})
			tk, err := LoadTokens(ctx, kube, "knobs-system")
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("LoadTokens = %v, want an error containing %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tk.For(t1), NewTokens(newKey).For(t1); got != want {
				t.Errorf("For = %q, want the current key's %q", got, want)
			}
			if !tk.Valid(t1, NewTokens(newKey).For(t1)) {
				t.Error("the current key's token is refused")
			}
			if got := tk.Valid(t1, NewTokens(oldKey).For(t1)); got != tc.wantOld {
				t.Errorf("Valid(previous key's token) = %v, want %v", got, tc.wantOld)
			}
			if tk.Valid(t1, NewTokens(testKey).For(t1)) {
				t.Error("another key's token is accepted")
			}
		})
	}
}

// A trial started before the key was replaced keeps reporting with the
// token it was given.
func TestReceiverAcceptsPreviousKey(t *testing.T) {
	oldKey, newKey := testKey, []byte("the new key of thirty-two bytes!")
	kube := kubefake.NewSimpleClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "knobs-system", Name: KeySecretName},
		Data:       map[string][]byte{"key": newKey, "previous-key": oldKey},
	})
	tk, err := LoadTokens(context.Background(), kube, "knobs-system")
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewSimpleClientset(newTrial("t1"), newTrial("t2"))
	rc := newReceiver(t, client)
	rc.Tokens = tk
	s := serveReceiver(t, rc)
	for _, tc := range []struct {
		name, trial string
		key         []byte
		want        int
	}{
		{"previous key", "t1", oldKey, http.StatusAccepted},
		{"current key", "t2", newKey, http.StatusAccepted},
		{"another key", "t1", []byte("another key of thirty-two bytes!"), http.StatusForbidden},
	} {
		h := binaryHeader(tc.trial)
		h.Set(TokenHeader, "Bearer "+NewTokens(tc.key).For(newTrial(tc.trial)))
		if code, _, body := do(t, http.MethodPost, s.sink(), h, strings.NewReader(`{"loss": 1}`)); code != tc.want {
			t.Errorf("%s: status = %d (%s), want %d", tc.name, code, body, tc.want)
		}
	}
}
