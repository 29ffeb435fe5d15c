package i18n

// The brand's authentication: queue, case view, verdict form.
func init() { addMessages(verdictMessages) }

var verdictMessages = map[string][2]string{
	"authentications.days_left": {"%s days left (due %s)", "剩余 %s 天（%s 截止）"},
	"authentications.overdue":   {"Overdue by %s days (due %s)", "已逾期 %s 天（%s 截止）"},
	"authentications.overview":  {"Your cases by state", "本品牌案件状态"},
	"brandcase.listings":        {"Listings", "商品链接"},

	"error.check_required":          {"Choose pass, fail or not applicable.", "请选择合格、不合格或不适用。"},
	"error.verdict_confirm":         {"Confirm that you sign this verdict.", "请确认您签署此鉴定结论。"},
	"error.verdict_no_defect":       {"A counterfeit verdict needs at least one failed check.", "判定为假冒需至少有一项不合格。"},
	"error.verdict_notes_required":  {"Explain this verdict in the notes.", "请在说明中解释此结论。"},
	"error.verdict_report_or_notes": {"Attach the authentication report or write notes.", "请上传鉴定报告或填写说明。"},

	"verdict.title":               {"Verdicts", "鉴定结论"},
	"verdict.submit":              {"Authenticate the item", "鉴定物品"},
	"verdict.supersede":           {"Supersede the verdict", "更正鉴定结论"},
	"verdict.submitted":           {"The verdict was signed and recorded.", "鉴定结论已签署并记录。"},
	"verdict.result":              {"Result", "结论"},
	"verdict.result.counterfeit":  {"Counterfeit", "假冒"},
	"verdict.result.genuine":      {"Genuine", "正品"},
	"verdict.result.inconclusive": {"Inconclusive", "无法确定"},
	"verdict.checklist":           {"Checklist", "检查清单"},
	"verdict.note":                {"Note", "备注"},
	"verdict.notes":               {"Notes", "说明"},
	"verdict.authenticator":       {"Authenticator", "鉴定人"},
	"verdict.report":              {"Authentication report (PDF)", "鉴定报告（PDF）"},
	"verdict.signature":           {"Signature", "签署"},
	"verdict.signed_name":         {"Your full name", "您的全名"},
	"verdict.confirm":             {"I confirm this verdict and sign it with my name.", "本人确认此结论并署名。"},
	"verdict.sign_submit":         {"Sign and submit", "签署并提交"},
	"verdict.signed":              {"Signed by %s, %s", "%s 签署，%s"},
	"verdict.in_force":            {"In force", "有效"},
	"verdict.superseded":          {"Superseded", "已更正"},
	"verdict.supersede_reason":    {"Reason for superseding", "更正原因"},
	"verdict.failed":              {"Failed:", "不合格项："},

	"check.packaging":             {"Packaging", "包装"},
	"check.logo_trademark":        {"Logo and trademark", "标识与商标"},
	"check.labels_tags":           {"Labels and tags", "标签与吊牌"},
	"check.security_features":     {"Security features", "防伪特征"},
	"check.serial_batch":          {"Serial or batch code", "序列号或批次号"},
	"check.workmanship":           {"Workmanship", "做工"},
	"check.materials":             {"Materials", "材质"},
	"check.colour":                {"Colour", "颜色"},
	"check.accessories_documents": {"Accessories and documents", "配件与证书"},
	"check.weight_dimensions":     {"Weight and dimensions", "重量与尺寸"},
	"check.function":              {"Function", "功能"},
	"outcome.pass":                {"Pass", "合格"},
	"outcome.fail":                {"Fail", "不合格"},
	"outcome.na":                  {"N/A", "不适用"},

	"case.open_linked":             {"Open a %s case on this shop", "为此店铺开立 %s 案件"},
	"case.linked_opened":           {"A case was opened on the linked shop.", "已为关联店铺开立案件。"},
	"error.no_counterfeit_verdict": {"Linked shops get cases once a counterfeit verdict is in force.", "鉴定为假冒后才能为关联店铺开立案件。"},
}
