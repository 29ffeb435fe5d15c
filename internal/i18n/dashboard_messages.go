package i18n

func init() { addMessages(dashboardMessages) }

// dashboardMessages: the staff's dashboard.
var dashboardMessages = map[string][2]string{
	"nav.dashboard":               {"Dashboard", "概览"},
	"dashboard.title":             {"How the work is going", "工作概览"},
	"dashboard.all_brands":        {"All brands", "全部品牌"},
	"dashboard.to":                {"Weeks up to", "截至日期"},
	"dashboard.show":              {"Show", "显示"},
	"dashboard.pipeline":          {"Cases by state now", "当前各状态案件数"},
	"dashboard.cases":             {"Cases", "案件"},
	"dashboard.overdue":           {"Overdue steps now", "当前逾期步骤"},
	"dashboard.none_overdue":      {"No step is overdue.", "没有逾期的步骤。"},
	"dashboard.steps":             {"Steps", "步骤数"},
	"dashboard.confirmation":      {"Confirmation rate over the 12 weeks", "12 周确认假货率"},
	"dashboard.no_verdicts":       {"No verdict was signed in these weeks.", "这几周没有签署鉴定结论。"},
	"dashboard.confirmation_of":   {"of verdicts were counterfeit (%s of %s)", "的鉴定结论为假货（%s / %s）"},
	"dashboard.flow":              {"Flow per week", "每周流量"},
	"dashboard.money":             {"Money per week", "每周金额"},
	"dashboard.table":             {"The figures as a table", "以表格查看数据"},
	"dashboard.week":              {"Week of", "周（起始日）"},
	"dashboard.flags_received":    {"Flags received", "收到的线索"},
	"dashboard.cases_opened":      {"Cases opened", "新开案件"},
	"dashboard.purchases_ordered": {"Test purchases made", "完成的测试购买"},
	"dashboard.counterfeit":       {"Confirmed fakes", "确认假货"},
	"dashboard.referrals":         {"Referrals to the police", "移送公安"},
	"dashboard.raids":             {"Raids", "查处行动"},
	"dashboard.spend":             {"Test-purchase spend", "测试购买支出"},
	"dashboard.fees":              {"Test-purchase fees", "测试购买费用"},
	"dashboard.seized":            {"Seized value", "查扣货值"},
	"dashboard.claimed":           {"Damages claimed", "起诉索赔额"},
	"dashboard.awarded":           {"Awarded or agreed", "判决或和解金额"},
	"dashboard.collected":         {"Collected from sellers", "向卖家追回"},
}
