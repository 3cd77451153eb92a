package plural

import "testing"

func TestCount(t *testing.T) {
	tests := []struct {
		n          int
		count, one string
	}{
		{0, "0 generators", "generators"},
		{1, "1 generator", "generator"},
		{2, "2 generators", "generators"},
	}
	for _, tc := range tests {
		if got := Count(tc.n, "generator", "generators"); got != tc.count {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.count)
		}
		if got := Word(tc.n, "generator", "generators"); got != tc.one {
			t.Errorf("Word(%d) = %q, want %q", tc.n, got, tc.one)
		}
	}
}
