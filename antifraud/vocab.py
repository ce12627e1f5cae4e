"""Codes of the anti-fraud domain with (zh-CN, en) labels. The API, the worker and the models
all use exactly these codes."""

from __future__ import annotations

from tierwatch.core.vocab import vocabulary


CHANNELS = vocabulary(
    phone=("电话", "phone call"),
    sms=("短信", "SMS"),
    messaging_app=("即时通讯", "messaging app"),
    video_call=("视频通话", "video call"),
    social_media=("社交媒体", "social media"),
    website=("网站", "website"),
    in_person=("当面接触", "in person"),
    other=("其他渠道", "other channel"),
)

# The public-security taxonomy of telecom and online fraud (公安机关电信网络诈骗分类).
SCAM_TYPES = vocabulary(
    impersonate_authority=("冒充公检法及政府机关", "impersonating police or government"),
    loan_credit=("贷款、代办信用卡", "loans and credit cards"),
    fake_customer_service=("冒充电商物流客服", "fake customer service"),
    impersonate_acquaintance=("冒充领导、熟人", "impersonating a boss or acquaintance"),
    task_rebate=("刷单返利", "task / rebate scam"),
    romance=("网络婚恋、交友", "online dating and romance"),
    investment=("虚假投资理财", "investment and finance"),
    gaming=("网络游戏产品虚假交易", "game accounts and items"),
    phishing=("钓鱼链接、虚假网站", "phishing links"),
    other=("其他类型", "other"),
)

AI_TECHNIQUES = vocabulary(
    cloned_voice=("AI 克隆声音", "cloned voice"),
    face_swap_video=("AI 换脸视频", "face-swap video"),
    chatbot=("AI 聊天机器人", "chatbot"),
    generated_media=("AI 生成的文件或图片", "generated documents or images"),
    none=("未发现 AI 手段", "no AI technique"),
)

# How the money left the victim (scam reports' ``payment_method``).
PAYMENT_METHODS = vocabulary(
    bank_transfer=("银行转账", "bank transfer"),
    alipay=("支付宝", "Alipay"),
    wechat_pay=("微信支付", "WeChat Pay"),
    cash=("现金", "cash"),
    crypto=("虚拟货币", "cryptocurrency"),
    gift_card=("购物卡、游戏点卡", "gift or game cards"),
    other=("其他方式", "other"),
)

REPORTER_TYPES = vocabulary(
    citizen=("群众举报", "citizen"),
    partner_feed=("合作方推送", "partner feed"),
    company=("企业报告", "company"),
)

IDENTIFIER_KINDS = vocabulary(
    phone=("电话号码", "phone number"),
    url=("网址", "URL"),
    domain=("域名", "domain"),
    account=("社交账号", "account"),
    payment_account=("收款账户", "payment account"),
    app=("应用", "app"),
)

INCIDENT_TYPES = vocabulary(
    harmful_content=("有害内容", "harmful content"),
    data_leak=("数据泄露", "data leak"),
    bias_discrimination=("偏见歧视", "bias / discrimination"),
    security_breach=("安全入侵", "security breach"),
    model_misuse=("模型滥用", "model misuse"),
    outage=("服务中断", "outage"),
)

SEVERITIES = vocabulary(
    low=("低", "low"),
    medium=("中", "medium"),
    high=("高", "high"),
    critical=("严重", "critical"),
)

APP_TIERS = vocabulary(
    low=("低风险", "low risk"),
    medium=("中风险", "medium risk"),
    high=("高风险", "high risk"),
)

# Guangdong's 21 prefecture-level cities (a report's ``region`` is "广东省" + the city's name).
GD_CITIES = vocabulary(
    guangzhou=("广州市", "Guangzhou"),
    shenzhen=("深圳市", "Shenzhen"),
    zhuhai=("珠海市", "Zhuhai"),
    shantou=("汕头市", "Shantou"),
    foshan=("佛山市", "Foshan"),
    shaoguan=("韶关市", "Shaoguan"),
    zhanjiang=("湛江市", "Zhanjiang"),
    zhaoqing=("肇庆市", "Zhaoqing"),
    jiangmen=("江门市", "Jiangmen"),
    maoming=("茂名市", "Maoming"),
    huizhou=("惠州市", "Huizhou"),
    meizhou=("梅州市", "Meizhou"),
    shanwei=("汕尾市", "Shanwei"),
    heyuan=("河源市", "Heyuan"),
    yangjiang=("阳江市", "Yangjiang"),
    qingyuan=("清远市", "Qingyuan"),
    dongguan=("东莞市", "Dongguan"),
    zhongshan=("中山市", "Zhongshan"),
    chaozhou=("潮州市", "Chaozhou"),
    jieyang=("揭阳市", "Jieyang"),
    yunfu=("云浮市", "Yunfu"),
)
GD_PROVINCE = "广东省"


def city_region(city: str) -> str:
    """A Guangdong city code -> the ``region`` a report carries ("shenzhen" -> "广东省深圳市")."""
    return GD_PROVINCE + GD_CITIES[city][0]


def city_of(region: str | None) -> str | None:
    """The Guangdong city a ``region`` names ("广东省深圳市", "深圳", "广东深圳"), or None."""
    if not region:
        return None
    text = region.strip().removeprefix(GD_PROVINCE).removeprefix("广东")
    for code, (zh, _en) in GD_CITIES.items():
        if text.startswith(zh) or text.startswith(zh.removesuffix("市")):
            return code
    return None


PROVINCES = (
    "北京 天津 河北 山西 内蒙古 辽宁 吉林 黑龙江 上海 江苏 浙江 安徽 福建 江西 山东 河南 湖北 "
    "湖南 广东 广西 海南 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门 台湾"
).split()
