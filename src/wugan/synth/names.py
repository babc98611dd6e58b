"""Name pools: surnames weighted like China's census counts, given-name characters, place syllables.

Pools are plain tuples so generation is an index draw plus a string gather (vectorised).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SURNAMES", "SURNAME_WEIGHTS", "GIVEN_M", "GIVEN_F", "PLACE_SYLLABLES", "HOSPITALS"]

# The most common surnames, weights roughly their share (percent) of the population.
_SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.6), ("杨", 3.1), ("赵", 2.3),
    ("黄", 2.2), ("周", 2.1), ("吴", 2.0), ("徐", 1.6), ("孙", 1.5), ("胡", 1.3), ("朱", 1.3),
    ("高", 1.3), ("林", 1.2), ("何", 1.2), ("郭", 1.2), ("马", 1.1), ("罗", 0.9), ("梁", 0.8),
    ("宋", 0.8), ("郑", 0.8), ("谢", 0.7), ("韩", 0.7), ("唐", 0.6), ("冯", 0.6), ("于", 0.6),
    ("董", 0.6), ("萧", 0.5), ("程", 0.5), ("曹", 0.5), ("袁", 0.5), ("邓", 0.5), ("许", 0.5),
    ("傅", 0.4), ("沈", 0.4), ("曾", 0.4), ("彭", 0.4), ("吕", 0.4), ("苏", 0.4), ("卢", 0.4),
    ("蒋", 0.4), ("蔡", 0.4), ("贾", 0.3), ("丁", 0.3), ("魏", 0.3), ("薛", 0.3), ("叶", 0.3),
    ("阎", 0.3), ("田", 0.3), ("崔", 0.3), ("孟", 0.3), ("房", 0.2), ("牛", 0.2), ("邢", 0.2),
)
SURNAMES = tuple(s for s, _ in _SURNAMES)
SURNAME_WEIGHTS = np.array([w for _, w in _SURNAMES]) / sum(w for _, w in _SURNAMES)

GIVEN_M = tuple("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣建国志文海峰亮成东德庆")
GIVEN_F = tuple("芳娜敏静丽艳娟霞秀英华玲桂兰萍红梅琳燕雪婷慧颖倩玉晶洁欣悦佳怡瑶丹淑凤霞琴云")

PLACE_SYLLABLES = tuple(
    "黄河坊安仁义和兴隆丰乐太平明德胜利新华东西南北宋孙刘王张李赵马杨郑"
    "柳杏桃梨枣槐杨桑花石桥庙寺屯营集店铺口湾庄堡寨河沟岭甸崖前后大小"
)

HOSPITALS = (
    "德州市人民医院", "德州市中医院", "德州市立医院", "德州联合医院", "德州市妇女儿童医院",
    "县人民医院", "县中医院", "县妇幼保健院", "乡镇卫生院", "社区卫生服务中心",
)
