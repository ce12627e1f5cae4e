"""The controlled vocabulary of an AI application filing.

Rule files, the API schemas, the importer and the web forms all use these codes. Labels are
(zh-CN, en). Adding a code here is a schema change: the rule-file JSON Schema and the API
accept exactly these values.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from tierwatch.core.vocab import Labels, vocabulary


DEPLOYMENT_CHANNELS = vocabulary(
    app=("移动应用", "mobile app"),
    web=("网站", "website"),
    api=("应用程序接口", "API"),
    mini_program=("小程序", "mini-program"),
    device=("智能终端设备", "device"),
)

CAPABILITIES = vocabulary(
    text_generation=("文本生成", "text generation"),
    image_generation=("图像生成", "image generation"),
    voice_cloning=("语音合成/声音克隆", "audio / voice cloning"),
    video_deepfake=("视频生成/深度合成换脸", "video / deepfake"),
    recommendation=("个性化推荐/排序", "recommendation / ranking"),
    decision_making=("自动化决策", "automated decision-making"),
    biometric_identification=("生物特征识别", "biometric identification"),
    emotion_recognition=("情绪识别", "emotion recognition"),
)

DOMAINS = vocabulary(
    finance=("金融", "finance"),
    healthcare=("医疗卫生", "healthcare"),
    education=("教育", "education"),
    employment=("就业与人力资源", "employment"),
    public_services=("公共服务", "public services"),
    media_news=("新闻媒体", "media / news"),
    ecommerce=("电子商务", "e-commerce"),
    social=("社交", "social"),
    gaming=("游戏", "gaming"),
    government=("政务", "government"),
    critical_infrastructure=("关键信息基础设施", "critical infrastructure"),
    security_policing=("公共安全/执法", "security / policing"),
    other=("其他", "other"),
)

AUDIENCES = vocabulary(
    minors=("未成年人", "minors"),
    elderly=("老年人", "elderly"),
    general=("一般公众", "general public"),
    business=("企业用户", "business"),
)

PERSONAL_INFO = vocabulary(
    sensitive=("敏感个人信息", "sensitive personal information"),
    biometric=("生物识别信息", "biometrics"),
    location=("行踪轨迹/位置", "location"),
    health=("医疗健康信息", "health"),
    financial=("金融账户信息", "financial"),
)

HUMAN_OVERSIGHT = vocabulary(
    none=("无人工干预", "none"),
    on_request=("按需人工复核", "on request"),
    human_in_loop=("人工审核每次输出", "human in the loop"),
)

# Field name -> kind. "enum" takes one code, "set" a list of codes, from the vocabulary named.
APPLICATION_FIELDS: Mapping[str, tuple[str, Labels | None]] = MappingProxyType(
    {
        "name": ("str", None),
        "version": ("str", None),
        "description": ("str", None),
        "scenario": ("str", None),
        "deployment_channels": ("set", DEPLOYMENT_CHANNELS),
        "models": ("list", None),  # [{"name": ..., "filing_number": ...}]
        "capabilities": ("set", CAPABILITIES),
        "domain": ("enum", DOMAINS),
        "monthly_active_users": ("int", None),
        "regions": ("list", None),  # province / country codes or names
        "audiences": ("set", AUDIENCES),
        "personal_info": ("set", PERSONAL_INFO),
        "cross_border_transfer": ("bool", None),
        "public_opinion_attributes": ("bool", None),  # 具有舆论属性或者社会动员能力
        "human_oversight": ("enum", HUMAN_OVERSIGHT),
        "content_labelling": ("bool", None),  # generated content labelled / watermarked
        "security_assessment_done": ("bool", None),
    }
)
