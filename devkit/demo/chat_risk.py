"""Risky customer words planted before losses, and harmless look-alikes beside them.

On a share of the lost deals the customer hedges, names a risk word or a competitor's price
before the loss: a WeCom message to the rep (customers on WeCom) or the rep's CRM note of what
the customer said. Vague commitments come within a few days of a stage advance. Look-alikes
carry the same words where they mean nothing: 可能 in an unrelated sentence weeks away from
any stage change, a competitor named without a price, 报价 said on its own. Drawn from a stream
of their own, so every other record of the org stays as it is. Recorded in ``Org.chat_risk``
(truth/chat_risk.csv): every risky text, planted here or said in the everyday chats.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devkit.demo.org import Org, Simulator

PLANT_SHARE = 0.6  # of the lost deals
LOOKALIKE_SHARE = 0.3  # of all deals
WINDOW_DAYS = 7  # vague_commitment_window_days (ingest/sheets/defaults/settings.csv)

# (customer's WeCom message, rep's CRM note) per kind; {c} is a competitor
RISKY = {
    "vague_commitment": [
        ("这个月我们尽量推进，不过还要再等等", "客户表示尽量月底前推进，还要再等等"),
        ("争取下个月给您答复吧", "客户说争取下个月给答复"),
        ("内部还要再考虑一下，到时候再说", "客户称内部还要再考虑"),
        ("可能要等领导出差回来才能定", "客户说可能要等领导出差回来才能定"),
    ],
    "risk_word": [
        ("领导还没批，这事先放一放", "客户反馈领导还没批，暂缓"),
        ("今年预算不足，先等等", "客户说今年预算不足，项目暂缓"),
        ("项目要延期了，等通知吧", "客户通知项目延期"),
    ],
    "competitor_price": [
        ("{c}便宜不少，你们价格太高了", "客户提到{c}，认为我们价格太高"),
    ],
}
LOOKALIKES = [
    ("明天可能下雨，路上注意安全", "客户说明天可能下雨，改天再约"),
    ("我们以前用过{c}的系统", "客户以前用过{c}的系统"),
    ("报价收到了，谢谢", None),
]


def record(org: Org, source: str, record_id: str, opportunity_id: str | None, origin: str,
           kind: str = "", risky: bool = True) -> None:  # fmt: skip
    org.chat_risk.append(
        {
            "text_source": source,
            "record_id": record_id,
            "opportunity_id": opportunity_id or "",
            "kind": kind,
            "origin": origin,
            "is_risky": risky,
        }
    )


def plant(sim: Simulator) -> None:
    org = sim.org
    rng = random.Random(f"{org.seed}-chat-risk")
    entries: dict[str, list[dict[str, Any]]] = {}
    for s in org.truth_stages:
        entries.setdefault(s["opportunity_id"], []).append(s)
    competitors = _competitors()
    for opp_id in sorted(sim.deals):
        rep, cust, _account, contact = sim.deals[opp_id]
        stays = sorted(entries.get(opp_id, []), key=lambda s: s["entered_at"])
        lost = next((s["entered_at"] for s in stays if s["stage"] == "lost"), None)
        advances = [
            s["entered_at"]
            for s in stays
            if s["stage"] not in ("lead_confirmed", "lost")
            and (lost is None or s["entered_at"] < lost)
        ]
        on_wecom = cust.external_userid is not None
        if lost is not None and rng.random() < PLANT_SHARE:
            kind = rng.choice(
                ["vague_commitment"] * 5 + ["risk_word"] * 3 + ["competitor_price"] * 2
            )
            if kind == "vague_commitment" and advances:
                after = advances[-1]
                # a weekend may move it on by up to three days
                span = min(WINDOW_DAYS - 3, (lost - after).total_seconds() / 86400)
                at = after + timedelta(days=rng.uniform(0.1, max(span, 0.2)))
            else:
                kind = "risk_word" if kind == "vague_commitment" else kind
                start = stays[0]["entered_at"]
                at = start + (lost - start) * rng.uniform(0.5, 0.95)
            at = _working(rng, at)
            if at < lost and at <= org.end:
                wecom_text, note = rng.choice(RISKY[kind])
                c = rng.choice(competitors)
                if on_wecom and rng.random() < 0.6:
                    msgid = _message(sim, rng, cust.external_userid, rep.wecom_userid, at,
                                     wecom_text.format(c=c))  # fmt: skip
                    record(org, "wecom", msgid, opp_id, "planted", kind)
                else:
                    task_id = _note(sim, rng, rep, contact, opp_id, at, note.format(c=c))
                    record(org, "crm_note", task_id, opp_id, "planted", kind)
        if rng.random() < LOOKALIKE_SHARE:
            wecom_text, note = rng.choice(LOOKALIKES)
            # weeks away from every stage change of the deal
            last = stays[-1]["entered_at"] if stays else org.start
            at = _working(rng, last + timedelta(days=rng.uniform(WINDOW_DAYS + 14, 90)))
            if at > org.end:
                continue
            c = rng.choice(competitors)
            if on_wecom and (note is None or rng.random() < 0.6):
                msgid = _message(sim, rng, cust.external_userid, rep.wecom_userid, at,
                                 wecom_text.format(c=c))  # fmt: skip
                record(org, "wecom", msgid, opp_id, "lookalike", risky=False)
            elif note is not None:
                task_id = _note(sim, rng, rep, contact, opp_id, at, note.format(c=c))
                record(org, "crm_note", task_id, opp_id, "lookalike", risky=False)


def _competitors() -> list[str]:
    from devkit.demo import vocab

    return list(vocab.COMPETITORS)


def _working(rng: random.Random, t: datetime) -> datetime:
    """``t`` moved to a weekday between 09:30 and 17:30."""
    day = t.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    if day != t.date() or not time(9, 30) <= t.time() <= time(17, 30):
        return datetime.combine(day, time(9, 30)) + timedelta(seconds=rng.randint(0, 8 * 3600))
    return t


def _message(sim: Simulator, rng: random.Random, sender: str, to: str, at: datetime,
             text: str) -> str:  # fmt: skip
    sim._seq += 1
    msgid = f"{sim._seq:010d}_{rng.getrandbits(40):010x}_external"
    sim.org.messages.append(
        {
            "seq": 0,
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": [to],
            "roomid": "",
            "msgtime": at,
            "msgtype": "text",
            "text": {"content": text},
        }
    )
    return msgid


def _note(sim: Simulator, rng: random.Random, rep, contact: str, opp_id: str, at: datetime,
          text: str) -> str:  # fmt: skip
    """The rep's CRM note (a task of kind 其他: no draw from the org's own stream)."""
    logged = at + timedelta(minutes=rng.randint(2, 40))
    return sim.task(rep, contact, opp_id, at, "other", text, logged)["Id"]
