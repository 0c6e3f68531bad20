"""Planted lead effects: reps who win more in one industry, and WeCom behaviours of leads that
predict their conversion. Drawn from a random stream of their own after the org is simulated,
so every other draw (and with it the rest of the org and its truth) stays as it was.

- Industry skill: in every region each rep is given a distinct industry; half of the leads the
  rep converts are customers of that industry (the lead and its account carry it), so the rep
  converts and wins more there. Routing should recommend that rep for leads of that industry.
- Conversion signals: a lead's WeCom contact asks a question (the price, a trial) before the
  lead converts far more often than the contact of a lead that does not convert.

Both are recorded in the truth folder (``rep_industry_skill.csv``, ``lead_signals.csv``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from devkit.demo import vocab

if TYPE_CHECKING:
    from devkit.demo.org import Org

SKILLED_SHARE_OF_CONVERSIONS = 0.5
ASK_IF_CONVERTS = 0.7
ASK_IF_NOT = 0.12
QUESTIONS = [
    "你们这套系统大概多少钱？",
    "标准版一年多少钱？",
    "可以先申请试用吗？",
    "试用账号怎么开通？",
]


def plant(org: Org) -> None:
    rng = random.Random(f"{org.seed}-lead-effects")
    _plant_industry_skill(org, rng)
    _plant_questions(org, rng)


def _plant_industry_skill(org: Org, rng: random.Random) -> None:
    industries = list(vocab.INDUSTRIES)
    skill: dict[str, str] = {}  # crm user id -> industry
    regions: dict[str, list[Any]] = {}
    for rep in org.reps:
        regions.setdefault(rep.region, []).append(rep)
    for region, reps in sorted(regions.items()):
        picks = rng.sample(industries, min(len(reps), len(industries)))
        for rep, industry in zip(reps, picks, strict=False):
            skill[rep.user_id] = industry
            org.truth_rep_skills.append(
                {"rep_id": rep.rep_id, "region": region, "industry": industry}
            )
    accounts = {a["Id"]: a for a in org.crm["Account"]}
    for lead in org.crm["Lead"]:
        industry = skill.get(lead["OwnerId"])
        if not lead.get("IsConverted") or industry is None:
            continue
        if rng.random() >= SKILLED_SHARE_OF_CONVERSIONS:
            continue
        lead["Industry"] = industry
        account = accounts.get(lead.get("ConvertedAccountId"))
        if account is not None:
            account["Industry"] = industry


def _plant_questions(org: Org, rng: random.Random) -> None:
    contact_of: dict[str, tuple[str, str, datetime]] = {}  # mobile -> (external, rep, added)
    for c in org.wecom_contacts:
        info = c["follow_info"]
        external = c["external_contact"]["external_userid"]
        for mobile in info["remark_mobiles"]:
            contact_of.setdefault(mobile, (external, info["userid"], info["createtime"]))
    seq = 0
    for lead in org.crm["Lead"]:
        contact = contact_of.get(lead.get("MobilePhone"))
        if contact is None:
            continue
        external, rep, added = contact
        start = max(added, lead["CreatedDate"]) + timedelta(minutes=5)
        if lead.get("IsConverted"):
            converted = datetime.combine(lead["ConvertedDate"], datetime.min.time())
            end, chance = converted - timedelta(hours=12), ASK_IF_CONVERTS
        else:
            end, chance = min(org.end, start + timedelta(days=20)), ASK_IF_NOT
        if rng.random() >= chance or end <= start:
            continue
        t = start + (end - start) * rng.random()
        t = t.replace(microsecond=0)
        text = rng.choice(QUESTIONS)
        seq += 1
        org.messages.append(
            {
                "seq": 0,
                "msgid": f"q{seq:09d}_{rng.getrandbits(40):010x}_external",
                "action": "send",
                "from": external,
                "tolist": [rep],
                "roomid": "",
                "msgtime": t,
                "msgtype": "text",
                "text": {"content": text},
            }
        )
        org.truth_lead_signals.append(
            {
                "lead_id": lead["Id"],
                "signal": "wecom_question",
                "at": t,
                "converted": bool(lead.get("IsConverted")),
            }
        )
