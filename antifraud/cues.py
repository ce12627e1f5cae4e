"""Content cues a fraud analyst would name, as phrase sets over the normalised text.

A cue fires when any of its phrases occurs (Han phrases of 2-6 characters, or one Latin token
such as the "zzurl" the normaliser writes for a link). Phrases, not regular expressions: they are
matched by the same hashed-n-gram pass as the text features, at no extra cost per report.
Some cues describe legitimate notices (an OTP's "do not share" warning, an unsubscribe line):
the model weighs them like any other evidence, and they name reasons on both sides.
"""

from __future__ import annotations

CUES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (zh label, en label, phrases)
    "money_request": ("要求转账或付款", "asks for a transfer or payment", (
        "转账", "汇款", "打款", "转到", "转入", "打到", "垫付", "充值", "缴纳", "交费", "付款", "先交", "借钱",
        "借点钱", "急用钱", "走账", "打给", "汇到", "转给", "转一下", "转点", "交钱", "保证金", "手续费",
        "解冻费", "押金", "工本费", "税费", "会员费", "打点费", "赔偿金", "罚款", "刷流水",
        # asking a person (not a firm) for money
        "借我", "借给我", "转我", "转给我", "打给我", "给我转", "汇给我", "用钱", "先转", "帮我付", "帮我交",
        "帮我垫", "定金", "订金", "预付", "打点", "借条")),
    "code_request": ("索要验证码", "asks for a verification code", (
        "提供验证码", "把验证码", "验证码告诉", "验证码发给", "报验证码", "说出验证码", "验证码给我",
        "收到的验证码", "告诉我验证码", "短信验证码发", "念一下", "验证码报")),
    "code_mention": ("提到验证码", "mentions a verification code", ("验证码", "校验码", "动态码", "动态密码")),
    "card_or_id": ("索要卡号、身份证或密码", "card, ID number or password", (
        "银行卡号", "卡号", "身份证号", "身份证", "账户信息", "密码", "户名", "账号", "zzcard", "信用卡号", "开户行")),
    "app_download": ("要求下载应用", "asks to install an app", (
        "下载", "安装", "app", "apk", "软件", "客户端", "二维码", "扫码", "扫描")),
    "link": ("含链接", "contains a link", ("zzurl", "链接", "网址", "点击")),
    "screen_share": ("屏幕共享或远程控制", "screen sharing or remote control", (
        "屏幕共享", "共享屏幕", "视频会议", "会议软件", "会议号", "房间号", "远程", "向日葵", "腾讯会议",
        "瞩目", "zoom", "开摄像头", "录屏")),
    "urgency": ("制造紧迫感", "urgency", (
        "立即", "马上", "尽快", "紧急", "急用", "限时", "逾期", "否则", "立刻", "赶紧", "抓紧", "小时内",
        "今天之内", "来不及", "很着急", "十万火急")),
    "secrecy": ("要求保密", "asks for secrecy", (
        "不要告诉", "保密", "别告诉", "不得透露", "不要声张", "泄密", "千万别", "不要跟", "不能告诉家人",
        "不要让", "单独", "私下")),
    "authority": ("冒充公检法", "impersonates police or courts", (
        "公安局", "公安", "警官", "民警", "检察院", "法院", "通缉", "逮捕", "洗钱", "涉嫌", "安全账户",
        "刑侦", "专案组", "传票", "拘留", "犯罪", "警察", "办案", "案件", "调查", "冻结")),
    "service_pretext": ("冒充客服售后", "customer-service pretext", (
        "客服", "理赔", "退款", "赔偿", "售后", "快递丢失", "质量问题", "注销", "百万保障", "会员", "扣费",
        "退费", "退还", "误操作", "关闭服务")),
    "loan_offer": ("贷款或额度", "loan or credit offer", (
        "贷款", "额度", "放款", "无抵押", "低息", "征信", "网贷", "下款", "借款", "信用贷", "审核通过", "提额")),
    "acquaintance": ("冒充熟人或领导", "poses as an acquaintance or boss", (
        "领导", "老板", "同学", "换号", "新号码", "号码换", "猜猜我", "出车祸", "医药费", "老同学", "你儿子",
        "你女儿", "你外孙", "你孙子", "表姐", "亲戚", "李总", "王总", "张总")),
    "contact_move": ("要求私下联系", "moves the talk elsewhere", (
        "加微信", "qq", "vx", "wx", "添加", "微信号", "私聊", "联系我", "好友", "加我", "企业微信")),
    "lure": ("高回报诱惑", "promises easy money", (
        "稳赚", "高回报", "返利", "佣金", "刷单", "兼职", "日赚", "中奖", "免费领取", "内幕", "收益", "翻倍")),
    "official_role": ("自称机构人员", "claims an official role", (
        "工作人员", "客服人员", "专员", "经理", "代表", "负责人", "主管", "办事员")),
    # legitimate-notice cues: evidence against a scam
    "share_warning": ("提醒勿泄露", "warns not to share", (
        "请勿泄露", "切勿告知", "请勿转发", "切勿泄露", "不要泄露", "提供给他人", "勿告诉", "不会索取", "请勿告知",
        "谨防诈骗", "谨防上当")),
    "unsubscribe": ("退订提示", "unsubscribe line", ("退订", "td", "拒收")),
    "account_notice": ("账户动态通知", "account activity notice", (
        "消费人民币", "支出", "入账", "存入", "余额为", "尾号", "交易", "还款日", "账单", "已成功")),
}


def cue_names() -> list[str]:
    return list(CUES)


# The direction an analyst gives each cue: +1 evidence for a scam, -1 evidence against, 0 either.
# Training keeps each cue's weight on its side of zero: a cue of a scam type missing from the
# training data must not become evidence *against* a scam (it would, as it occurs only in
# legitimate texts there).
SIGN = {name: 1 for name in CUES} | {"code_mention": 0, "share_warning": -1, "unsubscribe": -1, "account_notice": -1}
