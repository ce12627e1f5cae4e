"""Realistic applications, written from the laws' own examples, with the tier each regime gives.

Each case: (key, application fields, {jurisdiction: (tier, rule that must fire, zh fragment of
its reason, en fragment of its reason)}). Unlisted fields are unset.
"""

from __future__ import annotations

from typing import Any

PUBLIC = ["general"]
FILED_MODEL = [{"name": "通义千问", "filing_number": "Beijing-QianWen-20230831S0001"}]


def app(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": fields.get("name", "应用"), "deployment_channels": ["app"],
                            "models": FILED_MODEL, "human_oversight": "on_request",
                            "content_labelling": True, "security_assessment_done": True}
    base.update(fields)
    return base


CASES: list[tuple[str, dict[str, Any], dict[str, tuple[str, str, str, str]]]] = [
    ("face_swap_app", app(
        name="趣换脸", scenario="用户上传照片，一键替换短视频中的人脸", domain="social",
        capabilities=["video_deepfake", "image_generation"], audiences=PUBLIC,
        personal_info=["biometric"], monthly_active_users=3_000_000),
     {"cn-gd": ("high", "CN-DS-01", "换脸", "face-swap scams"),
      "eu": ("medium", "EU-ART50-4", "深度伪造", "deep fakes")}),
    ("voice_clone_app", app(
        name="声音克隆助手", scenario="克隆亲人声音朗读祝福", domain="social",
        capabilities=["voice_cloning"], audiences=["general", "elderly"], content_labelling=False,
        security_assessment_done=False, personal_info=["biometric"], monthly_active_users=400_000),
     {"cn-gd": ("high", "CN-DS-02", "仿声", "impersonate relatives"),
      "eu": ("medium", "EU-ART50-2-UNMARKED", "未申报标记", "no marking")}),
    ("recruiting_screener", app(
        name="智能简历筛选", scenario="自动筛选简历并给候选人打分排序 / screens CVs and ranks candidates",
        domain="employment", capabilities=["decision_making", "recommendation"],
        audiences=["business"], personal_info=["sensitive"], monthly_active_users=20_000),
     {"cn-gd": ("high", "CN-ADM-03", "就业歧视", "discrimination"),
      "eu": ("high", "EU-AIII-4", "招聘", "recruit")}),
    ("credit_scoring", app(
        name="个人信用评分模型", scenario="根据消费和还款数据为借款人评定信用分", domain="finance",
        capabilities=["decision_making"], audiences=PUBLIC, personal_info=["financial"],
        monthly_active_users=500_000),
     {"cn-gd": ("high", "CN-ADM-01", "重大影响", "major impact"),
      "eu": ("high", "EU-AIII-5B", "信用评分", "credit-scoring")}),
    ("news_feed", app(
        name="头条资讯推荐", scenario="新闻资讯个性化推荐与热榜", domain="media_news",
        capabilities=["recommendation"], audiences=PUBLIC, public_opinion_attributes=True,
        personal_info=["location"], monthly_active_users=20_000_000, regions=["CN"]),
     {"cn-gd": ("high", "CN-ALG-01", "舆论属性", "public-opinion attributes"),
      "eu": ("low", "", "", "")}),
    ("customer_service_bot", app(
        name="电商智能客服", scenario="回答订单、物流和退换货问题", domain="ecommerce",
        capabilities=["text_generation"], audiences=PUBLIC, monthly_active_users=200_000),
     {"cn-gd": ("low", "CN-GAI-01", "生成式人工智能服务", "generative AI service"),
      "eu": ("medium", "EU-ART50-1", "正在与人工智能系统交互", "interacting with an AI system")}),
    ("internal_code_assistant", app(
        name="研发代码助手", scenario="公司内部工程师的代码补全", domain="other",
        capabilities=["text_generation"], audiences=["business"], deployment_channels=["api"],
        monthly_active_users=2_000),
     {"cn-gd": ("low", "", "", ""), "eu": ("low", "", "", "")}),
    ("kids_tutor_chatbot", app(
        name="小学生作业辅导机器人", scenario="为小学生讲解题目、陪伴练习", domain="education",
        capabilities=["text_generation"], audiences=["minors"], personal_info=["sensitive"],
        monthly_active_users=800_000),
     {"cn-gd": ("high", "CN-GAI-03", "未成年人", "minors"),
      "eu": ("medium", "EU-ART50-1", "正在与人工智能系统交互", "interacting with an AI system")}),
    ("workplace_emotion", app(
        name="员工情绪监测", scenario="通过摄像头分析员工工作时的情绪与专注度", domain="employment",
        capabilities=["emotion_recognition"], audiences=["business"], personal_info=["biometric"],
        monthly_active_users=5_000),
     {"cn-gd": ("high", "CN-EMO-02", "员工、学生情绪", "employees or students"),
      "eu": ("prohibited", "EU-ART5-F", "工作场所", "workplace")}),
    ("social_scoring", app(
        name="城市文明信用分", scenario="整合居民社会行为生成社会信用评分，低分者限制享受公共服务 / social scoring of residents",
        domain="government", capabilities=["decision_making"], audiences=PUBLIC,
        personal_info=["sensitive", "location", "financial"], monthly_active_users=5_000_000),
     {"cn-gd": ("high", "CN-ADM-01", "重大影响", "major impact"),
      "eu": ("prohibited", "EU-ART5-C", "社会评分", "social scoring")}),
    ("realtime_face_id_police", app(
        name="街面实时人脸布控", scenario="在公共场所对行人进行实时人脸识别比对 / real-time remote biometric identification",
        domain="security_policing", capabilities=["biometric_identification"], audiences=PUBLIC,
        personal_info=["biometric", "location"], monthly_active_users=-1),
     {"cn-gd": ("high", "CN-BIO-02", "公共安全", "public security"),
      "eu": ("prohibited", "EU-ART5-H", "实时", "Real-time")}),
    ("predictive_policing", app(
        name="犯罪风险预测", scenario="基于个人画像预测犯罪风险 / predict crime risk from profiles",
        domain="security_policing", capabilities=["decision_making"], audiences=PUBLIC,
        personal_info=["sensitive"], human_oversight="none"),
     {"cn-gd": ("high", "CN-ADM-02", "高度自主", "highly autonomous"),
      "eu": ("prohibited", "EU-ART5-D", "犯罪风险", "committing a crime")}),
    ("clinical_triage", app(
        name="影像辅助诊断", scenario="肺结节CT影像辅助诊断，医生复核", domain="healthcare",
        capabilities=["decision_making"], audiences=["business"], personal_info=["health"],
        human_oversight="human_in_loop", monthly_active_users=3_000),
     {"cn-gd": ("high", "CN-MED-01", "替代医师", "replace the physician"),
      "eu": ("high", "EU-ART6-1-MED", "医疗器械", "medical device")}),
    ("exam_admission", app(
        name="招生录取评分系统", scenario="根据考试与面试数据给出录取建议 / admission scoring", domain="education",
        capabilities=["decision_making"], audiences=["general", "minors"], personal_info=["sensitive"]),
     {"cn-gd": ("high", "CN-PI-02", "十四周岁", "under 14"),
      "eu": ("high", "EU-AIII-3", "录取", "admission")}),
    ("marketing_images", app(
        name="商品海报生成", scenario="商家生成商品营销图片", domain="ecommerce",
        capabilities=["image_generation"], audiences=["business"], monthly_active_users=30_000),
     {"cn-gd": ("low", "", "", ""),
      "eu": ("medium", "EU-ART50-2", "机器可读", "machine-readable")}),
    ("logistics_optimizer", app(
        name="仓储路径优化", scenario="仓库拣货路径规划", domain="other",
        capabilities=["decision_making"], audiences=["business"], personal_info=[]),
     {"cn-gd": ("low", "", "", ""), "eu": ("low", "", "", "")}),
    ("game_npc_chat", app(
        name="游戏角色对话", scenario="游戏内NPC实时对话", domain="gaming",
        capabilities=["text_generation"], audiences=["general", "minors"], monthly_active_users=600_000),
     {"cn-gd": ("medium", "CN-GAI-03", "沉迷", "addiction"),
      "eu": ("medium", "EU-ART50-1", "交互", "interacting")}),
    ("smart_grid_dispatch", app(
        name="电网负荷智能调度", scenario="省级电网负荷预测与自动调度", domain="critical_infrastructure",
        capabilities=["decision_making"], audiences=["business"], human_oversight="human_in_loop"),
     {"cn-gd": ("high", "CN-CII-01", "关键信息基础设施", "critical information infrastructure"),
      "eu": ("high", "EU-AIII-2", "关键数字基础设施", "critical digital infrastructure")}),
    ("shopping_recommender", app(
        name="购物推荐", scenario="首页商品个性化推荐与促销定价", domain="ecommerce",
        capabilities=["recommendation"], audiences=["general", "elderly"],
        personal_info=["location", "financial"], monthly_active_users=30_000_000,
        regions=["广东", "广西", "湖南", "福建", "江西", "海南"]),
     {"cn-gd": ("high", "CN-SCALE-02", "一千万", "Ten million"),
      "eu": ("low", "", "", "")}),
    ("election_bot", app(
        name="选民动员助手", scenario="在选举期间生成并定向推送政治信息以影响投票 / targets voters during elections",
        domain="media_news", capabilities=["text_generation", "recommendation"], audiences=PUBLIC,
        public_opinion_attributes=True, security_assessment_done=False),
     {"cn-gd": ("high", "CN-SEC-01", "安全评估", "security assessment"),
      "eu": ("high", "EU-AIII-8B", "投票", "voting")}),
    ("bank_fraud_detection", app(
        name="交易反欺诈", scenario="银行交易反欺诈检测 / fraud detection", domain="finance",
        capabilities=["decision_making"], audiences=["business"], personal_info=["financial"],
        human_oversight="human_in_loop"),
     {"cn-gd": ("low", "CN-PI-01", "敏感个人信息", "sensitive personal information"),
      "eu": ("low", "", "", "")}),
    ("novel_writer_unlabelled", app(
        name="AI小说写作", scenario="根据提示续写网络小说", domain="media_news",
        capabilities=["text_generation"], audiences=PUBLIC, content_labelling=False,
        models=[{"name": "自研写作模型", "filing_number": None}], monthly_active_users=100_000),
     {"cn-gd": ("high", "CN-GAI-02", "未登记备案编号", "no filing number"),
      "eu": ("medium", "EU-ART50-4-NEWS", "公共利益", "public interest")}),
    ("face_unlock_verification", app(
        name="刷脸登录", scenario="用户本人刷脸登录的身份核验 / face verification at login", domain="finance",
        capabilities=["biometric_identification"], audiences=PUBLIC, personal_info=["biometric"]),
     {"cn-gd": ("medium", "CN-BIO-01", "单独同意", "separate consent"),
      "eu": ("medium", "EU-ART50-3", "告知", "informed")}),
    ("cross_border_translation", app(
        name="跨境会议翻译", scenario="为企业会议提供实时翻译", domain="other",
        capabilities=["text_generation", "voice_cloning"], audiences=["business"],
        cross_border_transfer=True, personal_info=["sensitive"]),
     {"cn-gd": ("medium", "CN-PI-03", "标准合同", "standard contract"),
      "eu": ("medium", "EU-ART50-4", "深度伪造", "deep fakes")}),
]
