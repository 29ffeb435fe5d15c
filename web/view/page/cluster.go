package page

import (
	"math"
	"strconv"
)

// Standing is how far a shop's worst case has gone, for the network's
// graph: from no case at all to a seller already penalised.
type Standing int

const (
	Unseen  Standing = iota // no case
	Cleared                 // closed as genuine, dismissed, a duplicate or for want of evidence
	Flagged
	Purchasing
	Authenticating
	Confirmed
	Referred
	Litigating
	Penalised // closed after enforcement, a recovery or the platform's own action
)

var standingNames = []string{"unseen", "cleared", "flagged", "purchasing", "authenticating", "confirmed", "referred", "litigating", "penalised"}

// Name is the standing's name, for its class and its message key.
func (s Standing) Name() string { return standingNames[s] }

// StandingOf is a case's standing.
func StandingOf(state, closeReason string) Standing {
	switch state {
	case "flagged":
		return Flagged
	case "purchasing":
		return Purchasing
	case "authenticating":
		return Authenticating
	case "confirmed":
		return Confirmed
	case "referred":
		return Referred
	case "litigating":
		return Litigating
	}
	switch closeReason {
	case "enforced", "recovered", "platform_action_only":
		return Penalised
	}
	return Cleared
}

// ClusterShop is one shop of a network with its worst case.
type ClusterShop struct {
	ID                          int64
	Name, Platform              string
	Worst                       Standing
	Case, CaseState, CaseReason string // the worst case, if any
}

// ClusterLink is a confirmed link of the network.
type ClusterLink struct {
	A, B       int64
	Kind, Note string
}

// ClusterTie is an identifier shops of the network share, masked.
type ClusterTie struct {
	Kind, Masked string
	Shops        int
}

// ClusterPage is a seller network.
type ClusterPage struct {
	ID            int64
	Shops         []ClusterShop
	Links         []ClusterLink
	Ties          []ClusterTie
	Cases         []CaseRow
	OpenCases     int
	Flags         int
	Sales, Seized int64
}

// GraphLimit is the most shops the graph draws; beyond it the list alone
// stays readable.
const GraphLimit = 50

// graphSize is the graph's square, in SVG units.
const graphSize = 640

type graphNode struct {
	ClusterShop
	X, Y   int
	LabelX int
	Anchor string
	Label  string
}

type graphEdge struct {
	X1, Y1, X2, Y2, MX, MY int
	Kind, Title            string
}

// placeGraph places the shops on a circle (in id order) and the links between
// them as chords.
func placeGraph(p ClusterPage) ([]graphNode, []graphEdge) {
	n := len(p.Shops)
	c := float64(graphSize) / 2
	r := c - 120
	at := map[int64]*graphNode{}
	nodes := make([]graphNode, n)
	for i, sh := range p.Shops {
		angle := 2*math.Pi*float64(i)/float64(max(n, 1)) - math.Pi/2
		x, y := c+r*math.Cos(angle), c+r*math.Sin(angle)
		nd := graphNode{ClusterShop: sh, X: int(x), Y: int(y), Anchor: "start", LabelX: int(x) + 14, Label: truncate(sh.Name, 22)}
		if math.Cos(angle) < -0.01 {
			nd.Anchor, nd.LabelX = "end", int(x)-14
		}
		nodes[i] = nd
		at[sh.ID] = &nodes[i]
	}
	var edges []graphEdge
	for _, l := range p.Links {
		a, b := at[l.A], at[l.B]
		if a == nil || b == nil {
			continue
		}
		edges = append(edges, graphEdge{X1: a.X, Y1: a.Y, X2: b.X, Y2: b.Y, MX: (a.X + b.X) / 2, MY: (a.Y + b.Y) / 2, Kind: l.Kind,
			Title: a.Name + " — " + b.Name})
	}
	return nodes, edges
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func itoa(n int) string { return strconv.Itoa(n) }

// standingsIn are the standings the network's shops have, for the legend.
func standingsIn(shops []ClusterShop) []Standing {
	has := make([]bool, len(standingNames))
	for _, s := range shops {
		has[s.Worst] = true
	}
	var out []Standing
	for i := len(has) - 1; i >= 0; i-- {
		if has[i] {
			out = append(out, Standing(i))
		}
	}
	return out
}
