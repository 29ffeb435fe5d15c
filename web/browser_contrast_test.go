package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"spotcheck/internal/database/dbtest"
)

// TestBrowserAdminAndOrderPagesMeetAAContrast measures, in the browser,
// the contrast of every piece of text on the admin's user pages and the
// staff's purchase order form against what lies behind it (opacity
// included), in both languages: WCAG AA wants 4.5:1 for normal text, 3:1
// for large text (24px, or 18.66px bold).
func TestBrowserAdminAndOrderPagesMeetAAContrast(t *testing.T) {
	b := newBrowser(t, desktop)
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	a.loadDemo(t)
	b.serve(a)
	var flagged string
	if err := a.db.Gorm.Raw("SELECT reference FROM cases WHERE state = 'flagged' ORDER BY id LIMIT 1").Row().Scan(&flagged); err != nil {
		t.Fatal(err)
	}
	// One account of each role (their pages differ by role), the last
	// of them disabled.
	users := demoIDs(t, a, "SELECT CAST(MIN(id) AS TEXT) FROM users GROUP BY role ORDER BY MIN(id)")
	// A disabled account shows its badge and the enable form.
	admin := a.asDemo("admin@demo.spotcheck.test", "en")
	if res := admin.post("/admin/users/"+users[len(users)-1]+"/disable", nil); res.StatusCode != 303 {
		t.Fatalf("disable a user: %d", res.StatusCode)
	}
	pages := map[string][]string{
		"admin@demo.spotcheck.test": {"/admin/users", "/admin/users/new"},
		"staff@demo.spotcheck.test": {"/cases/" + flagged + "/purchase/new"},
	}
	for _, u := range users {
		pages["admin@demo.spotcheck.test"] = append(pages["admin@demo.spotcheck.test"], "/admin/users/"+u)
	}
	for _, lang := range []string{"en", "zh"} {
		for email, paths := range pages {
			tab := b.newTab(t)
			tab.signIn(email, testPassword)
			if lang == "zh" {
				tab.choose("#lang-select", "zh")
				tab.submit(`form[data-testid=language-switch] button[type=submit]`)
			}
			for _, p := range paths {
				tab.open(p)
				low := get(tab, "measure the contrast of "+p, chromedp.Evaluate[[]string](lowContrast))
				if len(low) > 0 {
					t.Errorf("%s (%s): text below AA contrast:\n\t%s", p, lang, strings.Join(low, "\n\t"))
				}
			}
		}
	}
}

// demoIDs is the one column of query's rows.
func demoIDs(t *testing.T, a *app, query string) []string {
	t.Helper()
	var out []string
	if err := a.db.Gorm.Raw(query).Scan(&out).Error; err != nil || len(out) == 0 {
		t.Fatalf("%s: %v (%d rows)", query, err, len(out))
	}
	return out
}

// lowContrast lists each visible element with text of its own (or an
// empty field with a placeholder) whose colour
// falls below AA against the backgrounds behind it: its ratio, colours,
// size and the start of its text. Backgrounds are composited from the
// root down; an element's opacity (and its ancestors') fades its text and
// its backgrounds into what is behind them.
const lowContrast = `(() => {
	const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return [0, 0, 0, 0]; const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
	const over = (top, a, under) => [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a));
	const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const ratio = (x, y) => { const a = lum(x), b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
	const hex = c => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		// An empty field's placeholder is text to read as well.
		const placeholder = el.matches("input[placeholder]:placeholder-shown, textarea[placeholder]:placeholder-shown");
		const own = placeholder || [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
		if (!own || el.closest("script, style, noscript, .sr-only, [hidden]")) continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		const chain = []; for (let p = el; p; p = p.parentElement) chain.unshift(p);
		let bg = [255, 255, 255], fade = 1;
		for (const p of chain) {
			const s = getComputedStyle(p);
			fade *= Number(s.opacity);
			const c = parse(s.backgroundColor);
			bg = over(c, c[3], bg);
		}
		const s = getComputedStyle(el, placeholder ? "::placeholder" : null);
		if (s.visibility === "hidden") continue;
		const fg = parse(s.color);
		const seen = over(fg, fg[3] * fade, bg);
		// What is behind a faded element is the page's own white.
		const back = over(bg, fade, [255, 255, 255]);
		const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		const got = ratio(seen, back);
		if (got < need) out.push(got.toFixed(2) + ":1 " + hex(seen) + " on " + hex(back) + " (" + s.color + ", opacity " + fade.toFixed(2) + ", " + size + "px) " +
			el.tagName.toLowerCase() + "." + el.className + " " + JSON.stringify((placeholder ? el.placeholder : el.textContent).trim().slice(0, 50)));
	}
	return out;
})()`
