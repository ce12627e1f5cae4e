"""The controlled vocabulary of an AI application filing.

Rule files, the API schemas, the importer and the web forms all use these codes. Labels are
(zh-CN, en). Adding a code here is a schema change: the rule-file JSON Schema and the API
accept exactly these values.

Two kinds of field: the filing's profile (`FILING_FIELDS`: name, capabilities, domain ...) and
the structured questions (`QUESTIONS`: the facts the laws turn on, asked the way the EU AI Act's
own decision tree asks them). Both are columns of `application_versions` and both are read by
rule conditions (`APPLICATION_FIELDS`). The filing form is rendered from these tables: each
question carries its wording, answer type, help text, when it is asked (`relevant_if`) and, for
an answer that claims an exemption, the written justification it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from tierwatch.core.vocab import Labels, vocabulary

__all__ = ["Labels", "APPLICATION_FIELDS", "FILING_FIELDS", "QUESTIONS", "ANSWER_FIELDS", "Question",
           "MIN_JUSTIFICATION", "MAX_JUSTIFICATION"]

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
    # What a system does to the world, for the Annex III and Article 6(3) questions and for the
    # spam filter that is neither policing nor a decision about a person.
    classification=("分类/归类", "classification"),
    detection=("检测/识别异常", "detection"),
    monitoring=("监测/监控", "monitoring"),
    physical_control=("控制物理过程", "control of a physical process"),
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
    security_policing=("公安/执法", "law enforcement / policing"),
    cybersecurity=("网络与数据安全", "cybersecurity / IT security"),
    justice=("司法与纠纷解决", "justice / dispute resolution"),
    other=("其他", "other"),
)

AUDIENCES = vocabulary(
    minors=("未成年人", "minors"),
    elderly=("老年人", "elderly"),
    general=("一般公众", "general public"),
    business=("企业用户", "business"),
)

PERSONAL_INFO = vocabulary(
    ordinary=("一般个人信息", "ordinary personal data"),
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


# --- answers to the structured questions ----------------------------------------------------

YES_NO_UNKNOWN = vocabulary(
    yes=("是", "yes"),
    no=("否", "no"),
    unknown=("不确定", "unknown"),
)

OFFERED_TO = vocabulary(
    public=("向境内公众提供服务", "offered to the public"),
    business_only=("仅向企业或机构客户提供，不直接面向公众", "offered to businesses only, not to the public"),
    internal_only=("仅在本单位内部使用，不向公众提供", "internal use only, not offered to the public"),
)

ANNEX_III_PURPOSES = vocabulary(
    biometric_remote_identification=("远程生物识别", "remote biometric identification"),
    biometric_categorisation=("按敏感或受保护属性进行生物特征分类", "biometric categorisation by sensitive or protected attributes"),
    emotion_recognition=("情绪识别", "emotion recognition"),
    critical_infrastructure_safety=("关键数字基础设施、道路交通或水电气热供应的安全组件", "safety component of critical digital infrastructure, road traffic or water, gas, heating, electricity supply"),
    education_admission=("决定教育或职业培训的入学、录取或分配", "access, admission or assignment to education or vocational training"),
    education_assessment=("评价学习成果", "evaluating learning outcomes"),
    education_level=("评估个人应接受的教育水平", "assessing the level of education a person will receive"),
    exam_proctoring=("考试中监测违规行为", "monitoring prohibited behaviour during tests"),
    recruitment=("招聘或选拔（定向招聘广告、筛选简历、评价候选人）", "recruitment or selection (targeted job ads, filtering applications, evaluating candidates)"),
    work_management=("影响劳动关系的决定、分配任务、监测评价员工表现", "decisions on work relationships, task allocation, monitoring or evaluating workers"),
    public_benefits=("评估公共援助福利和服务资格，或授予、削减、撤销福利", "eligibility for, or granting, reducing, revoking public assistance benefits and services"),
    creditworthiness=("评估个人信用或确定信用评分", "creditworthiness or credit scoring of natural persons"),
    insurance_pricing=("人寿或健康保险中的个人风险评估与定价", "risk assessment and pricing of natural persons in life or health insurance"),
    emergency_dispatch=("紧急呼叫分类、急救调度或急诊分诊", "evaluating emergency calls, dispatching first responders, emergency patient triage"),
    law_enforcement_victim_risk=("执法：评估个人成为犯罪受害者的风险", "law enforcement: risk of a person becoming a crime victim"),
    polygraph=("执法或移民管理中的测谎及类似工具", "polygraphs and similar tools in law enforcement or migration"),
    law_enforcement_evidence=("执法：评估证据可靠性", "law enforcement: reliability of evidence"),
    law_enforcement_offending_risk=("执法：评估犯罪或再犯风险（非仅基于画像）", "law enforcement: risk of offending or re-offending (not solely by profiling)"),
    law_enforcement_profiling=("执法：侦查、起诉中对个人画像", "law enforcement: profiling in detection, investigation or prosecution"),
    migration_risk=("移民或边境管理：评估入境人员的安全、非法移民或健康风险", "migration or border control: security, irregular-migration or health risk of a person"),
    migration_applications=("审查庇护、签证、居留许可申请及相关投诉", "examining applications for asylum, visas, residence permits and related complaints"),
    migration_identification=("移民或边境管理中检测、识别个人（旅行证件核验除外）", "detecting, recognising or identifying persons in migration or border control (travel-document checks excepted)"),
    justice=("协助司法机关研究解释事实和法律或用于替代性纠纷解决", "assisting judicial authorities or alternative dispute resolution"),
    elections=("影响选举、公投结果或投票行为", "influencing elections, referendums or voting behaviour"),
    none=("以上均不是", "none of these"),
)

RBI_EXCEPTIONS = vocabulary(
    none=("不适用", "none"),
    victim_search=("有针对性地搜寻特定受害者或失踪人员", "targeted search for specific victims or missing persons"),
    imminent_threat=("防止对生命或人身安全的具体、重大、迫在眉睫的威胁或恐怖袭击", "preventing a specific, substantial and imminent threat to life or a terrorist attack"),
    serious_crime_suspect=("定位、识别严重犯罪嫌疑人", "locating or identifying a suspect of a serious criminal offence"),
)

EMOTION_SETTINGS = vocabulary(
    workplace=("工作场所", "workplace"),
    education=("教育机构", "education institution"),
    other=("其他场景", "other settings"),
)

ART6_3_CONDITIONS = vocabulary(
    none=("不主张", "not claimed"),
    narrow_procedural_task=("仅执行狭窄的程序性任务", "performs a narrow procedural task"),
    improves_prior_human_activity=("仅改进此前已完成的人类活动结果", "improves the result of a previously completed human activity"),
    detects_decision_patterns=("仅检测决策模式或偏差，不替代或影响人工评估", "detects decision patterns or deviations without replacing or influencing the human assessment"),
    preparatory_task=("仅为附件三所列用途的评估执行准备性任务", "performs a preparatory task to an Annex III assessment"),
)

# Written reasons for exemption claims: as long as a regulator's override needs (risk.models).
MIN_JUSTIFICATION = 20  # characters; 20 Chinese characters already make a sentence
MAX_JUSTIFICATION = 4000


@dataclass(frozen=True)
class Question:
    """One structured question of the filing form: what the filer is asked, how it is answered,
    what it serves, and when it is asked.

    kind: "yesno" (yes / no / unknown), "choice" (one code of `choices`), "multi" (a list of
    codes), "text" (free text, e.g. a filing number). An unanswered question is absent (NULL),
    never read as "no"; "unknown" is an honest answer that never grants what "no" would.
    """

    code: str
    kind: str
    ask: tuple[str, str]  # (zh, en), as the form asks it
    help: tuple[str, str]  # (zh, en), shown under the question
    serves: tuple[str, ...]  # the provisions that turn on the answer (short, English)
    choices: Labels | None = None
    justify: frozenset[str] = frozenset()  # answers claiming an exemption: need a written reason
    justification: tuple[str, str] | None = None  # (zh, en): what that written reason must explain
    relevant_if: str = ""  # CEL over the filing: the form asks it then, and flags it unanswered

    def __post_init__(self) -> None:
        if self.kind == "yesno":
            object.__setattr__(self, "choices", YES_NO_UNKNOWN)
        if bool(self.justify) != (self.justification is not None):
            raise ValueError(f"{self.code}: an exemption answer needs the justification it asks for")

    @property
    def field_kind(self) -> str:
        """The kind conditions see it as (see APPLICATION_FIELDS)."""
        return {"multi": "set", "text": "str"}.get(self.kind, "enum")


def _questions(*items: Question) -> Mapping[str, Question]:
    return MappingProxyType({q.code: q for q in items})


_BIO = '"biometric_identification" in capabilities'
_DECIDES = ('capabilities.exists(c, c in ["decision_making", "recommendation", "classification", '
            '"detection", "monitoring"])')
_WHY = "请说明理由（至少20字），监管人员将逐项复核。"
_WHY_EN = " (at least 20 characters; a regulator reviews every claim)."

QUESTIONS = _questions(
    Question(
        "offered_to_public", "choice",
        ("本服务是否向境内公众提供？", "Is the service offered to the public?"),
        ("仅供本单位内部使用或仅向企业客户提供的服务，生成式人工智能办法的部分义务不适用；"
         "如选择后两项，须说明服务对象及如何防止公众使用。",
         "Services used only inside the organisation, or offered to businesses only, fall outside "
         "some duties of the generative-AI measures; if you choose either, say who uses the service "
         "and how the public is kept out."),
        ("CN GAI Measures Art. 2(1),(3)", "CN Deep Synthesis Provisions Art. 2",
         "CN Algorithmic Recommendation Provisions Art. 2"),
        OFFERED_TO, frozenset({"business_only", "internal_only"}),
        ("说明服务对象（哪些单位或部门）以及如何确保公众无法使用。" + _WHY,
         "Say who the users are (which organisations or departments) and how the public is kept "
         "from using it" + _WHY_EN)),
    Question(
        "intended_purpose", "multi",
        ("系统的预期用途属于下列哪些情形？", "Which of these is the system's intended purpose?"),
        ("按欧盟《人工智能法》附件三所列用途勾选；都不属于时请选“以上均不是”。不作答不等于“以上均不是”。",
         "Tick every use listed in Annex III of the EU AI Act that applies; choose \"none of these\" "
         "if none does. Leaving it blank is not the same as \"none of these\"."),
        ("EU AI Act Art. 6(2), Annex III points 1-8",),
        ANNEX_III_PURPOSES),
    Question(
        "annex_i_product", "yesno",
        ("系统是否为须经第三方合格评定的欧盟协调立法所涵盖产品（如医疗器械、机械、玩具、车辆）或其安全组件？",
         "Is the system, or is it a safety component of, a product under Annex I legislation "
         "(e.g. medical devices, machinery, toys, vehicles) that needs third-party conformity assessment?"),
        ("例如：作为医疗器械软件上市的辅助诊断系统、工业机器人的安全控制模块。",
         "For example: diagnostic software placed on the market as a medical device, the safety "
         "controller of an industrial robot."),
        ("EU AI Act Art. 6(1), Annex I",)),
    Question(
        "safety_component", "yesno",
        ("系统是否作为关键数字基础设施、道路交通或水电气热供应管理运行中的安全组件，其失效会危及人身或财产安全？",
         "Is the system a safety component in managing or operating critical digital infrastructure, "
         "road traffic, or water, gas, heating or electricity supply, whose failure endangers people or property?"),
        ("安全组件指其失效或故障会危及人身健康安全或财产安全的部分；仅做报表、预测而不参与控制的一般不属于。",
         "A safety component is a part whose failure or malfunction endangers health, safety or "
         "property; a system that only reports or forecasts and controls nothing usually is not one."),
        ("EU AI Act Annex III point 2, Art. 3(14)", "CN CII Regulations Art. 2"),
        relevant_if='domain == "critical_infrastructure" || "physical_control" in capabilities'),
    Question(
        "rbi_remote", "yesno",
        ("系统是否在个人未主动参与的情况下，远距离将其生物特征与数据库比对以识别身份？",
         "Does the system identify people at a distance, without their active involvement, by "
         "comparing their biometric data with a reference database?"),
        ("例如：摄像头抓拍路人人脸并与名单比对。用户本人主动刷脸核验身份（一对一）不属于此项。",
         "For example: cameras capture passers-by and match their faces against a watch list. A user "
         "actively verifying their own identity (one-to-one) is not this."),
        ("EU AI Act Art. 3(41), Annex III point 1(a)",), relevant_if=_BIO),
    Question(
        "rbi_real_time", "yesno",
        ("识别是否在采集后无明显延迟地进行（实时、现场比对）？",
         "Does identification happen without significant delay after capture (live, real-time)?"),
        ("采集后立即或短暂延迟内完成比对即属实时；事后调取录像比对为“事后识别”。",
         "Matching at capture or within a short delay counts as real-time; matching recorded footage "
         "afterwards is \"post\" identification."),
        ("EU AI Act Art. 3(42), Art. 5(1)(h)",), relevant_if=_BIO),
    Question(
        "rbi_public_spaces", "yesno",
        ("是否在公众可进入的场所使用？", "Is it used in publicly accessible spaces?"),
        ("街道、车站、商场、体育场馆等不特定人员可进入的场所，无论其所有者是谁。",
         "Streets, stations, shops, stadiums and other places anyone may enter, whoever owns them."),
        ("EU AI Act Art. 3(44), Art. 5(1)(h)", "CN PIPL Art. 26"), relevant_if=_BIO),
    Question(
        "rbi_law_enforcement", "yesno",
        ("是否由执法机关或代表执法机关为执法目的使用？",
         "Is it used by or on behalf of law-enforcement authorities for law-enforcement purposes?"),
        ("执法目的包括预防、侦查、起诉犯罪和执行刑罚。", "Law-enforcement purposes include preventing, "
         "investigating and prosecuting crime and executing penalties."),
        ("EU AI Act Art. 3(45)-(46), Art. 5(1)(h)",), relevant_if=_BIO),
    Question(
        "rbi_exception", "choice",
        ("如为执法在公共场所实时识别，主张第5条第1款(h)项的哪项例外（须经事先授权）？",
         "If real-time identification in public spaces for law enforcement: which Art. 5(1)(h) "
         "exception is claimed (prior authorisation required)?"),
        ("例外仅限法定情形，且须经司法或独立行政机关事先授权；无例外时请选“不适用”。",
         "Exceptions are limited to the cases the Act lists and need prior authorisation by a "
         "judicial or independent administrative authority; choose \"none\" otherwise."),
        ("EU AI Act Art. 5(1)(h)(i)-(iii), Art. 5(2)-(3)",),
        RBI_EXCEPTIONS, frozenset({"victim_search", "imminent_threat", "serious_crime_suspect"}),
        ("说明授权机关、授权文号、适用的具体情形及时间地域限制。" + _WHY,
         "Name the authorising body and decision, the specific situation, and the limits in time "
         "and place" + _WHY_EN),
        relevant_if=_BIO + ' && rbi_real_time == "yes" && rbi_law_enforcement == "yes"'),
    Question(
        "biometric_verification_only", "yesno",
        ("生物特征处理是否仅用于确认特定个人即其声称的本人（一对一核验）？",
         "Is biometric processing used only to confirm that a person is who they claim to be "
         "(one-to-one verification)?"),
        ("如刷脸登录、刷脸支付时与本人留存照片比对；与多人名单比对不属于一对一核验。",
         "As in face log-in or payment against the user's own enrolled photo; matching against a "
         "list of many people is not one-to-one verification."),
        ("EU AI Act Annex III point 1(a), second sentence",),
        justify=frozenset({"yes"}),
        justification=("说明比对对象如何限于用户本人留存的特征、是否由用户主动发起。" + _WHY,
                       "Explain how matching is limited to the user's own enrolled template and "
                       "whether the user starts it" + _WHY_EN),
        relevant_if=_BIO),
    Question(
        "biometric_categorisation_sensitive", "yesno",
        ("是否依据生物特征数据推断种族、政治观点、工会成员身份、宗教或哲学信仰、性生活或性取向？",
         "Does the system use biometric data to deduce race, political opinions, trade-union "
         "membership, religious or philosophical beliefs, sex life or sexual orientation?"),
        ("包括从人脸、声音等推断上述属性后对人归类。", "Including sorting people into these categories "
         "from their faces, voices or other biometric data."),
        ("EU AI Act Art. 5(1)(g)",), relevant_if=_BIO),
    Question(
        "infers_emotions", "yesno",
        ("系统是否根据人脸、声音等生物特征数据识别或推断人的情绪或意图？",
         "Does the system identify or infer people's emotions or intentions from biometric data "
         "such as faces or voices?"),
        ("例如：由表情判断专注度、由语音判断情绪。仅识别文字内容的情感倾向不属于此项。",
         "For example: reading attention from facial expressions, or mood from the voice. Sentiment "
         "of written text alone is not this."),
        ("EU AI Act Art. 3(39), Annex III point 1(c), Art. 50(3)",),
        relevant_if='"emotion_recognition" in capabilities || "biometric_identification" in capabilities'),
    Question(
        "emotion_settings", "multi",
        ("在哪些场景中推断情绪？", "Where are emotions inferred?"),
        ("工作场所包括招聘面试；教育机构包括在线课堂和考试。", "The workplace includes job interviews; "
         "education includes online classes and exams."),
        ("EU AI Act Art. 5(1)(f)",), EMOTION_SETTINGS,
        relevant_if='infers_emotions == "yes" || "emotion_recognition" in capabilities'),
    Question(
        "emotion_medical_or_safety", "yesno",
        ("在工作场所或教育机构推断情绪，是否专为医疗或安全原因（如驾驶员疲劳监测）？",
         "If emotions are inferred at work or in education: is it only for medical or safety "
         "reasons (e.g. driver fatigue)?"),
        ("仅限医疗或安全目的；用于绩效考核、专注度评价等不属于例外。",
         "Only medical or safety purposes count; appraising performance or attention does not."),
        ("EU AI Act Art. 5(1)(f), exception",), justify=frozenset({"yes"}),
        justification=("说明具体的医疗或安全目的，以及结果不用于考核、奖惩。" + _WHY,
                       "Say which medical or safety purpose it serves and that results are not "
                       "used to appraise or discipline anyone" + _WHY_EN),
        relevant_if='emotion_settings.exists(s, s in ["workplace", "education"])'),
    Question(
        "manipulative_techniques", "yesno",
        ("系统是否使用潜意识、有意操纵或欺骗性技术，明显削弱人作出知情决定的能力？",
         "Does the system use subliminal, purposefully manipulative or deceptive techniques that "
         "appreciably impair people's ability to make an informed decision?"),
        ("例如：不可察觉的提示音或画面、诱导性界面设计（暗黑模式）促使用户作出本不会作出的决定。",
         "For example: imperceptible cues, or interface designs (dark patterns) that push people into "
         "decisions they would not otherwise take."),
        ("EU AI Act Art. 5(1)(a)", "CN Algorithmic Recommendation Provisions Art. 8")),
    Question(
        "exploits_vulnerabilities", "yesno",
        ("系统是否利用年龄、残疾或特定社会经济处境造成的弱点来实质性扭曲人的行为？",
         "Does the system exploit vulnerabilities due to age, disability or a specific social or "
         "economic situation to materially distort behaviour?"),
        ("例如：针对老年人、未成年人或经济困难人群诱导消费、借贷。",
         "For example: pushing elderly people, minors or people in financial hardship into buying "
         "or borrowing."),
        ("EU AI Act Art. 5(1)(b)", "CN Algorithmic Recommendation Provisions Arts. 8, 18, 19")),
    Question(
        "social_scoring", "yesno",
        ("系统是否在一段时间内依据社会行为或个人特征对人评价或打分，且分数导致在无关情境中或不相称的不利待遇？",
         "Does the system evaluate or score people over time by their social behaviour or personal "
         "traits, with the score leading to detrimental treatment in unrelated contexts or out of proportion?"),
        ("如“文明积分”影响办事、补贴资格。依据还款记录评估信用属于信用评估，请在预期用途中选择。",
         "Such as a \"civility score\" that affects access to services or benefits. Assessing credit "
         "from repayment records is credit scoring: choose it under intended purpose."),
        ("EU AI Act Art. 5(1)(c)",)),
    Question(
        "crime_prediction_profiling", "yesno",
        ("系统是否仅根据画像或人格特征评估、预测个人实施犯罪的风险？",
         "Does the system assess or predict a person's risk of committing a crime based solely on "
         "profiling or personality traits?"),
        ("以与犯罪活动直接相关的客观事实支持人工评估的，不属于此项。",
         "Supporting a human assessment already based on objective facts linked to a criminal "
         "activity is not this."),
        ("EU AI Act Art. 5(1)(d)",), relevant_if='domain == "security_policing"'),
    Question(
        "untargeted_face_scraping", "yesno",
        ("系统是否通过从互联网或监控录像中无差别抓取人脸图像来建立或扩充人脸识别数据库？",
         "Does the system create or expand a facial-recognition database by untargeted scraping of "
         "facial images from the internet or CCTV footage?"),
        ("无差别抓取指不针对特定个人的批量采集。", "Untargeted means collected in bulk, not about "
         "specific people."),
        ("EU AI Act Art. 5(1)(e)",), relevant_if=_BIO),
    Question(
        "profiling", "yesno",
        ("系统是否对自然人进行画像（自动评估其工作表现、经济状况、健康、偏好、行为、位置等）？",
         "Does the system profile natural persons (automated evaluation of work performance, "
         "economic situation, health, preferences, behaviour, location ...)?"),
        ("进行画像的附件三系统始终为高风险，不能主张第6条第3款的例外。",
         "An Annex III system that profiles people is always high-risk and cannot claim the "
         "Art. 6(3) derogation."),
        ("EU AI Act Art. 6(3), last subparagraph", "CN PIPL Art. 24"), relevant_if=_DECIDES),
    Question(
        "art6_3_exemption", "choice",
        ("附件三所列系统是否主张第6条第3款的例外（不构成重大危害风险）？",
         "For an Annex III system: is the Art. 6(3) derogation claimed (no significant risk of harm)?"),
        ("主张例外须在投放前书面记录评估（第6条第4款）并在欧盟数据库登记（第49条第2款）；不主张请选“不主张”。",
         "A claim must be documented before the system is placed on the market (Art. 6(4)) and "
         "registered in the EU database (Art. 49(2)); choose \"not claimed\" otherwise."),
        ("EU AI Act Art. 6(3)(a)-(d), Art. 6(4), Art. 49(2)",),
        ART6_3_CONDITIONS, frozenset({"narrow_procedural_task", "improves_prior_human_activity",
                                     "detects_decision_patterns", "preparatory_task"}),
        ("说明系统具体执行什么任务、为何不影响决定的实质结果，并附第6条第4款评估记录的编号。" + _WHY,
         "Describe the task the system performs, why it does not materially influence the outcome "
         "of decisions, and reference the Art. 6(4) assessment record" + _WHY_EN),
        relevant_if='intended_purpose.exists(p, p != "none")'),
    Question(
        "fraud_detection_only", "yesno",
        ("金融领域的系统是否仅用于检测金融欺诈（不评估信用、不确定信用评分）？",
         "For a finance system: is its sole purpose detecting financial fraud (no creditworthiness "
         "evaluation or credit score)?"),
        ("只要系统也评估信用或影响授信决定，就不适用此例外。",
         "If the system also evaluates creditworthiness or influences lending decisions, the "
         "carve-out does not apply."),
        ("EU AI Act Annex III point 5(b), exception",), justify=frozenset({"yes"}),
        justification=("说明系统检测哪类欺诈、输出如何使用，以及为何不用于信用评估或授信决定。" + _WHY,
                       "Say which fraud it detects, how its output is used, and why it is never "
                       "used for credit assessment or lending decisions" + _WHY_EN),
        relevant_if='domain == "finance" && "decision_making" in capabilities'),
    Question(
        "interacts_with_people", "yesno",
        ("系统是否直接与自然人交互（对话、语音助手等）？",
         "Does the system interact directly with natural persons (chat, voice assistant ...)?"),
        ("仅在后台批量生成内容、不与人对话的，选“否”。", "Choose \"no\" if it only generates "
         "content in the background and talks to no one."),
        ("EU AI Act Art. 50(1)",),
        relevant_if='capabilities.exists(c, c in ["text_generation", "voice_cloning"])'),
    Question(
        "public_interest_text", "yesno",
        ("系统生成的文本是否为向公众通报公共利益事项而发布？",
         "Is text the system generates published to inform the public on matters of public interest?"),
        ("例如：自动生成并发布新闻稿、政务信息。", "For example: news items or government "
         "notices generated and published automatically."),
        ("EU AI Act Art. 50(4), second subparagraph", "CN Algorithmic Recommendation Provisions Art. 13"),
        relevant_if='"text_generation" in capabilities'),
    Question(
        "human_editorial_control", "yesno",
        ("该类文本是否经人工审核或编辑控制，并由自然人或法人承担编辑责任？",
         "Does such text undergo human review or editorial control, with a person holding editorial "
         "responsibility?"),
        ("须每篇发布前经人工审核，并有明确的编辑责任人。", "Each item must be reviewed by a person "
         "before publication, with a named holder of editorial responsibility."),
        ("EU AI Act Art. 50(4), second subparagraph, exception",), justify=frozenset({"yes"}),
        justification=("说明审核流程、编辑责任人（岗位）及如何确保每篇发布前经人工审核。" + _WHY,
                       "Describe the review process, who holds editorial responsibility (the "
                       "role), and how every item is reviewed before publication" + _WHY_EN),
        relevant_if='public_interest_text == "yes"'),
    Question(
        "edits_real_persons", "yesno",
        ("服务是否生成或编辑特定真实人物的人脸、声音（换脸、仿声、数字分身）？",
         "Does the service generate or edit the face or voice of a specific real person (face swap, "
         "voice imitation, digital double)?"),
        ("包括用户上传本人或他人照片、录音进行合成。", "Including synthesis from photos or recordings "
         "users upload of themselves or others."),
        ("CN Deep Synthesis Provisions Arts. 14(2), 15(2)(1), 17(1)(2)-(3)", "EU AI Act Art. 50(4)"),
        relevant_if='capabilities.exists(c, c in ["voice_cloning", "video_deepfake", "image_generation"])'),
    Question(
        "differential_pricing", "yesno",
        ("算法是否根据消费者偏好、交易习惯等特征确定个别化的价格或交易条件？",
         "Does the algorithm set individual prices or trading terms from consumers' preferences or habits?"),
        ("即对同一商品或服务向不同消费者给出不同价格或条件（“大数据杀熟”）。",
         "That is, different prices or terms for the same goods or service to different consumers."),
        ("CN Algorithmic Recommendation Provisions Art. 21", "CN PIPL Art. 24(1)"),
        relevant_if='domain == "ecommerce"'),
    Question(
        "cac_algorithm_filing", "text",
        ("网信部门算法备案编号（网信算备…号）", "CAC algorithm filing number (网信算备…号)"),
        ("具有舆论属性或社会动员能力的算法推荐、深度合成服务须在国家网信部门备案；尚未备案请留空。",
         "Recommendation and deep-synthesis services with public-opinion attributes must be filed "
         "with the CAC; leave blank if not filed yet."),
        ("CN Algorithmic Recommendation Provisions Art. 24", "CN Deep Synthesis Provisions Art. 19"),
        relevant_if="public_opinion_attributes"),
)
ANSWER_FIELDS = frozenset(QUESTIONS)  # read from a filing's `answers`, not its top level

# The filing's profile: field name -> kind. "enum" takes one code, "set" a list of codes, from
# the vocabulary named.
FILING_FIELDS: Mapping[str, tuple[str, Labels | None]] = MappingProxyType(
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

# Everything a rule condition reads: the profile and every question.
APPLICATION_FIELDS: Mapping[str, tuple[str, Labels | None]] = MappingProxyType(
    {**FILING_FIELDS, **{q.code: (q.field_kind, q.choices) for q in QUESTIONS.values()}}
)
