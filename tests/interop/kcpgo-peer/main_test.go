package main

import (
	"encoding/hex"
	"strings"
	"testing"
)

// The examples in ../README.md, computed from the format's definition by a separate script.
func TestMsgFillMatchesSpecExamples(t *testing.T) {
	cases := []struct {
		i              uint64
		maxlen, length int
		head, tail     string
	}{
		{0, 1356, 6, "000000000600", "0600"},
		{1, 1356, 1170, "01000000 9204 f7eee198938a", "2920"},
		{1000, 1348, 678, "e8030000 a602 b8b3aaada45f", "6e61"},
	}
	buf := make([]byte, 65536)
	for _, c := range cases {
		m := msgFill(buf, c.i, c.maxlen)
		if len(m) != c.length {
			t.Fatalf("message %d: length %d, want %d", c.i, len(m), c.length)
		}
		head := strings.ReplaceAll(c.head, " ", "")
		if got := hex.EncodeToString(m[:len(head)/2]); got != head {
			t.Errorf("message %d starts %s, want %s", c.i, got, head)
		}
		if got := hex.EncodeToString(m[len(m)-len(c.tail)/2:]); got != c.tail {
			t.Errorf("message %d ends %s, want %s", c.i, got, c.tail)
		}
		if err := msgCheck(m, c.i, c.maxlen); err != nil {
			t.Errorf("message %d fails its own check: %v", c.i, err)
		}
	}
}

func TestMsgCheckRejectsEveryKindOfDamage(t *testing.T) {
	buf := make([]byte, 65536)
	const maxlen = 1356
	good := append([]byte(nil), msgFill(buf, 7, maxlen)...)
	damage := map[string]func([]byte) []byte{
		"flipped last byte": func(m []byte) []byte { m[len(m)-1] ^= 1; return m },
		"flipped index":     func(m []byte) []byte { m[0] ^= 1; return m },
		"wrong length field": func(m []byte) []byte {
			m[4]++
			return m
		},
		"truncated": func(m []byte) []byte { return m[:len(m)-1] },
		"too short": func(m []byte) []byte { return m[:3] },
	}
	for name, f := range damage {
		m := f(append([]byte(nil), good...))
		if msgCheck(m, 7, maxlen) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if msgCheck(good, 8, maxlen) == nil {
		t.Errorf("message 7 accepted as message 8")
	}
}
