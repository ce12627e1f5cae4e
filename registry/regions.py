"""Where a company is registered, read from its unified social credit code.

Characters 3-8 of the code (GB 32100-2015) are the administrative division of the registration
authority (GB/T 2260): "440300" is Shenzhen. The portals group and filter by it: a Guangdong
company by its prefecture-level city (4 digits), any other by its province (2 digits). Companies
without a code (imports from abroad) have no area.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tierwatch.core.vocab import Labels, vocabulary

GUANGDONG = "44"

# Guangdong's 21 prefecture-level cities (GB/T 2260 codes, first 4 digits).
GUANGDONG_CITIES: Labels = vocabulary(**{
    "4401": ("广州市", "Guangzhou"), "4402": ("韶关市", "Shaoguan"), "4403": ("深圳市", "Shenzhen"),
    "4404": ("珠海市", "Zhuhai"), "4405": ("汕头市", "Shantou"), "4406": ("佛山市", "Foshan"),
    "4407": ("江门市", "Jiangmen"), "4408": ("湛江市", "Zhanjiang"), "4409": ("茂名市", "Maoming"),
    "4412": ("肇庆市", "Zhaoqing"), "4413": ("惠州市", "Huizhou"), "4414": ("梅州市", "Meizhou"),
    "4415": ("汕尾市", "Shanwei"), "4416": ("河源市", "Heyuan"), "4417": ("阳江市", "Yangjiang"),
    "4418": ("清远市", "Qingyuan"), "4419": ("东莞市", "Dongguan"), "4420": ("中山市", "Zhongshan"),
    "4451": ("潮州市", "Chaozhou"), "4452": ("揭阳市", "Jieyang"), "4453": ("云浮市", "Yunfu"),
})

# Provinces and province-level cities (first 2 digits).
PROVINCES: Labels = vocabulary(**{
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"), "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"), "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"), "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"), "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"), "65": ("新疆维吾尔自治区", "Xinjiang"),
    "71": ("台湾省", "Taiwan"), "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
})

AREAS: Labels = vocabulary(**GUANGDONG_CITIES, **{k: v for k, v in PROVINCES.items() if k != GUANGDONG},
                           **{GUANGDONG: ("广东省（市不详）", "Guangdong (city unknown)")})


def area_of(credit_code: str | None) -> str | None:
    """The area code of a company: a Guangdong city, else its province; None without a code."""
    if not credit_code or len(credit_code) < 8:
        return None
    division = credit_code[2:8]
    if division.startswith(GUANGDONG):
        city = division[:4]
        return city if city in GUANGDONG_CITIES else GUANGDONG
    return division[:2] if division[:2] in PROVINCES else None


def area_expression(credit_code: Any) -> Any:
    """The same as SQL, for grouping (substr works alike on SQLite and PostgreSQL)."""
    return sa.case(
        (sa.func.substr(credit_code, 3, 2) == GUANGDONG, sa.func.substr(credit_code, 3, 4)),
        else_=sa.func.substr(credit_code, 3, 2),
    )


def area_filter(credit_code: Any, area: str) -> Any:
    """A condition: the company is registered in ``area`` (a 4-digit city or 2-digit province)."""
    return sa.func.substr(credit_code, 3, len(area)) == area


def area_label(code: str | None, language: str) -> str:
    if not code:
        return ""
    zh, en = AREAS.get(code, (code, code))
    return zh if language.startswith("zh") else en
