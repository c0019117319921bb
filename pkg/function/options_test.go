package function

import (
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for v, want := range map[string]int64{
		"1024":     1 << 10,
		"67108864": 64 << 20,
		"64Mi":     64 << 20,
		"512Ki":    512 << 10,
		"2Gi":      2 << 30,
		"1Ki":      1 << 10,
	} {
		if got, err := parseBytes(v); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"", "0", "-1Mi", "1023", "3Gi", "64M", "64MiB", "lots", "1.5Mi", "Mi", "9223372036854775807Gi"} {
		if n, err := parseBytes(v); err == nil || !strings.Contains(err.Error(), "such as 67108864 or 64Mi") {
			t.Errorf("parseBytes(%q) = %d, %v; want an error that shows the form", v, n, err)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv(MaxRequestBytesEnv, "")
	if o, err := optionsFromEnv(nil); err != nil || o.MaxRequestBytes != 0 {
		t.Errorf("unset: %+v, %v; want the default (0)", o, err)
	}
	t.Setenv(MaxRequestBytesEnv, "64Mi")
	if o, err := optionsFromEnv(nil); err != nil || o.MaxRequestBytes != 64<<20 {
		t.Errorf("64Mi: %d, %v", o.MaxRequestBytes, err)
	}
	t.Setenv(MaxRequestBytesEnv, "64MB")
	if _, err := optionsFromEnv(nil); err == nil || !strings.Contains(err.Error(), `KNOBS_MAX_REQUEST_BYTES="64MB"`) {
		t.Errorf("64MB: %v; want an error naming the variable and its value", err)
	}
}
