package page

import (
	"context"
	"strconv"
	"strings"

	"spotcheck/internal/stats"
	"spotcheck/web/view"
)

func figures(fs []Figure) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.N
	}
	return out
}

func figureURLs(fs []Figure) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.URL
	}
	return out
}

func pipelineLabels(ctx context.Context, fs []Figure) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = view.T(ctx, f.Key)
	}
	return out
}

// amount is a figure as the charts and tables write it: money in the
// platform's currency, anything else a count.
func amount(ctx context.Context, v int64, money bool) string {
	if money {
		return view.Money(ctx, v, stats.Currency)
	}
	return strconv.FormatInt(v, 10)
}

// describe lists a chart's figures for its <desc>.
func describe(ctx context.Context, labels []string, values []int64, money bool) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = labels[i] + ": " + amount(ctx, v, money)
	}
	return strings.Join(parts, "; ")
}
