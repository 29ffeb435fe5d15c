package i18n

// The staff's volunteer pool.
func init() { addMessages(volunteerMessages) }

var volunteerMessages = map[string][2]string{
	"volunteers.title":          {"Volunteer pool", "志愿者库"},
	"volunteers.empty_title":    {"No volunteers yet", "还没有志愿者"},
	"volunteers.empty_body":     {"Volunteer accounts made by an admin appear here.", "管理员创建的志愿者账号会显示在这里。"},
	"volunteers.pseudonym":      {"Pseudonym (what brands see)", "化名（品牌方可见）"},
	"volunteers.region":         {"Region", "地区"},
	"volunteers.active":         {"Under way", "进行中"},
	"volunteers.completed":      {"Completed", "已完成"},
	"volunteers.cancelled":      {"Cancelled", "已取消"},
	"volunteers.personas":       {"Buyer personas", "买家身份"},
	"volunteers.burned_count":   {"(%s burned)", "（%s 个已暴露）"},
	"volunteers.paused":         {"Paused", "已暂停"},
	"volunteers.available":      {"Available", "可接单"},
	"volunteers.pause":          {"Paused: no new purchases", "暂停：不接新任务"},
	"volunteers.save":           {"Save", "保存"},
	"volunteers.no_personas":    {"No personas yet.", "还没有买家身份。"},
	"volunteers.burned":         {"Burned", "已暴露"},
	"volunteers.burn":           {"Mark as burned", "标记为已暴露"},
	"volunteers.add_persona":    {"Add a persona", "添加买家身份"},
	"volunteers.updated":        {"The profile was saved.", "资料已保存。"},
	"volunteers.persona_added":  {"The persona was added.", "买家身份已添加。"},
	"volunteers.persona_burned": {"The persona is marked as burned; it will not be used again.", "该买家身份已标记为暴露，不会再被使用。"},
}
