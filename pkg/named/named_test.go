package named

import (
	"slices"
	"testing"
)

type entry struct {
	Name  string
	Value int
}

func list() List[entry] {
	return NewList("thing", func(e entry) string { return e.Name },
		entry{"b", 1}, entry{"c", 2}, entry{"a", 3})
}

func TestAllKeepsTheOrderAndCopies(t *testing.T) {
	l := list()
	all := l.All()
	if want := []entry{{"b", 1}, {"c", 2}, {"a", 3}}; !slices.Equal(all, want) {
		t.Fatalf("All() = %v, want %v", all, want)
	}
	all[0].Value = 99
	if got := l.All()[0].Value; got != 1 {
		t.Errorf("changing All's result changed the list: first value %d", got)
	}
}

func TestNamesSorted(t *testing.T) {
	if got, want := list().Names(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestLookup(t *testing.T) {
	l := list()
	if e, ok := l.Lookup("c"); !ok || e.Value != 2 {
		t.Errorf(`Lookup("c") = %v, %v; want {c 2}, true`, e, ok)
	}
	if e, ok := l.Lookup("d"); ok || e != (entry{}) {
		t.Errorf(`Lookup("d") = %v, %v; want the zero entry, false`, e, ok)
	}
	if e := l.MustLookup("a"); e.Value != 3 {
		t.Errorf(`MustLookup("a") = %v, want {a 3}`, e)
	}
}

func TestMustLookupPanicsWithTheKnownNames(t *testing.T) {
	defer func() {
		want := `no thing "d" is registered; known: [a b c]`
		if got := recover(); got != want {
			t.Errorf("MustLookup panicked with %v, want %q", got, want)
		}
	}()
	list().MustLookup("d")
}
