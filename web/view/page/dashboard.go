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

// describeSeries says every row's figure of every series, for the desc of
// a chart that draws them together.
func describeSeries(ctx context.Context, rows []string, series []FlowSeries, money bool) string {
	parts := make([]string, 0, len(rows))
	for i, r := range rows {
		var fs []string
		for _, s := range series {
			fs = append(fs, view.T(ctx, s.Key)+" "+amount(ctx, s.Values[i], money))
		}
		parts = append(parts, r+": "+strings.Join(fs, ", "))
	}
	return strings.Join(parts, "; ")
}

// stackBox is one reason's part of a week's stacked bar.
type stackBox struct {
	barBox
	Class, Label, URL string
}

// stacks places each week's bar of the series stacked in order, the
// highest week 90 units tall.
func stacks(ctx context.Context, weeks []string, series []FlowSeries) [][]stackBox {
	top := int64(1)
	for i := range weeks {
		var sum int64
		for _, s := range series {
			sum += s.Values[i]
		}
		top = max(top, sum)
	}
	out := make([][]stackBox, len(weeks))
	for i, w := range weeks {
		y := 96
		for k, s := range series {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			h := max(int(v*90/top), 1)
			y -= h
			out[i] = append(out[i], stackBox{barBox: barBox{X: i*24 + 3, Y: y, H: h}, Class: "s" + strconv.Itoa(k%6),
				Label: w + ", " + view.T(ctx, s.Key) + ": " + strconv.FormatInt(v, 10), URL: urlAt(s.URLs, i)})
		}
	}
	return out
}

// urlAt is the i-th link of a series, empty where it has none.
func urlAt(urls []string, i int) string {
	if i < len(urls) {
		return urls[i]
	}
	return ""
}

// linePoint is one month of a line chart, in 40-unit columns.
type linePoint struct {
	X, Y       int
	Label, URL string
}

// line places each value on the chart, the highest 86 units up.
func line(ctx context.Context, labels []string, values []int64, urls []string, money bool) ([]linePoint, string) {
	top := int64(1)
	for _, v := range values {
		top = max(top, v)
	}
	pts := make([]linePoint, len(values))
	coords := make([]string, len(values))
	for i, v := range values {
		pts[i] = linePoint{X: i*40 + 10, Y: 96 - int(max(v, 0)*86/top), Label: labels[i] + ": " + amount(ctx, v, money), URL: urlAt(urls, i)}
		coords[i] = strconv.Itoa(pts[i].X) + "," + strconv.Itoa(pts[i].Y)
	}
	return pts, strings.Join(coords, " ")
}
