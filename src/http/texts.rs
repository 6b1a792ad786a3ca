//! Every string a page shows, one table per language: Chinese first,
//! English too. A field added here must be filled for both languages, so
//! no page can show a string in only one of them.

use crate::domain::{Period, UnitCommitment};
use crate::ledger::views::Standing;
use crate::ledger::{Account, Body, Category, FundAccount, IncomeSource, PayMethod, Role};
use crate::store::{AuditFailure, FailureClass};

/// The strings of one language.
pub struct Texts {
    pub code: &'static str,
    pub html_lang: &'static str,
    pub product: &'static str,
    pub footer: &'static str,
    pub lang_switch: &'static str,
    pub staff_link: &'static str,

    // Landing page.
    pub estates: &'static str,
    pub intro: &'static str,
    pub no_estates: &'static str,
    pub origin: &'static str,
    pub checkpoint: &'static str,
    pub policy: &'static str,
    pub entries: &'static str,
    pub open_dashboard: &'static str,

    // Navigation within an estate.
    pub nav_dashboard: &'static str,
    pub nav_ledger: &'static str,
    pub nav_claims: &'static str,
    pub nav_services: &'static str,
    pub nav_statements: &'static str,
    pub nav_unit: &'static str,
    pub frozen: &'static str,
    /// What a frozen estate's pages say instead of figures.
    pub frozen_hint: &'static str,
    /// What an audit failure concerns, in [`FailureClass::ALL`] order.
    pub failure_classes: [&'static str; 10],

    // Errors.
    pub not_found_title: &'static str,
    pub no_such_page: &'static str,
    pub no_such_estate: &'static str,
    pub no_such_entry: &'static str,
    pub no_such_claim: &'static str,
    pub no_such_service: &'static str,
    pub no_such_unit: &'static str,
    pub no_such_statement: &'static str,
    pub bad_request_title: &'static str,
    pub bad_parameter: &'static str,
    pub hint_number: &'static str,
    pub hint_limit: &'static str,
    pub hint_kind: &'static str,
    pub hint_account: &'static str,
    pub hint_category: &'static str,
    pub hint_month: &'static str,
    pub hint_status: &'static str,
    pub hint_repeated: &'static str,
    pub hint_conflict: &'static str,
    pub rate_limited_title: &'static str,
    pub rate_limited: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable: &'static str,
    pub internal_title: &'static str,
    pub internal: &'static str,
    pub back_home: &'static str,
    pub back_estate: &'static str,

    // Dashboard.
    pub as_of: &'static str,
    pub balances: &'static str,
    pub total: &'static str,
    pub this_month: &'static str,
    pub this_year: &'static str,
    pub last_12: &'static str,
    pub income: &'static str,
    pub spending: &'static str,
    pub fees_collected: &'static str,
    pub fees_charged: &'static str,
    pub public_income: &'static str,
    pub collection_rate: &'static str,
    pub collection_rate_note: &'static str,
    pub chart_title: &'static str,
    pub chart_note: &'static str,
    pub chart_table: &'static str,
    pub month: &'static str,
    pub pending_claims: &'static str,
    pub no_pending: &'static str,
    pub signatures_so_far: &'static str,
    pub no_signatures: &'static str,
    pub needs: &'static str,
    pub expires: &'static str,
    pub recent_services: &'static str,
    pub no_services: &'static str,
    pub view_all: &'static str,
    pub latest_checkpoint: &'static str,
    pub tree_size: &'static str,
    pub root_hash: &'static str,
    pub signed_by: &'static str,
    pub signed_at: &'static str,
    pub log_key: &'static str,
    pub witness: &'static str,
    pub no_checkpoint: &'static str,
    pub verify_yourself: &'static str,
    pub verify_note: &'static str,

    // Ledger.
    pub ledger_intro: &'static str,
    pub filter_kind: &'static str,
    pub filter_account: &'static str,
    pub filter_month: &'static str,
    pub filter_status: &'static str,
    pub all: &'static str,
    pub apply: &'static str,
    pub clear: &'static str,
    pub col_seq: &'static str,
    pub col_time: &'static str,
    pub col_kind: &'static str,
    pub col_amount: &'static str,
    pub col_what: &'static str,
    pub col_hash: &'static str,
    pub newest: &'static str,
    pub older: &'static str,
    pub no_entries: &'static str,
    pub entry_title: &'static str,
    pub fields: &'static str,
    pub canonical_bytes: &'static str,
    pub bytes: &'static str,
    pub download_bytes: &'static str,
    pub entry_hash: &'static str,
    pub entry_hash_note: &'static str,
    pub prev_hash: &'static str,
    pub first_entry: &'static str,
    pub postings: &'static str,
    pub account: &'static str,
    pub debit: &'static str,
    pub credit: &'static str,
    pub inclusion_proof: &'static str,
    pub download_receipt: &'static str,
    pub inclusion_note: &'static str,
    pub not_yet_covered: &'static str,
    pub see_claim: &'static str,
    pub corrected_by: &'static str,
    pub corrects: &'static str,
    pub previous: &'static str,
    pub next: &'static str,

    // Claims.
    pub claims_intro: &'static str,
    pub claim_title: &'static str,
    pub payee: &'static str,
    pub amount: &'static str,
    pub amount_capital: &'static str,
    pub fund_account: &'static str,
    pub category: &'static str,
    pub purpose: &'static str,
    pub quote: &'static str,
    pub evidence: &'static str,
    pub evidence_missing: &'static str,
    pub evidence_open: &'static str,
    pub service_record: &'static str,
    pub remuneration_for: &'static str,
    pub entitlement: &'static str,
    pub transfer_to: &'static str,
    pub submitted: &'static str,
    pub status: &'static str,
    pub decisions: &'static str,
    pub approved: &'static str,
    pub rejected: &'static str,
    pub reason: &'static str,
    pub paid_in: &'static str,
    pub closed_in: &'static str,
    pub expired_unrecorded: &'static str,
    pub no_claims: &'static str,
    pub signer: &'static str,
    pub role: &'static str,

    // Service records.
    pub services_intro: &'static str,
    pub what: &'static str,
    pub location: &'static str,
    pub done_on: &'static str,
    pub done_by: &'static str,
    pub cost: &'static str,
    pub paid_by: &'static str,
    pub not_paid: &'static str,
    pub description: &'static str,
    pub recorded: &'static str,
    pub voided: &'static str,

    // Unit page.
    pub unit_intro: &'static str,
    pub code_label: &'static str,
    pub look_up: &'static str,
    pub unit_privacy: &'static str,
    pub unit: &'static str,
    pub area: &'static str,
    pub monthly_fee: &'static str,
    pub balance_owed: &'static str,
    pub prepaid: &'static str,
    pub settled: &'static str,
    pub charges: &'static str,
    pub payments: &'static str,
    pub receipt: &'static str,
    pub commitment: &'static str,
    pub method: &'static str,
    pub paid_on: &'static str,
    pub no_payments: &'static str,
    pub no_charges: &'static str,
    pub showing_latest: &'static str,
    pub reversed: &'static str,
    pub receipts_note: &'static str,

    // Monthly statements.
    pub statements_intro: &'static str,
    pub no_statements: &'static str,
    pub closing_total: &'static str,
    pub witnessed_by: &'static str,
    pub not_witnessed: &'static str,
    pub statement_word: &'static str,
    pub published: &'static str,
    pub covers_entries: &'static str,
    pub fund_balances: &'static str,
    pub opening: &'static str,
    pub closing: &'static str,
    pub change: &'static str,
    pub income_total: &'static str,
    pub income_note: &'static str,
    pub remuneration_and_arrears: &'static str,
    pub public_by_source: &'static str,
    pub spending_by_category: &'static str,
    pub opening_balances_recorded: &'static str,
    pub corrections: &'static str,
    pub corrections_note: &'static str,
    pub remuneration: &'static str,
    pub remuneration_taken: &'static str,
    pub remuneration_entitled: &'static str,
    pub arrears: &'static str,
    pub arrears_note: &'static str,
    pub month_entries: &'static str,
    pub more_entries: &'static str,
    pub in_ledger: &'static str,
    pub statement_checkpoint: &'static str,
    pub committee_quorum: &'static str,
    pub quorum_of: &'static str,
    pub not_covered_yet: &'static str,
    pub log_signature_invalid: &'static str,
    pub unverified_lines: &'static str,
    pub download_bundle: &'static str,
    pub how_to_verify: &'static str,
    pub how_to_verify_after: &'static str,
    pub qr_caption: &'static str,
    pub cp_matches: &'static str,
    pub cp_differs: &'static str,
    pub print_note: &'static str,
    pub prev_month: &'static str,
    pub next_month: &'static str,
    pub latest_statement: &'static str,
    pub all_statements: &'static str,
    /// Between the items of a run-in list ("、" / ", ").
    pub list_sep: &'static str,

    // Closed vocabularies, in the order of their `ALL` constants.
    /// Entry kinds by their `kind` string; a kind missing here shows as itself.
    pub kinds: &'static [(&'static str, &'static str)],
    pub funds: [&'static str; 3],
    pub categories: [&'static str; 10],
    pub sources: [&'static str; 4],
    pub roles: [&'static str; 3],
    pub methods: [&'static str; 5],
    pub standings: [&'static str; 4],
    pub account_fees: &'static str,
    pub account_equity: &'static str,
    pub account_receivable: &'static str,
    pub months: [&'static str; 12],
}

pub static ZH: Texts = Texts {
    code: "zh",
    html_lang: "zh-CN",
    product: "信托制物业资金公开",
    footer: "trustfund：资金属于全体业主；每一笔账都可以核验。",
    lang_switch: "语言",
    staff_link: "工作人员",

    estates: "小区",
    intro: "每一笔物业费、公共收益和支出都记入只能追加、哈希链接的账本；业主可以在自己的电脑上核验。",
    no_estates: "还没有小区。",
    origin: "日志名称",
    checkpoint: "最新签名检查点",
    policy: "验证策略（日志公钥与见证人）",
    entries: "账本条目（前 100 条，原始字节）",
    open_dashboard: "查看资金概览",

    nav_dashboard: "概览",
    nav_ledger: "账本",
    nav_claims: "支出申请",
    nav_services: "服务记录",
    nav_statements: "对账单",
    nav_unit: "我的房屋",
    frozen: "本小区账本自检未通过，已暂停记账和签名：",
    frozen_hint: "在问题查明并修复之前，本小区的页面不显示任何金额。已签名的检查点和证明仍可在本小区的 /log/ 下载并核验。",
    failure_classes: [
        "账本条目缺失、被改动或不符合记账规则",
        "分录表与账本条目不符",
        "默克尔树节点与账本条目不符",
        "余额表与账本条目的合计不符",
        "月度汇总表与账本条目不符",
        "已签名的检查点与账本条目不符",
        "房屋表与账本中的房屋承诺不符",
        "银行流水号表与账本不符",
        "数据库的只追加保护（触发器）缺失",
        "存储的数据与账本不符",
    ],

    not_found_title: "找不到",
    no_such_page: "没有这个页面。",
    no_such_estate: "没有这个小区。",
    no_such_entry: "账本中没有这个条目。",
    no_such_claim: "没有这个支出申请。",
    no_such_service: "没有这条服务记录。",
    no_such_unit: "没有与这个查询码对应的房屋。请核对账单上的 20 位查询码。",
    no_such_statement: "没有这个月的对账单（该月可能还没有结账）。",
    bad_request_title: "请求有误",
    bad_parameter: "参数",
    hint_number: "应为不带前导零的非负整数",
    hint_limit: "应为 1 到 200 之间的整数",
    hint_kind: "不是已知的条目类型",
    hint_account: "不是已知的账户（例如 fund:reserve、expense:repairs）",
    hint_category: "不是已知的支出类别",
    hint_month: "应为 YYYY-MM 格式的月份，例如 2026-05",
    hint_status: "应为 pending、executed、rejected 或 expired",
    hint_repeated: "只能出现一次",
    hint_conflict: "与 account 参数矛盾",
    rate_limited_title: "尝试次数过多",
    rate_limited: "查询太频繁。请一分钟后再试。",
    unavailable_title: "暂停服务",
    unavailable: "本小区账本自检未通过，暂停服务。已有的检查点和证明仍可用于核验。",
    internal_title: "出错了",
    internal: "服务器出错；本次请求没有改变任何数据，错误已记录。",
    back_home: "返回首页",
    back_estate: "返回小区概览",

    as_of: "截至",
    balances: "资金余额",
    total: "合计",
    this_month: "本月",
    this_year: "本年",
    last_12: "近 12 个月",
    income: "收入",
    spending: "支出",
    fees_collected: "物业费实收",
    fees_charged: "物业费应收",
    public_income: "公共收益",
    collection_rate: "收缴率",
    collection_rate_note: "收缴率 = 当期实收物业费 ÷ 当期应收物业费（含补缴欠费，可能超过 100%）。",
    chart_title: "每月收支（近 12 个月）",
    chart_note: "每月左边一栏为收入（物业费实收与各项公共收益），右边一栏为按类别的支出。",
    chart_table: "查看数据表",
    month: "月份",
    pending_claims: "待审批的支出申请",
    no_pending: "目前没有待审批的申请。",
    signatures_so_far: "已有签名",
    no_signatures: "尚无签名",
    needs: "需要",
    expires: "截止",
    recent_services: "最近的服务记录",
    no_services: "还没有服务记录。",
    view_all: "查看全部",
    latest_checkpoint: "最新签名检查点",
    tree_size: "条目数（树大小）",
    root_hash: "根哈希",
    signed_by: "签名者",
    signed_at: "签名时间",
    log_key: "本小区日志密钥",
    witness: "见证人",
    no_checkpoint: "还没有检查点。",
    verify_yourself: "自己核验",
    verify_note: "检查点、条目原始字节和证明都在固定地址公开，任何人都可以用自己的工具核验。",

    ledger_intro: "全部账本条目，最新的在前。每一条都有哈希，并链接到前一条。",
    filter_kind: "类型",
    filter_account: "账户",
    filter_month: "月份",
    filter_status: "状态",
    all: "全部",
    apply: "筛选",
    clear: "清除筛选",
    col_seq: "序号",
    col_time: "时间",
    col_kind: "类型",
    col_amount: "金额",
    col_what: "摘要",
    col_hash: "哈希",
    newest: "最新",
    older: "更早 →",
    no_entries: "没有符合条件的条目。",
    entry_title: "账本条目",
    fields: "字段",
    canonical_bytes: "规范字节（RFC 8785，即被哈希和签名的内容）",
    bytes: "字节",
    download_bytes: "下载原始字节",
    entry_hash: "条目哈希",
    entry_hash_note: "SHA-256(0x00 ‖ 规范字节)，即 RFC 9162 的叶子哈希。",
    prev_hash: "前一条目哈希（prev）",
    first_entry: "第一条条目，没有前一条。",
    postings: "记账分录",
    account: "账户",
    debit: "借方",
    credit: "贷方",
    inclusion_proof: "包含证明",
    download_receipt: "下载收据（可离线核验）",
    inclusion_note: "证明本条目包含在已签名检查点所覆盖的账本中，检查点条目数：",
    not_yet_covered: "本条目还没有被已签名的检查点覆盖。",
    see_claim: "对应的支出申请",
    corrected_by: "本条目已被冲正，冲正条目：",
    corrects: "冲正的条目",
    previous: "← 上一条",
    next: "下一条 →",

    claims_intro: "物业公司提交的每一笔支出申请，以及双方的签名。没有物业公司和业委会的共同签名，资金不能支出。",
    claim_title: "支出申请",
    payee: "收款方",
    amount: "金额",
    amount_capital: "大写",
    fund_account: "资金账户",
    category: "类别",
    purpose: "用途",
    quote: "原报价",
    evidence: "凭证",
    evidence_missing: "文件以其 SHA-256 命名保存，账本记录的就是这个摘要：下载后可自行计算核对，文件无法被调换。",
    evidence_open: "查看文件",
    service_record: "关联的服务记录",
    remuneration_for: "酬金所属月份",
    entitlement: "该月可提取的酬金上限",
    transfer_to: "转入账户",
    submitted: "提交时间",
    status: "状态",
    decisions: "审批签名",
    approved: "批准",
    rejected: "否决",
    reason: "理由",
    paid_in: "已支付，支付条目：",
    closed_in: "关闭条目：",
    expired_unrecorded: "已过截止时间，不能再支付。",
    no_claims: "没有符合条件的支出申请。",
    signer: "签名人",
    role: "身份",

    services_intro: "物业公司登记的工作记录（工单）及其凭证，以及为它付款的支出申请。",
    what: "事项",
    location: "地点",
    done_on: "完成日期",
    done_by: "完成单位或人员",
    cost: "费用",
    paid_by: "付款申请",
    not_paid: "尚未付款",
    description: "说明",
    recorded: "登记时间",
    voided: "本记录已被冲正。",

    unit_intro: "输入账单上印的 20 位查询码，查看你家的应收、缴费和收据。",
    code_label: "查询码",
    look_up: "查询",
    unit_privacy: "公开账本中只出现房屋的承诺值，不出现房号；只有持有查询码的人能把缴费记录和房屋对应起来。",
    unit: "房屋",
    area: "建筑面积",
    monthly_fee: "每月物业费",
    balance_owed: "当前欠费",
    prepaid: "预缴余额",
    settled: "已结清",
    charges: "应收记录",
    payments: "缴费记录与收据",
    receipt: "收据",
    commitment: "公开承诺值",
    method: "方式",
    paid_on: "缴费日期",
    no_payments: "还没有缴费记录。",
    no_charges: "还没有应收记录。",
    showing_latest: "只显示最近的记录：",
    reversed: "冲正",
    receipts_note: "每笔缴费的包含证明都以最新的签名检查点为准，检查点条目数：",

    statements_intro: "每个月结账后，当月的物业费、公共收益和每一笔支出汇总成一份月度对账单，记入账本，由本小区日志密钥签名，并由业委会和社区的见证人联署。",
    no_statements: "还没有结账的月份。",
    closing_total: "月末资金合计",
    witnessed_by: "见证人",
    not_witnessed: "尚无见证人联署",
    statement_word: "月度对账单",
    published: "发布时间",
    covers_entries: "覆盖账本条目",
    fund_balances: "资金账户余额",
    opening: "月初",
    closing: "月末",
    change: "变动",
    income_total: "收入合计",
    income_note: "收入合计 = 物业费实收 + 公共收益。收缴率 = 物业费实收 ÷ 物业费应收。",
    remuneration_and_arrears: "酬金与欠费",
    public_by_source: "公共收益（按来源）",
    spending_by_category: "支出（按类别）",
    opening_balances_recorded: "登记的期初余额",
    corrections: "冲正",
    corrections_note: "本月冲正条目撤销的金额，按被冲正条目的类型。上面的数字是未扣除冲正的总额。",
    remuneration: "物业酬金",
    remuneration_taken: "实提",
    remuneration_entitled: "应得（上限）",
    arrears: "欠费合计（月末）",
    arrears_note: "全部房屋已计收但尚未缴纳的物业费。",
    month_entries: "本月账本条目",
    more_entries: "这里只列出前 200 条。其余条目：",
    in_ledger: "在账本中查看本月全部条目",
    statement_checkpoint: "覆盖本对账单的签名检查点",
    committee_quorum: "业委会联署",
    quorum_of: "要求",
    not_covered_yet: "还没有签名检查点覆盖这份对账单。",
    log_signature_invalid: "这个检查点的日志签名无法核验！请不要相信本页的数字，并告知业委会。",
    unverified_lines: "另有签名行无法用已登记的见证人公钥核验，未列出：",
    download_bundle: "下载对账单数据包（bundle.json）",
    how_to_verify: "核验方法：下载数据包，在自己的电脑上运行：",
    how_to_verify_after: "结果显示「核验通过」且数字与本页一致即为可信。详见《核对小区账目》(docs/VERIFY.md)。",
    qr_caption: "扫码打开在线对账单，并核对检查点",
    cp_matches: "✓ 二维码中的检查点与本对账单的签名检查点一致。",
    cp_differs: "✗ 二维码中的检查点与本对账单的签名检查点不一致！请保留这份公告，并告知业委会。",
    print_note: "用浏览器打印本页，即得到一页 A4 公告，可张贴在公告栏。",
    prev_month: "← 上月",
    next_month: "下月 →",
    latest_statement: "最新月度对账单",
    all_statements: "全部对账单",
    list_sep: "、",

    kinds: &[
        ("estate_created", "小区建立"),
        ("member_enrolled", "成员登记"),
        ("member_revoked", "成员密钥撤销"),
        ("policy_set", "审批规则"),
        ("remuneration_ratio_set", "酬金比例"),
        ("unit_registered", "房屋登记"),
        ("fees_charged", "物业费计收"),
        ("fee_paid", "物业费缴纳"),
        ("public_income_received", "公共收益"),
        ("opening_balance", "期初余额"),
        ("claim_submitted", "支出申请"),
        ("claim_approved", "批准签名"),
        ("claim_rejected", "否决签名"),
        ("claim_expired", "申请过期"),
        ("disbursement_executed", "支出执行"),
        ("transfer", "账户间划转"),
        ("service_record", "服务记录"),
        ("statement_published", "月度报表"),
        ("correction", "冲正"),
    ],
    funds: ["物业费账户", "公共收益账户", "维修资金账户"],
    categories: [
        "维修", "保洁", "秩序维护", "绿化", "水电能耗", "电梯", "保险", "行政", "物业酬金", "其他",
    ],
    sources: ["电梯广告", "停车", "场地租金", "其他公共收益"],
    roles: ["物业公司", "业委会", "社区"],
    methods: ["银行转账", "微信", "支付宝", "现金", "其他"],
    standings: ["待审批", "已支付", "已否决", "已过期"],
    account_fees: "物业费收入",
    account_equity: "期初权益",
    account_receivable: "房屋应收",
    months: [
        "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
    ],
};

pub static EN: Texts = Texts {
    code: "en",
    html_lang: "en",
    product: "transparent estate trust funds",
    footer: "trustfund: the fund belongs to the owners; every entry can be verified.",
    lang_switch: "Language",
    staff_link: "Staff",

    estates: "Estates",
    intro: "Every fee, public income and payment goes into an append-only, hash-chained ledger that owners can verify on their own computers.",
    no_estates: "No estates yet.",
    origin: "Log origin",
    checkpoint: "Latest signed checkpoint",
    policy: "Verification policy (log key and witnesses)",
    entries: "Ledger entries (first 100, exact bytes)",
    open_dashboard: "Open the fund overview",

    nav_dashboard: "Overview",
    nav_ledger: "Ledger",
    nav_claims: "Claims",
    nav_services: "Service records",
    nav_statements: "Statements",
    nav_unit: "My unit",
    frozen: "This estate's ledger failed its integrity check; nothing new is recorded or signed: ",
    frozen_hint: "Until the fault is found and repaired, this estate's pages show no figures. Signed checkpoints and proofs can still be downloaded under the estate's /log/ and verified.",
    failure_classes: [
        "an entry is missing, edited, or breaks a ledger rule",
        "the postings table differs from the entries",
        "a Merkle tree node differs from the entries",
        "the balances table differs from the sum of the entries",
        "the monthly totals table differs from the entries",
        "a signed checkpoint differs from the entries",
        "the units table differs from the unit commitments in the log",
        "the bank references table differs from the log",
        "an append-only trigger is missing from the database",
        "the stored data differ from the log",
    ],

    not_found_title: "Not found",
    no_such_page: "There is no such page.",
    no_such_estate: "There is no such estate.",
    no_such_entry: "There is no such entry in the ledger.",
    no_such_claim: "There is no such claim.",
    no_such_service: "There is no such service record.",
    no_such_unit: "No unit has this code. Check the 20-character code printed on your bill.",
    no_such_statement: "There is no statement for this month (it may not be closed yet).",
    bad_request_title: "Bad request",
    bad_parameter: "Parameter",
    hint_number: "must be a non-negative whole number without leading zeros",
    hint_limit: "must be a whole number from 1 to 200",
    hint_kind: "is not a known entry kind",
    hint_account: "is not a known account (for example fund:reserve, expense:repairs)",
    hint_category: "is not a known spending category",
    hint_month: "must be a month written YYYY-MM, for example 2026-05",
    hint_status: "must be pending, executed, rejected or expired",
    hint_repeated: "may appear only once",
    hint_conflict: "contradicts the account parameter",
    rate_limited_title: "Too many attempts",
    rate_limited: "Too many look-ups. Please try again in a minute.",
    unavailable_title: "Unavailable",
    unavailable: "This estate's ledger failed its integrity check and is paused. Published checkpoints and proofs can still be verified.",
    internal_title: "Something went wrong",
    internal: "The server failed; this request changed nothing and the error was logged.",
    back_home: "Back to the start page",
    back_estate: "Back to the estate overview",

    as_of: "As of",
    balances: "Fund balances",
    total: "Total",
    this_month: "This month",
    this_year: "This year",
    last_12: "Last 12 months",
    income: "Income",
    spending: "Spending",
    fees_collected: "Fees collected",
    fees_charged: "Fees charged",
    public_income: "Public income",
    collection_rate: "Collection rate",
    collection_rate_note: "Collection rate = fees collected ÷ fees charged in the period (arrears paid late count too, so it can exceed 100%).",
    chart_title: "Monthly income and spending (last 12 months)",
    chart_note: "For each month the left bar is income (fees collected and each kind of public income), the right bar is spending by category.",
    chart_table: "Show the figures as a table",
    month: "Month",
    pending_claims: "Claims awaiting approval",
    no_pending: "No claims are waiting for approval.",
    signatures_so_far: "Signatures so far",
    no_signatures: "No signatures yet",
    needs: "Needs",
    expires: "Expires",
    recent_services: "Recent service records",
    no_services: "No service records yet.",
    view_all: "View all",
    latest_checkpoint: "Latest signed checkpoint",
    tree_size: "Entries (tree size)",
    root_hash: "Root hash",
    signed_by: "Signed by",
    signed_at: "Signed at",
    log_key: "the estate's log key",
    witness: "witness",
    no_checkpoint: "No checkpoint yet.",
    verify_yourself: "Verify it yourself",
    verify_note: "Checkpoints, the exact bytes of every entry and the proofs are published at fixed addresses, so anyone can check them with their own tools.",

    ledger_intro: "Every ledger entry, newest first. Each has its hash and links to the one before.",
    filter_kind: "Kind",
    filter_account: "Account",
    filter_month: "Month",
    filter_status: "Status",
    all: "All",
    apply: "Filter",
    clear: "Clear filters",
    col_seq: "#",
    col_time: "Time",
    col_kind: "Kind",
    col_amount: "Amount",
    col_what: "What for",
    col_hash: "Hash",
    newest: "Newest",
    older: "Older →",
    no_entries: "No entries match.",
    entry_title: "Ledger entry",
    fields: "Fields",
    canonical_bytes: "Canonical bytes (RFC 8785: exactly what is hashed and signed)",
    bytes: "bytes",
    download_bytes: "Download the exact bytes",
    entry_hash: "Entry hash",
    entry_hash_note: "SHA-256(0x00 ‖ canonical bytes): the RFC 9162 leaf hash.",
    prev_hash: "Previous entry's hash (prev)",
    first_entry: "The first entry; there is none before it.",
    postings: "Postings",
    account: "Account",
    debit: "Debit",
    credit: "Credit",
    inclusion_proof: "Inclusion proof",
    download_receipt: "Download receipt (verifiable offline)",
    inclusion_note: "Proves this entry is in the log covered by the signed checkpoint of size",
    not_yet_covered: "No signed checkpoint covers this entry yet.",
    see_claim: "The claim",
    corrected_by: "This entry was reversed by entry",
    corrects: "Reverses entry",
    previous: "← Previous",
    next: "Next →",

    claims_intro: "Every claim the property company made against the fund, with the signatures on it. No money leaves without both the company and the owners' committee signing.",
    claim_title: "Claim",
    payee: "Payee",
    amount: "Amount",
    amount_capital: "In Chinese capitals",
    fund_account: "Fund account",
    category: "Category",
    purpose: "Purpose",
    quote: "Original quote",
    evidence: "Evidence",
    evidence_missing: "Each file is stored under its SHA-256, the digest the ledger records: compute it on the download to check that the file was never swapped.",
    evidence_open: "Open file",
    service_record: "Service record",
    remuneration_for: "Remuneration for",
    entitlement: "Entitlement for that month",
    transfer_to: "Transfer to",
    submitted: "Submitted",
    status: "Status",
    decisions: "Signatures",
    approved: "approved",
    rejected: "rejected",
    reason: "Reason",
    paid_in: "Paid in entry",
    closed_in: "Closed in entry",
    expired_unrecorded: "Past its deadline; it can no longer be paid.",
    no_claims: "No claims match.",
    signer: "Signer",
    role: "Role",

    services_intro: "Work the property company recorded (work orders) with its evidence, and the claims that paid for it.",
    what: "What",
    location: "Where",
    done_on: "Done on",
    done_by: "Done by",
    cost: "Cost",
    paid_by: "Paid by claim",
    not_paid: "Not paid yet",
    description: "Description",
    recorded: "Recorded",
    voided: "This record was reversed.",

    unit_intro: "Type the 20-character code printed on your bill to see your unit's charges, payments and receipts.",
    code_label: "Code",
    look_up: "Look up",
    unit_privacy: "The public ledger names units only by a commitment, never by flat number; only someone holding the code can link payments to a flat.",
    unit: "Unit",
    area: "Floor area",
    monthly_fee: "Monthly fee",
    balance_owed: "Owed now",
    prepaid: "Paid in advance",
    settled: "Settled",
    charges: "Charges",
    payments: "Payments and receipts",
    receipt: "Receipt",
    commitment: "Public commitment",
    method: "Method",
    paid_on: "Paid on",
    no_payments: "No payments yet.",
    no_charges: "No charges yet.",
    showing_latest: "Showing only the latest records:",
    reversed: "reversal",
    receipts_note: "Each payment's inclusion proof is against the latest signed checkpoint, of size",

    statements_intro: "When a month is closed, its fees, public income and every payment are summed up in a monthly statement, written into the ledger, signed with the estate's log key and countersigned by witnesses from the owners' committee and the community.",
    no_statements: "No month has been closed yet.",
    closing_total: "Closing balance, all funds",
    witnessed_by: "Witnessed by",
    not_witnessed: "Not witnessed yet",
    statement_word: "Monthly statement",
    published: "Published",
    covers_entries: "Ledger entries covered",
    fund_balances: "Fund account balances",
    opening: "Opening",
    closing: "Closing",
    change: "Change",
    income_total: "Total income",
    income_note: "Total income = fees collected + public income. Collection rate = fees collected ÷ fees charged.",
    remuneration_and_arrears: "Remuneration and arrears",
    public_by_source: "Public income by source",
    spending_by_category: "Spending by category",
    opening_balances_recorded: "Opening balances recorded",
    corrections: "Corrections",
    corrections_note: "Amounts that this month's corrections reversed, by the kind of entry corrected. The figures above are gross, before corrections.",
    remuneration: "Company remuneration",
    remuneration_taken: "Taken",
    remuneration_entitled: "Entitlement (maximum)",
    arrears: "Arrears at month end",
    arrears_note: "Fees charged to all units and not yet paid.",
    month_entries: "This month's ledger entries",
    more_entries: "Only the first 200 are listed here. For the rest:",
    in_ledger: "see all of this month's entries in the ledger",
    statement_checkpoint: "Signed checkpoint covering this statement",
    committee_quorum: "Committee cosignatures",
    quorum_of: "required",
    not_covered_yet: "No signed checkpoint covers this statement yet.",
    log_signature_invalid: "This checkpoint's log signature does not verify! Do not trust the figures on this page, and tell the owners' committee.",
    unverified_lines: "Signature lines that do not verify with an enrolled witness key, not listed:",
    download_bundle: "Download the statement bundle (bundle.json)",
    how_to_verify: "To verify: download the bundle and run, on your own computer:",
    how_to_verify_after: "It must say VERIFIED and show the same figures as this page. See “Verifying your estate's accounts” (docs/VERIFY.md).",
    qr_caption: "Scan to open this statement online and check its checkpoint",
    cp_matches: "✓ The checkpoint in the QR code matches this statement's signed checkpoint.",
    cp_differs: "✗ The checkpoint in the QR code does not match this statement's signed checkpoint! Keep the notice and tell the owners' committee.",
    print_note: "Print this page from your browser for a one-page A4 notice for the notice board.",
    prev_month: "← Previous month",
    next_month: "Next month →",
    latest_statement: "Latest monthly statement",
    all_statements: "All statements",
    list_sep: ", ",

    kinds: &[
        ("estate_created", "Estate created"),
        ("member_enrolled", "Member enrolled"),
        ("member_revoked", "Member key revoked"),
        ("policy_set", "Approval policy"),
        ("remuneration_ratio_set", "Remuneration ratio"),
        ("unit_registered", "Unit registered"),
        ("fees_charged", "Fees charged"),
        ("fee_paid", "Fee paid"),
        ("public_income_received", "Public income"),
        ("opening_balance", "Opening balance"),
        ("claim_submitted", "Claim submitted"),
        ("claim_approved", "Claim approved"),
        ("claim_rejected", "Claim rejected"),
        ("claim_expired", "Claim expired"),
        ("disbursement_executed", "Payment made"),
        ("transfer", "Transfer"),
        ("service_record", "Service record"),
        ("statement_published", "Monthly statement"),
        ("correction", "Correction"),
    ],
    funds: ["Operating (fees)", "Public income", "Maintenance reserve"],
    categories: [
        "Repairs",
        "Cleaning",
        "Security",
        "Greening",
        "Utilities",
        "Elevators",
        "Insurance",
        "Administration",
        "Remuneration",
        "Other",
    ],
    sources: ["Elevator ads", "Parking", "Venue rent", "Other public income"],
    roles: ["Property company", "Owners' committee", "Community"],
    methods: ["Bank transfer", "WeChat", "Alipay", "Cash", "Other"],
    standings: ["Pending", "Paid", "Rejected", "Expired"],
    account_fees: "Fee income",
    account_equity: "Opening equity",
    account_receivable: "Unit receivable",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
};

fn index_of<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

impl Texts {
    pub fn kind<'a>(&self, kind: &'a str) -> &'a str {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(kind, |(_, label)| label)
    }
    pub fn fund(&self, f: FundAccount) -> &'static str {
        self.funds[index_of(&FundAccount::ALL, &f)]
    }
    pub fn category(&self, c: Category) -> &'static str {
        self.categories[index_of(&Category::ALL, &c)]
    }
    pub fn source(&self, s: IncomeSource) -> &'static str {
        self.sources[index_of(&IncomeSource::ALL, &s)]
    }
    pub fn role(&self, r: Role) -> &'static str {
        self.roles[index_of(&Role::ALL, &r)]
    }
    pub fn method(&self, m: PayMethod) -> &'static str {
        self.methods[index_of(&PayMethod::ALL, &m)]
    }
    pub fn standing(&self, s: Standing) -> &'static str {
        self.standings[index_of(&Standing::NAMES, &s.as_str())]
    }
    pub fn month_short(&self, p: Period) -> &'static str {
        self.months[(p.month().clamp(1, 12) - 1) as usize]
    }

    /// Why an estate is frozen, in this language only: the audit's detail
    /// is English, so the Chinese text names the class and the entry.
    pub fn frozen_text(&self, f: &AuditFailure) -> String {
        if self.code == "zh" {
            let class = self.failure_classes[index_of(&FailureClass::ALL, &f.class)];
            match f.seq {
                Some(seq) => format!("{}{class}，最早出问题的条目为 seq {seq}。", self.frozen),
                None => format!("{}{class}。", self.frozen),
            }
        } else {
            format!("{}{f}.", self.frozen)
        }
    }

    /// "2026-10 月度对账单" / "Monthly statement 2026-10".
    pub fn statement_heading(&self, p: Period) -> String {
        if self.code == "zh" {
            format!("{p} {}", self.statement_word)
        } else {
            format!("{} {p}", self.statement_word)
        }
    }

    /// An account as people call it.
    pub fn account(&self, a: &Account) -> String {
        match a {
            Account::Fund(f) => self.fund(*f).to_string(),
            Account::Receivable(u) => format!("{} {}", self.account_receivable, short(u)),
            Account::IncomeFees => self.account_fees.to_string(),
            Account::IncomePublic(s) => format!("{} · {}", self.public_income, self.source(*s)),
            Account::Expense(c) => format!("{} · {}", self.spending, self.category(*c)),
            Account::OpeningEquity => self.account_equity.to_string(),
        }
    }

    /// One line saying what an entry was for. `name` turns a member id
    /// into the member's display name.
    pub fn summary(&self, body: &Body, name: &dyn Fn(&str) -> String) -> String {
        if self.code == "zh" {
            self.summary_zh(body, name)
        } else {
            self.summary_en(body, name)
        }
    }

    fn summary_zh(&self, body: &Body, name: &dyn Fn(&str) -> String) -> String {
        match body {
            Body::EstateCreated {
                name: n, fee_rate, ..
            } => {
                format!("{n}，物业费 {fee_rate} 元/平方米·月")
            }
            Body::MemberEnrolled { name: n, role, .. } => format!("{n}（{}）", self.role(*role)),
            Body::MemberRevoked { member, reason, .. } => {
                format!("{}：{reason}", name(member.as_str()))
            }
            Body::PolicySet { version, rules, .. } => {
                format!("第 {version} 版；申请有效期 {} 天", rules.claim_ttl_days)
            }
            Body::RemunerationRatioSet { ratio, from } => {
                format!("自 {from} 起按实收物业费的 {} 计提", ratio.percent())
            }
            Body::UnitRegistered { unit, area } => format!("房屋 {}，{area} 平方米", short(unit)),
            Body::FeesCharged { period, units, .. } => format!("{period} 物业费，{units} 户"),
            Body::FeePaid {
                unit,
                method,
                paid_on,
                ..
            } => format!("房屋 {}，{}，{paid_on}", short(unit), self.method(*method)),
            Body::PublicIncomeReceived {
                source,
                payer,
                memo,
                ..
            } => format!("{}：{payer}，{memo}", self.source(*source)),
            Body::OpeningBalance { account, memo, .. } => {
                format!("{}：{memo}", self.fund(*account))
            }
            Body::ClaimSubmitted { payee, purpose, .. } => format!("{payee}：{purpose}"),
            Body::ClaimApproved { claim, member, .. } => {
                format!("{} 批准申请 #{claim}", name(member.as_str()))
            }
            Body::ClaimRejected {
                claim,
                member,
                reason,
                ..
            } => format!("{} 否决申请 #{claim}：{reason}", name(member.as_str())),
            Body::ClaimExpired { claim } => format!("申请 #{claim} 过期"),
            Body::DisbursementExecuted { claim, .. } => format!("支付申请 #{claim}"),
            Body::Transfer { claim, .. } => format!("按申请 #{claim} 划转"),
            Body::ServiceRecord {
                title, location, ..
            } => format!("{title}（{location}）"),
            Body::Correction {
                corrects, reason, ..
            } => format!("冲正 #{corrects}：{reason}"),
            Body::StatementPublished(st) => format!("{} 月度对账单", st.period),
        }
    }

    fn summary_en(&self, body: &Body, name: &dyn Fn(&str) -> String) -> String {
        match body {
            Body::EstateCreated {
                name: n, fee_rate, ..
            } => {
                format!("{n}, fee {fee_rate} yuan per m² per month")
            }
            Body::MemberEnrolled { name: n, role, .. } => format!("{n} ({})", self.role(*role)),
            Body::MemberRevoked { member, reason, .. } => {
                format!("{}: {reason}", name(member.as_str()))
            }
            Body::PolicySet { version, rules, .. } => format!(
                "version {version}; claims stay open {} days",
                rules.claim_ttl_days
            ),
            Body::RemunerationRatioSet { ratio, from } => {
                format!("{} of fees collected, from {from}", ratio.percent())
            }
            Body::UnitRegistered { unit, area } => format!("unit {}, {area} m²", short(unit)),
            Body::FeesCharged { period, units, .. } => {
                format!("fees for {period}, {units} units")
            }
            Body::FeePaid {
                unit,
                method,
                paid_on,
                ..
            } => format!("unit {}, {}, {paid_on}", short(unit), self.method(*method)),
            Body::PublicIncomeReceived {
                source,
                payer,
                memo,
                ..
            } => format!("{}: {payer}, {memo}", self.source(*source)),
            Body::OpeningBalance { account, memo, .. } => {
                format!("{}: {memo}", self.fund(*account))
            }
            Body::ClaimSubmitted { payee, purpose, .. } => format!("{payee}: {purpose}"),
            Body::ClaimApproved { claim, member, .. } => {
                format!("{} approved claim #{claim}", name(member.as_str()))
            }
            Body::ClaimRejected {
                claim,
                member,
                reason,
                ..
            } => format!(
                "{} rejected claim #{claim}: {reason}",
                name(member.as_str())
            ),
            Body::ClaimExpired { claim } => format!("claim #{claim} expired"),
            Body::DisbursementExecuted { claim, .. } => format!("paid claim #{claim}"),
            Body::Transfer { claim, .. } => format!("transfer for claim #{claim}"),
            Body::ServiceRecord {
                title, location, ..
            } => format!("{title} ({location})"),
            Body::Correction {
                corrects, reason, ..
            } => format!("reverses #{corrects}: {reason}"),
            Body::StatementPublished(st) => format!("statement for {}", st.period),
        }
    }
}

/// The first 8 hex digits of a commitment: enough to tell units apart on a page.
fn short(u: &UnitCommitment) -> String {
    let s = u.to_string();
    format!("{}…", &s[..8])
}
