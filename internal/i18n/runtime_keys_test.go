package i18n_test

import (
	"strconv"
	"testing"

	"spotcheck/internal/casework"
	"spotcheck/internal/deadline"
	"spotcheck/internal/i18n"
	"spotcheck/internal/network"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
	"spotcheck/web/view/page"
)

// TestKeysBuiltAtRunTimeAreInTheCatalog lists the message keys the screens
// build from a value (a prefix ending in "_" or "." and the value), which
// the source scan cannot see whole, and checks every one of them exists.
func TestKeysBuiltAtRunTimeAreInTheCatalog(t *testing.T) {
	var keys []string
	for _, s := range casework.States {
		keys = append(keys, "state."+string(s))
	}
	for _, tr := range casework.Table {
		keys = append(keys, "event."+string(tr.Event))
	}
	for _, r := range casework.CloseReasons {
		keys = append(keys, "reason."+string(r))
	}
	for _, d := range casework.DatedList {
		keys = append(keys, "dated."+string(d))
	}
	for st := page.Unseen; st <= page.Penalised; st++ {
		keys = append(keys, "cluster.standing_"+st.Name())
	}
	keys = append(keys, "link.network") // the case page's shops of the network not linked to it directly
	keys = append(keys, "notify."+string(notify.RepeatOffender))
	for _, k := range network.Kinds {
		keys = append(keys, "identifier."+string(k))
	}
	for _, k := range deadline.Kinds {
		keys = append(keys, "deadline.kind_"+string(k))
	}
	for _, p := range deadline.Parties {
		keys = append(keys, "deadline.party_"+string(p))
	}
	for st := deadline.Reminded; st <= deadline.Admins; st++ {
		keys = append(keys, "deadline.stage_"+strconv.Itoa(int(st)))
	}
	for _, k := range deadline.SettingKeys {
		keys = append(keys, "deadline.setting_"+k)
	}
	for _, e := range []string{string(deadline.EventDueSoon), string(deadline.EventOverdue), string(deadline.EventEscalated)} {
		keys = append(keys, "notify."+e)
	}
	for _, m := range append(append(append([]stats.Metric{}, stats.Flow...), stats.Money...), stats.BrandMetrics...) {
		keys = append(keys, "dashboard."+string(m))
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("%s is not in the catalog", k)
		}
	}
}
