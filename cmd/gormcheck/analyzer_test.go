package main

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

// The testdata package a marks each dropped chain with a want comment; a
// chain whose .Error is read, returned or assigned carries none, so a
// report there fails the test too.
func TestDroppedChainsAreReportedAndCheckedOnesAreNot(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), Analyzer, "a")
}
