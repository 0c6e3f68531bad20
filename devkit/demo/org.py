"""Simulation of a B2B sales organisation: people, leads, deals, activities, chats, ERP documents.

Everything happens in Asia/Shanghai wall-clock time (naive ``datetime``; the zone has no DST)
and is converted to each source's own representation by ``devkit.demo.writers``. One
``random.Random(seed)`` drives everything, in a fixed order, so an org is a pure function of
(seed, scale, as_of).

Ground truth is recorded while simulating: what really happened (when a lead was assigned and
first touched, which stages were entered with which evidence) and every planted anomaly of
SPEC §6 with the ids of the records involved.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from devkit.demo import behaviors, chat_risk, lead_effects, vocab
from devkit.demo.crm_rows import completed_task

UTC_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no DST
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Scale:
    reps_per_region: int
    months: int
    leads_per_rep_month: float
    legacy_months: int = 3
    # everyday WeCom messages per rep per working day with customers already added (both ways)
    chatter_per_day: float = 0.0


# XS: quick tests. S: the demo (24 reps, 6 months). M: a large org, 500 reps over a year
# (~200k leads, ~5M activities and chat messages). L: a scaled-down probe of 5,000 reps over
# 3 years: the 3-year history at 100 reps (benchmarks project from it and M).
SCALES: dict[str, Scale] = {
    "XS": Scale(reps_per_region=2, months=2, leads_per_rep_month=10),
    "S": Scale(reps_per_region=6, months=6, leads_per_rep_month=23),
    "M": Scale(reps_per_region=125, months=12, leads_per_rep_month=33, chatter_per_day=24),
    "L": Scale(reps_per_region=25, months=36, leads_per_rep_month=33, chatter_per_day=24),
}

# Behaviour of each rep archetype.
#   respond_h: median hours from assignment to first touch; untouched: share never touched
#   gap_d: median days between deal activities; substantive: share of activities with progress
#   info: chance a CRM field (decision chain, objection, next step) is filled
#   no_evidence: chance a stage is entered without its evidence; skip: chance of a stage skip
_TRAITS = "respond_h untouched convert gap_d substantive info no_evidence skip dwell after_hours"
# one row per archetype, its traits in the order of _TRAITS
ARCHETYPES: dict[str, dict[str, float]] = {
    name: dict(zip(_TRAITS.split(), values, strict=True))
    for name, values in {
        "hunter": (1.0, 0.02, 0.42, 1.5, 0.7, 0.92, 0.03, 0.01, 0.8, 0.35),
        "steady": (5.0, 0.06, 0.36, 2.0, 0.55, 0.75, 0.06, 0.02, 1.0, 0.08),
        "veteran": (26.0, 0.14, 0.28, 5.0, 0.3, 0.45, 0.18, 0.03, 1.5, 0.02),
        "backfiller": (9.0, 0.08, 0.32, 2.0, 0.35, 0.6, 0.1, 0.03, 1.1, 0.02),
        "new_hire": (14.0, 0.1, 0.28, 2.5, 0.45, 0.5, 0.2, 0.12, 1.2, 0.05),
    }.items()
}
# Regional line-ups, cycled: every region gets a hunter and a veteran; backfillers and new hires
# sit in some regions only, as in real teams.
LINEUPS = [
    ["hunter", "backfiller", "steady", "veteran", "steady", "new_hire"],
    ["steady", "new_hire", "veteran", "steady", "hunter", "steady"],
    ["hunter", "veteran", "steady", "backfiller", "steady", "steady"],
    ["steady", "veteran", "hunter", "steady", "steady", "new_hire"],
]
STAGE_DWELL_DAYS = {1: 5.0, 2: 8.0, 3: 10.0, 4: 12.0, 5: 20.0}


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id: prefix + pod + counter, with the case-safe suffix."""
    digits = ""
    for _ in range(9):
        n, r = divmod(n, 62)
        digits = BASE62[r] + digits
    base = f"{prefix}5g0{digits}"
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(base[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return base + suffix


@dataclass
class Person:
    rep_id: str
    name: str
    region: str
    role: str  # rep | manager | director
    archetype: str
    user_id: str
    wecom_userid: str
    u8_person_code: str
    manager: Person | None
    hire_date: date
    leave_date: date | None = None

    @property
    def traits(self) -> dict[str, float]:
        return ARCHETYPES[self.archetype]


@dataclass
class Customer:
    """A company and the one person we deal with there (lead -> contact)."""

    company: str
    u8_name: str
    region: str
    state: str
    city: str
    lat: float
    lng: float
    industry: str
    person: str
    title: str
    mobile: str
    email: str
    external_userid: str | None = None


@dataclass
class Org:
    seed: int
    scale_name: str
    as_of: date
    start: datetime
    end: datetime
    people: list[Person] = field(default_factory=list)
    crm: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    wecom_contacts: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    u8: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    legacy_visits: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    truth_leads: list[dict[str, Any]] = field(default_factory=list)
    truth_stages: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    truth_behaviors: list[dict[str, Any]] = field(default_factory=list)
    # customer words that are (or only look) risky: devkit.demo.chat_risk
    chat_risk: list[dict[str, Any]] = field(default_factory=list)
    truth_rep_skills: list[dict[str, Any]] = field(default_factory=list)
    truth_lead_signals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reps(self) -> list[Person]:
        return [p for p in self.people if p.role == "rep"]


class Simulator:
    def __init__(self, seed: int, scale: str, as_of: date, anomaly_rate: float = 1.0) -> None:
        """``anomaly_rate`` scales how often every planted anomaly happens: 0 gives a clean
        org, 2 twice the usual (backfill bursts: every week of the backfilling reps at ≥ 1,
        that share of their weeks below)."""
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
        if anomaly_rate < 0:
            raise ValueError(f"anomaly_rate must be ≥ 0, not {anomaly_rate}")
        self.rate = anomaly_rate
        self.rng = random.Random(seed)
        self.rng_erp = random.Random(seed * 7919 + 1)  # its own stream: extras leave the rest
        self.scale = SCALES[scale]
        start_month = _add_months(as_of.replace(day=1), -(self.scale.months - 1))
        self.org = Org(
            seed=seed,
            scale_name=scale,
            as_of=as_of,
            start=datetime.combine(start_month, time()),
            end=datetime.combine(as_of, time(23, 59, 59)),
        )
        self.org.crm = {k: [] for k in vocab_objects()}
        self.org.u8 = {k: [] for k in U8_TABLES}
        self._counters: dict[str, int] = {}
        self._ufts = 1000
        self._seq = 0
        self._names_used: set[str] = set()
        self._companies_used: set[str] = set()
        self._checkin_keys: set[tuple[str, datetime]] = set()
        # (rep, customer, start, end) of every visit, for the start/end-of-work punches
        self._visits: list[tuple[Person, Customer, datetime, datetime]] = []
        # every deal with its rep, customer, account and contact (for effects planted later)
        self.deals: dict[str, tuple[Person, Customer, str, str]] = {}
        self.queue_ids = {r: sf_id("00G", i + 1) for i, r in enumerate(vocab.REGIONS)}
        self.integration_user = sf_id("005", 1)

    # -- small helpers ---------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return sf_id(prefix, 100 + self._counters[prefix])

    def ufts(self) -> int:
        self._ufts += 1
        return self._ufts

    def lognormal(self, median: float, sigma: float = 0.8) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def person_name(self) -> str:
        for _ in range(100):
            name = self.rng.choice(vocab.SURNAMES) + self.rng.choice(vocab.GIVEN)
            if name not in self._names_used:
                self._names_used.add(name)
                return name
        return self.rng.choice(vocab.SURNAMES) + self.rng.choice(vocab.GIVEN)

    def mobile(self) -> str:
        return (
            "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
        )

    def work_time(self, t: datetime, late_ok: bool = False) -> datetime:
        """Move ``t`` into working hours (09:00-18:00 Mon-Fri) unless the rep works late."""
        if late_ok and t.weekday() < 6 and 8 <= t.hour < 22:
            return t
        if t.weekday() < 5 and 9 <= t.hour < 18:
            return t
        day = t.date() if t.hour < 9 else t.date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return datetime.combine(day, time(9)) + timedelta(seconds=self.rng.randint(0, 6000))

    def random_moment(self, lo: datetime, hi: datetime, work: bool = True) -> datetime:
        span = max((hi - lo).total_seconds(), 1.0)
        t = lo + timedelta(seconds=self.rng.random() * span)
        return self.work_time(t) if work else t

    def anomaly(self, rule: str, table: str, record_id: str, rep: Person | None, **details) -> None:
        self.org.anomalies.append(
            {
                "rule": rule,
                "source_table": table,
                "record_id": record_id,
                "rep_id": rep.rep_id if rep else None,
                "details": details,
            }
        )

    # -- the organisation ----------------------------------------------------------------------
    def build_people(self) -> None:
        org = self.org
        first_day = org.start.date() - timedelta(days=700)
        director = self._person("D01", "director", "总部", "steady", None, first_day)
        org.people.append(director)
        n = 0
        for r_index, region in enumerate(vocab.REGIONS):
            manager = self._person(
                f"M{r_index + 1:02d}",
                "manager",
                region,
                "steady",
                director,
                first_day + timedelta(days=30 * r_index),
            )
            org.people.append(manager)
            lineup = LINEUPS[r_index % len(LINEUPS)]
            for i in range(self.scale.reps_per_region):
                n += 1
                archetype = lineup[i % len(lineup)]
                if archetype == "new_hire":
                    hired = org.start.date() + timedelta(days=self.rng.randint(20, 45))
                elif archetype == "veteran":
                    hired = org.start.date() - timedelta(days=self.rng.randint(1500, 3000))
                else:
                    hired = org.start.date() - timedelta(days=self.rng.randint(120, 1200))
                rep = self._person(f"S{n:03d}", "rep", region, archetype, manager, hired)
                org.people.append(rep)
        # one steady rep of the second region leaves two thirds of the way through
        leavers = [p for p in org.reps if p.region == list(vocab.REGIONS)[1]]
        if len(leavers) > 3:
            span = (org.end - org.start).days
            leavers[-1].leave_date = org.start.date() + timedelta(days=int(span * 0.67))

    def _person(self, rep_id, role, region, archetype, manager, hired) -> Person:
        name = self.person_name()
        surname = name[0]
        pinyin = vocab.PINYIN.get(surname, "x")
        userid = f"{pinyin}{rep_id.lower()}"
        return Person(
            rep_id=rep_id,
            name=name,
            region=region,
            role=role,
            archetype=archetype,
            user_id=self.next_id("005"),
            wecom_userid=userid,
            u8_person_code=f"P{rep_id}",
            manager=manager,
            hire_date=hired,
        )

    def new_customer(self, region: str) -> Customer:
        state, city, lat, lng = self.rng.choice(vocab.REGIONS[region])
        industry = self.rng.choice(list(vocab.INDUSTRIES))
        for _ in range(200):
            core = self.rng.choice(vocab.COMPANY_CORE) + self.rng.choice(vocab.COMPANY_CORE)[0]
            kind = self.rng.choice(vocab.INDUSTRIES[industry])
            suffix = self.rng.choice(vocab.COMPANY_SUFFIX)
            if self.rng.random() < 0.3:
                company = f"{core}{kind}({city}){suffix}"
                u8_name = company.replace("(", "（").replace(")", "）")
            else:
                company = f"{city}{core}{kind}{suffix}"
                u8_name = company
            if company not in self._companies_used:
                break
        self._companies_used.add(company)
        person = self.person_name()
        surname = vocab.PINYIN.get(person[0], "x")
        return Customer(
            company=company,
            u8_name=u8_name,
            region=region,
            state=state,
            city=city,
            lat=lat + self.rng.uniform(-0.08, 0.08),
            lng=lng + self.rng.uniform(-0.08, 0.08),
            industry=industry,
            person=person,
            title=self.rng.choice(vocab.TITLES),
            mobile=self.mobile(),
            email=f"{surname}{self.rng.randint(1, 999)}@example.cn",
        )

    def run(self) -> Org:
        self.build_people()
        self.write_users()
        for rep in self.org.reps:
            self.simulate_rep(rep)
        self.simulate_u8_master()
        self.stamp_u8()
        self.build_targets()
        self.build_legacy_visits()
        self.simulate_chatter()
        self.simulate_work_punches()
        lead_effects.plant(self.org)
        self.org.truth_behaviors = behaviors.plant(self)
        chat_risk.plant(self)
        self.org.messages.sort(key=lambda m: (m["msgtime"], m["msgid"]))
        for i, m in enumerate(self.org.messages, start=1):
            m["seq"] = i
        return self.org

    def write_users(self) -> None:
        created = self.org.start - timedelta(days=800)
        users = self.org.crm["User"]
        users.append(
            _user_row(
                self.integration_user, "集成用户", "integration@example.cn", None, True, created
            )
        )
        for p in self.org.people:
            since = datetime.combine(min(p.hire_date, self.org.start.date()), time(9))
            active = p.leave_date is None
            modified = datetime.combine(p.leave_date, time(18)) if p.leave_date else since
            users.append(
                _user_row(
                    p.user_id,
                    p.name,
                    f"{p.wecom_userid}@example.cn",
                    p.manager.user_id if p.manager else None,
                    active,
                    since,
                    modified,
                )
            )

    # -- leads ---------------------------------------------------------------------------------
    def simulate_rep(self, rep: Person) -> None:
        org = self.org
        active_from = max(org.start, datetime.combine(rep.hire_date, time(9)))
        active_to = (
            org.end if rep.leave_date is None else datetime.combine(rep.leave_date, time(18))
        )
        months = max((active_to - active_from).days / 30.4, 0.0)
        n_leads = _poisson(self.rng, self.scale.leads_per_rep_month * months)
        created = sorted(
            self.random_moment(active_from, active_to, work=False) for _ in range(n_leads)
        )
        activities: list[dict[str, Any]] = []
        for t in created:
            if self.rng.random() < 0.8:
                t = self.work_time(t)
            if t > active_to:
                continue
            self.simulate_lead(rep, t, active_to, activities)
        self.log_activities(rep, activities)

    def simulate_lead(
        self, rep: Person, created: datetime, active_to: datetime, activities: list[dict[str, Any]]
    ) -> None:
        org, rng, traits = self.org, self.rng, rep.traits
        cust = self.new_customer(rep.region)
        lead_id = self.next_id("00Q")
        source = _weighted(rng, vocab.LEAD_SOURCES)
        via_queue = rng.random() < 0.7
        if via_queue:
            delay = timedelta(minutes=rng.randint(5, 120))
            assigned = self.work_time(created + delay)
            assigned = max(assigned, created + timedelta(minutes=1))
        else:
            assigned = created
        lead = {
            "Id": lead_id,
            "OwnerId": rep.user_id
            if not via_queue or assigned <= org.end
            else self.queue_ids[rep.region],
            "LastName": cust.person[0],
            "FirstName": cust.person[1:],
            "Name": cust.person,
            "Company": cust.company,
            "Title": cust.title,
            "Phone": None,
            "MobilePhone": cust.mobile,
            "Email": cust.email,
            "LeadSource": source,
            "Status": "未处理",
            "Industry": cust.industry,
            "State": cust.state,
            "City": cust.city,
            "IsConverted": False,
            "IsDeleted": False,
            "CreatedDate": created,
            "CreatedById": self.integration_user if via_queue else rep.user_id,
            "LastModifiedDate": created,
            "SystemModstamp": created,
        }
        org.crm["Lead"].append(lead)
        if via_queue and assigned <= org.end:
            org.crm["LeadHistory"].append(
                {
                    "Id": self.next_id("017"),
                    "LeadId": lead_id,
                    "Field": "Owner",
                    "OldValue": self.queue_ids[rep.region],
                    "NewValue": rep.user_id,
                    "CreatedById": rep.manager.user_id if rep.manager else rep.user_id,
                    "CreatedDate": assigned,
                    "IsDeleted": False,
                }
            )
            lead["LastModifiedDate"] = lead["SystemModstamp"] = assigned
        truth = {
            "lead_id": lead_id,
            "rep_id": rep.rep_id,
            "region": rep.region,
            "lead_source": source,
            "created_at": created,
            "assigned_at": assigned,
            "first_touch_at": None,
            "first_touch_at_crm": None,
            "converted": False,
            "archetype": rep.archetype,
        }
        org.truth_leads.append(truth)
        if assigned > org.end:
            truth["assigned_at"] = None
            return

        # the first touch
        touches: list[tuple[datetime, str]] = []  # (when it happened, channel)
        if rng.random() >= traits["untouched"]:
            t = assigned + timedelta(hours=self.lognormal(traits["respond_h"], 1.0))
            late_ok = rng.random() < traits["after_hours"]
            t = self.work_time(t, late_ok=late_ok)
            if t <= min(org.end, active_to):
                channel = _weighted(
                    rng, [("call", 0.5), ("wechat", 0.3), ("email", 0.15), ("visit", 0.05)]
                )
                touches.append((t, channel))
                # follow-ups while it is still a lead
                n_more = rng.choice([1, 2, 2, 3, 4, 5, 6])
                tt = t
                for _ in range(n_more):
                    tt = self.work_time(tt + timedelta(days=self.lognormal(2.0, 0.7)))
                    if tt > min(org.end, active_to):
                        break
                    touches.append(
                        (tt, _weighted(rng, [("call", 0.5), ("wechat", 0.4), ("email", 0.1)]))
                    )
        crm_times: list[datetime] = []
        for i, (t, channel) in enumerate(touches):
            logged = self.touch(
                rep,
                cust,
                t,
                channel,
                who_id=lead_id,
                what_id=None,
                first=(i == 0),
                activities=activities,
            )
            if logged is not None:
                crm_times.append(logged)
        if touches:
            truth["first_touch_at"] = touches[0][0]
            truth["first_touch_at_crm"] = min(crm_times) if crm_times else None
            lead["Status"] = "跟进中"
            self.plant_lead_noise(rep, lead, touches[0][0])

        # conversion into account + contact + opportunity
        if touches and rng.random() < traits["convert"]:
            converted = self.work_time(touches[-1][0] + timedelta(days=self.lognormal(3, 0.6)))
            if converted <= min(org.end, active_to):
                truth["converted"] = True
                self.convert(rep, cust, lead, converted, activities)
                return
        if touches and rng.random() < 0.35:
            closed = touches[-1][0] + timedelta(days=self.lognormal(6, 0.5))
            if closed <= org.end:
                lead["Status"] = "无效线索"
                lead["LastModifiedDate"] = lead["SystemModstamp"] = self.work_time(closed)
        # a duplicate of the lead, keyed in again a few days later and never worked
        if rng.random() < 0.02 * self.rate:
            dup_at = self.work_time(created + timedelta(days=rng.uniform(0.2, 3)))
            if dup_at <= org.end:
                dup = dict(
                    lead,
                    Id=self.next_id("00Q"),
                    CreatedDate=dup_at,
                    LastModifiedDate=dup_at,
                    SystemModstamp=dup_at,
                    Status="未处理",
                    OwnerId=rep.user_id,
                    CreatedById=rep.user_id,
                    IsConverted=False,
                )
                org.crm["Lead"].append(dup)
                # the rep's WeCom messages to the same mobile touch the duplicate too
                later_chats = [t for t, ch in touches if ch == "wechat" and t >= dup_at]
                org.truth_leads.append(
                    dict(
                        truth,
                        lead_id=dup["Id"],
                        created_at=dup_at,
                        assigned_at=dup_at,
                        first_touch_at=min(later_chats, default=None),
                        first_touch_at_crm=None,
                        converted=False,
                    )
                )
                self.anomaly(
                    "duplicate_lead",
                    "leads",
                    dup["Id"],
                    rep,
                    duplicate_of=lead_id,
                    company=cust.company,
                )

    def plant_lead_noise(self, rep: Person, lead: dict, first: datetime) -> None:
        """Records that must not count as a touch: deleted, dated before the lead, or future."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            t = first - timedelta(hours=rng.uniform(0.5, 5))
            if t > lead["CreatedDate"]:
                task = self.task(rep, lead["Id"], None, t, "call", "电话沟通", t)
                task["IsDeleted"] = True
        elif roll < 0.01 + 0.006 * self.rate:
            t = lead["CreatedDate"] - timedelta(days=rng.uniform(1, 20))
            task = self.task(rep, lead["Id"], None, t, "call", "电话沟通", first)
            self.anomaly(
                "activity_before_lead",
                "tasks",
                task["Id"],
                rep,
                lead_id=lead["Id"],
                completed=t.isoformat(),
            )
        elif roll < 0.01 + 0.01 * self.rate:
            t = first.replace(year=first.year + 1)
            task = self.task(rep, lead["Id"], None, t, "call", "电话沟通", first)
            self.anomaly("future_timestamp", "tasks", task["Id"], rep, completed=t.isoformat())

    # -- touches and activities -----------------------------------------------------------------
    def touch(
        self,
        rep: Person,
        cust: Customer,
        t: datetime,
        channel: str,
        who_id: str,
        what_id: str | None,
        first: bool,
        activities: list[dict[str, Any]],
        substantive: bool | None = None,
    ) -> datetime | None:
        """One interaction. Returns when the CRM says it happened (None: not in the CRM)."""
        rng = self.rng
        if substantive is None:
            substantive = rng.random() < rep.traits["substantive"]
        text, _ = rng.choice(vocab.SUBSTANTIVE) if substantive else (rng.choice(vocab.FILLER), "")
        if first:
            text = rng.choice(vocab.FIRST_CALL)
        if channel == "wechat":
            self.chat(rep, cust, t, substantive)
            if rng.random() < 0.5:
                logged = self.work_time(t + timedelta(hours=self.lognormal(3, 0.8)))
                if logged <= self.org.end:
                    activities.append(
                        dict(kind="wechat", who=who_id, what=what_id, at=logged, text=text)
                    )
                    return logged
            return None
        if channel == "visit":
            self.visit(rep, cust, t, who_id, what_id, text, activities)
            return t
        activities.append(dict(kind=channel, who=who_id, what=what_id, at=t, text=text))
        return t

    def chat(self, rep: Person, cust: Customer, t: datetime, substantive: bool) -> None:
        rng = self.rng
        if cust.external_userid is None:
            cust.external_userid = "wm" + "".join(rng.choice(BASE62 + "_-") for _ in range(30))
            added = t - timedelta(minutes=rng.randint(1, 20))
            self.org.wecom_contacts.append(
                {
                    "external_contact": {
                        "external_userid": cust.external_userid,
                        "name": cust.person,
                        "type": 1,
                        "corp_name": cust.company,
                        "position": cust.title,
                    },
                    "follow_info": {
                        "userid": rep.wecom_userid,
                        "remark": f"{cust.person}-{cust.company}",
                        "createtime": added,
                        "tag_id": [],
                        "remark_mobiles": [cust.mobile],
                        "add_way": rng.choice([1, 2, 3]),
                        "state": "",
                    },
                }
            )
            text = vocab.CHAT_REP[0].format(company="本公司", rep=rep.name)
        else:
            text = rng.choice(vocab.CHAT_REP[1:] if substantive else vocab.CHAT_REP[-1:])
        self._message(rep.wecom_userid, [cust.external_userid], t, text)
        tt = t
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            tt += timedelta(minutes=self.lognormal(25, 1.0))
            template = rng.choice(vocab.CHAT_CUSTOMER)
            reply = template.format(competitor=rng.choice(vocab.COMPETITORS))
            before = len(self.org.messages)
            self._message(cust.external_userid, [rep.wecom_userid], tt, reply)
            if template in vocab.CHAT_CUSTOMER_RISKY and len(self.org.messages) > before:
                chat_risk.record(self.org, "wecom", self.org.messages[-1]["msgid"], None, "chat")
            if rng.random() < 0.6:
                tt += timedelta(minutes=self.lognormal(10, 1.0))
                self._message(rep.wecom_userid, [cust.external_userid], tt, "好的，收到")
        if substantive and rng.random() < 0.25:
            tt += timedelta(minutes=2)
            self._message(
                rep.wecom_userid,
                [cust.external_userid],
                tt,
                None,
                file={
                    "filename": "产品方案.pdf",
                    "filesize": rng.randint(2e5, 5e6),
                    "md5sum": f"{rng.getrandbits(128):032x}",
                },
            )

    def _message(
        self, sender: str, to: list[str], t: datetime, text: str | None, file: dict | None = None
    ) -> None:
        if t > self.org.end:
            return
        self._seq += 1
        msg: dict[str, Any] = {
            "seq": 0,
            "msgid": f"{self._seq:010d}_{self.rng.getrandbits(40):010x}_external",
            "action": "send",
            "from": sender,
            "tolist": to,
            "roomid": "",
            "msgtime": t,
            "msgtype": "file" if file else "text",
        }
        if file:
            msg["file"] = file
        else:
            msg["text"] = {"content": text}
        self.org.messages.append(msg)

    def simulate_chatter(self) -> None:
        """Everyday conversations with customers the rep has already added on WeCom,
        ``chatter_per_day`` messages per rep per working day in both directions: the bulk of a
        real chat archive. They come after the contact was added (no lead's first touch
        moves) and carry neither progress nor risk words. Drawn from a stream of their own,
        so the rest of the org is the same with or without them."""
        rate = self.scale.chatter_per_day
        if rate <= 0:
            return
        rng = random.Random(self.org.seed * 104_729 + 3)
        added: dict[str, list[tuple[datetime, str]]] = {}
        for c in self.org.wecom_contacts:
            info = c["follow_info"]
            added.setdefault(info["userid"], []).append(
                (info["createtime"], c["external_contact"]["external_userid"])
            )
        for rep in self.org.reps:
            contacts = sorted(added.get(rep.wecom_userid, []))
            day = max(self.org.start.date(), rep.hire_date)
            last = min(rep.leave_date or self.org.as_of, self.org.as_of)
            known = 0
            while day <= last:
                while known < len(contacts) and contacts[known][0].date() < day:
                    known += 1
                if day.weekday() < 5 and known:
                    for _ in range(_poisson(rng, rate / 3)):  # ~3 messages a conversation
                        # mostly with the customers added lately
                        pick = known - 1 - min(int(rng.expovariate(1 / 40)), known - 1)
                        start = datetime.combine(day, time(9)) + timedelta(
                            seconds=rng.randint(0, 9 * 3600)
                        )
                        self._chatter(rng, rep.wecom_userid, contacts[pick][1], start)
                day += timedelta(days=1)

    def _chatter(self, rng: random.Random, rep: str, customer: str, t: datetime) -> None:
        for turn in range(rng.choice((1, 2, 2, 3, 3, 4, 5))):
            if t > self.org.end:
                return
            self._seq += 1
            rep_speaks = turn % 2 == 0
            lines = vocab.CHATTER_REP if rep_speaks else vocab.CHATTER_CUSTOMER
            self.org.messages.append(
                {
                    "seq": 0,
                    "msgid": f"{self._seq:010d}_{rng.getrandbits(40):010x}_external",
                    "action": "send",
                    "from": rep if rep_speaks else customer,
                    "tolist": [customer if rep_speaks else rep],
                    "roomid": "",
                    "msgtime": t,
                    "msgtype": "text",
                    "text": {"content": rng.choice(lines)},
                }
            )
            t += timedelta(seconds=rng.randint(20, 1800))

    def simulate_work_punches(self) -> None:
        """Start- and end-of-work punches (上班打卡 / 下班打卡) of the 打卡 app, every working
        day of every rep: at the region's office, or at the customer's site when the day starts
        with a visit before 10:30 or ends with one after 16:30 (out of the office's range, so
        地点异常). They verify no visit — only a field check-in (外出打卡) does — though a
        reader taking every punch would match them to that day's first or last visit. Drawn
        from a stream of their own, so the rest of the org is the same with or without them."""
        rng = random.Random(self.org.seed * 15_485_863 + 5)
        by_day: dict[tuple[str, date], list[tuple[Customer, datetime, datetime]]] = {}
        for rep, cust, start, end in self._visits:
            by_day.setdefault((rep.rep_id, start.date()), []).append((cust, start, end))
        for rep in self.org.reps:
            state, city, lat, lng = vocab.REGIONS[rep.region][0]
            office = (f"{city}{rep.region}办事处", f"{state}{city}", lat, lng)
            day = max(self.org.start.date(), rep.hire_date)
            last = min(rep.leave_date or self.org.as_of, self.org.as_of)
            while day <= last:
                if day.weekday() < 5:
                    visits = sorted(by_day.get((rep.rep_id, day), []), key=lambda v: v[1])
                    first = visits[0] if visits and visits[0][1].time() < time(10, 30) else None
                    late = visits[-1] if visits and visits[-1][2].time() > time(16, 30) else None
                    at_nine = datetime.combine(day, time(8, 30))
                    if first:
                        punch_in = first[1] - timedelta(seconds=rng.randint(600, 2400))
                    else:
                        punch_in = at_nine + timedelta(seconds=rng.randint(0, 2400))
                    self._work_punch(
                        rng, rep, "上班打卡", punch_in, first[0] if first else None, office
                    )
                    if late:
                        punch_out = late[2] + timedelta(seconds=rng.randint(300, 1800))
                    else:
                        punch_out = datetime.combine(day, time(18)) + timedelta(
                            seconds=rng.randint(0, 3600)
                        )
                    self._work_punch(
                        rng, rep, "下班打卡", punch_out, late[0] if late else None, office
                    )
                day += timedelta(days=1)

    def _work_punch(
        self,
        rng: random.Random,
        rep: Person,
        kind: str,
        when: datetime,
        cust: Customer | None,
        office: tuple[str, str, float, float],
    ) -> None:
        if when > self.org.end:
            return
        title, detail, lat, lng = (
            (cust.company, f"{cust.state}{cust.city}", cust.lat, cust.lng) if cust else office
        )
        self.org.checkins.append(
            {
                "userid": rep.wecom_userid,
                "groupname": f"{rep.region}销售",
                "checkin_type": kind,
                "exception_type": "地点异常" if cust else "",
                "checkin_time": when,
                "location_title": title,
                "location_detail": detail,
                "wifiname": "",
                "notes": "",
                "wifimac": "",
                "mediaids": [],
                "lat": round((lat + rng.uniform(-0.001, 0.001)) * 1e6),
                "lng": round((lng + rng.uniform(-0.001, 0.001)) * 1e6),
            }
        )

    def visit(
        self,
        rep: Person,
        cust: Customer,
        t: datetime,
        who_id: str,
        what_id: str | None,
        text: str,
        activities: list[dict[str, Any]],
    ) -> None:
        rng = self.rng
        minutes = rng.randint(30, 120)
        activities.append(
            dict(
                kind="visit", who=who_id, what=what_id, at=t, text=text, minutes=minutes, cust=cust
            )
        )

    def log_activities(self, rep: Person, activities: list[dict[str, Any]]) -> None:
        """Write the rep's activities to the CRM the way the rep logs them.

        Most reps log an activity right after it. The backfiller logs a whole week on Friday
        afternoon: CreatedDate bunches within the hour while the claimed times span the week.
        """
        rng, org = self.rng, self.org
        activities.sort(key=lambda a: a["at"])
        if rep.archetype == "backfiller":
            weeks: dict[date, list[dict[str, Any]]] = {}
            for a in activities:
                monday = a["at"].date() - timedelta(days=a["at"].weekday())
                weeks.setdefault(monday, []).append(a)
            for monday, items in sorted(weeks.items()):
                friday = datetime.combine(monday + timedelta(days=4), time(15, rng.randint(0, 40)))
                span = (items[-1]["at"] - items[0]["at"]).total_seconds() / 86400
                backfills = self.rate >= 1 or rng.random() < self.rate
                if (
                    backfills
                    and len(items) >= 10
                    and friday > items[-1]["at"]
                    and friday <= org.end
                ):
                    step = 50 * 60 / len(items)
                    ids = []
                    for i, a in enumerate(items):
                        a["logged"] = friday + timedelta(
                            seconds=i * step + rng.uniform(0, step / 2)
                        )
                        a["fake"] = a["kind"] == "visit" and rng.random() < min(0.5 * self.rate, 1)
                        ids.extend((rid, a) for rid in self._log(rep, a))
                    if span >= 2:
                        for rid, a in ids:
                            table = "events" if a["kind"] == "visit" else "tasks"
                            self.anomaly(
                                "backfill_burst",
                                table,
                                rid,
                                rep,
                                burst_start=friday.isoformat(),
                                records=len(items),
                            )
                else:
                    for a in items:
                        self._log(rep, a)
            return
        for a in activities:
            self._log(rep, a)

    def _log(self, rep: Person, a: dict[str, Any]) -> list[str]:
        """Write one activity; returns the ids written (a keyed-in-twice copy included)."""
        rng = self.rng
        logged = a.get("logged") or min(
            a["at"] + timedelta(minutes=rng.randint(1, 45)), self.org.end
        )
        if a["kind"] == "visit":
            return [self.event(rep, a, logged)]
        task = self.task(rep, a["who"], a["what"], a["at"], a["kind"], a["text"], logged)
        if rng.random() < 0.01 * self.rate:  # the same call keyed in twice
            # keyed in again minutes later (seconds later inside a backfill session)
            again = timedelta(
                seconds=rng.randint(1, 5) if a.get("logged") else rng.randint(60, 1800)
            )
            dup = dict(task, Id=self.next_id("00T"), CreatedDate=task["CreatedDate"] + again)
            dup["LastModifiedDate"] = dup["SystemModstamp"] = dup["CreatedDate"]
            self.org.crm["Task"].append(dup)
            self.anomaly("duplicate_activity", "tasks", dup["Id"], rep, duplicate_of=task["Id"])
            return [task["Id"], dup["Id"]]
        return [task["Id"]]

    def task(
        self,
        rep: Person,
        who: str | None,
        what: str | None,
        at: datetime,
        kind: str,
        text: str,
        logged: datetime,
    ) -> dict[str, Any]:
        subtype, typ, subject = {
            "call": ("Call", "电话", "电话"),
            "email": ("Email", "邮件", "邮件"),
            "wechat": ("Task", "微信", "微信沟通"),
        }.get(kind, ("Task", "其他", "跟进"))
        task_id = self.next_id("00T")
        seconds = self.rng.randint(40, 900) if kind == "call" else None
        row = completed_task(
            task_id,
            who,
            what,
            rep.user_id,
            subject,
            text,
            at,
            subtype=subtype,
            kind=typ,
            call_seconds=seconds,
            logged=logged,
        )
        self.org.crm["Task"].append(row)
        return row

    def event(self, rep: Person, a: dict[str, Any], logged: datetime) -> str:
        rng = self.rng
        cust: Customer = a["cust"]
        start = a["at"]
        seconds = a["minutes"] * 60
        short = rng.random() < 0.025 * self.rate
        if short:
            seconds = rng.randint(8, 35)
        end = start + timedelta(seconds=seconds)
        row = {
            "Id": self.next_id("00U"),
            "WhoId": a["who"],
            "WhatId": a["what"],
            "OwnerId": rep.user_id,
            "Subject": "客户拜访",
            "Description": a["text"],
            "Type": "拜访",
            "Location": f"{cust.city} {cust.company}",
            "StartDateTime": start,
            "EndDateTime": end,
            "DurationInMinutes": seconds // 60,
            "ActivityDateTime": start,
            "IsAllDayEvent": False,
            "IsDeleted": False,
            "CreatedDate": logged,
            "CreatedById": rep.user_id,
            "LastModifiedDate": logged,
            "SystemModstamp": logged,
        }
        self.org.crm["Event"].append(row)
        self._visits.append((rep, cust, start, end))
        if short:
            self.anomaly("short_visit", "events", row["Id"], rep, seconds=seconds)
        roll = rng.random()
        if a.get("fake") or roll < 0.04 * self.rate:
            self.anomaly("unverified_visit", "events", row["Id"], rep, reason="no check-in")
        elif roll < 0.07 * self.rate:
            self.checkin(rep, cust, start, far=True)
            self.anomaly("unverified_visit", "events", row["Id"], rep, reason="check-in far away")
        else:
            self.checkin(rep, cust, start, far=False)
        return row["Id"]

    def checkin(self, rep: Person, cust: Customer, t: datetime, far: bool) -> None:
        rng = self.rng
        when = t + timedelta(seconds=rng.randint(-1200, 900))
        while (rep.wecom_userid, when) in self._checkin_keys:  # one check-in a second per rep
            when += timedelta(seconds=1)
        self._checkin_keys.add((rep.wecom_userid, when))
        if far:
            dlat, dlng = rng.choice([-1, 1]) * rng.uniform(0.03, 0.07), rng.uniform(-0.05, 0.05)
        else:
            dlat, dlng = rng.uniform(-0.002, 0.002), rng.uniform(-0.002, 0.002)
        self.org.checkins.append(
            {
                "userid": rep.wecom_userid,
                "groupname": f"{rep.region}销售外勤",
                "checkin_type": "外出打卡",
                "exception_type": "",
                "checkin_time": when,
                "location_title": cust.company if not far else f"{cust.city}市区",
                "location_detail": f"{cust.state}{cust.city}",
                "wifiname": "",
                "notes": "拜访客户",
                "wifimac": "",
                "mediaids": [],
                "lat": round((cust.lat + dlat) * 1e6),
                "lng": round((cust.lng + dlng) * 1e6),
            }
        )

    # -- deals --------------------------------------------------------------------------------
    def convert(self, rep: Person, cust: Customer, lead: dict, at: datetime, activities) -> None:
        rng, org = self.rng, self.org
        account_id, contact_id, opp_id = (
            self.next_id("001"),
            self.next_id("003"),
            self.next_id("006"),
        )
        lead.update(
            Status="已转化",
            IsConverted=True,
            ConvertedDate=at.date(),
            ConvertedAccountId=account_id,
            ConvertedContactId=contact_id,
            ConvertedOpportunityId=opp_id,
            LastModifiedDate=at,
            SystemModstamp=at,
        )
        account = {
            "Id": account_id,
            "Name": cust.company,
            "OwnerId": rep.user_id,
            "Industry": cust.industry,
            "Type": "潜在客户",
            "BillingState": cust.state,
            "BillingCity": cust.city,
            "Phone": None,
            "ERP_Customer_Code__c": None,
            "IsDeleted": False,
            "CreatedDate": at,
            "LastModifiedDate": at,
            "SystemModstamp": at,
        }
        org.crm["Account"].append(account)
        self.deals[opp_id] = (rep, cust, account_id, contact_id)
        org.crm["Contact"].append(
            {
                "Id": contact_id,
                "AccountId": account_id,
                "OwnerId": rep.user_id,
                "LastName": cust.person[0],
                "FirstName": cust.person[1:],
                "Name": cust.person,
                "Title": cust.title,
                "Phone": None,
                "MobilePhone": cust.mobile,
                "Email": cust.email,
                "IsDeleted": False,
                "CreatedDate": at,
                "LastModifiedDate": at,
                "SystemModstamp": at,
            }
        )
        traits = rep.traits
        amount = round(self.lognormal(180_000, 0.7), -3)
        opp = {
            "Id": opp_id,
            "Name": f"{cust.company}-管理系统项目",
            "AccountId": account_id,
            "OwnerId": rep.user_id,
            "Amount": amount,
            "Type": "新业务",
            "LeadSource": lead["LeadSource"],
            "IsDeleted": False,
            "CreatedDate": at,
            "CreatedById": rep.user_id,
            "Decision_Chain__c": (
                f"{cust.title}{cust.person}→总经理" if rng.random() < traits["info"] else None
            ),
            "Objection__c": (
                rng.choice(["价格", "预算周期", "竞品对比", "实施周期", "无"])
                if rng.random() < traits["info"]
                else None
            ),
        }
        org.crm["Opportunity"].append(opp)
        stages = {s[2]: s for s in vocab.STAGES}
        stage, entered = 1, at
        path: list[tuple[int, datetime, int | None]] = [(1, at, None)]
        won_at: datetime | None = None
        lost_at: datetime | None = None
        while True:
            dwell = self.lognormal(STAGE_DWELL_DAYS.get(stage, 10) * traits["dwell"], 0.5)
            nxt_at = self.work_time(entered + timedelta(days=dwell))
            # activities while in the stage
            t = entered
            while True:
                t = self.work_time(t + timedelta(days=self.lognormal(traits["gap_d"], 0.8)))
                if t >= min(nxt_at, org.end):
                    break
                channel = _weighted(
                    rng, [("call", 0.45), ("wechat", 0.25), ("visit", 0.15), ("email", 0.15)]
                )
                self.touch(
                    rep,
                    cust,
                    t,
                    channel,
                    who_id=contact_id,
                    what_id=opp_id,
                    first=False,
                    activities=activities,
                )
            if nxt_at > org.end or stage >= 6:
                break
            # P(advance) = p(stage) / p(next): the empirical win rate of each stage then
            # matches the stage-config probability (SPEC §4)
            p_adv = 0.95 if stage == 5 else stages[stage][3] / stages[stage + 1][3]
            if rng.random() >= p_adv:
                if stage < 5:  # a signed contract stays won, even when payment is slow
                    lost_at = nxt_at
                break
            skipped = None
            new_stage = stage + 1
            if stage in (2, 3) and rng.random() < traits["skip"] * self.rate:
                skipped, new_stage = stage, stage + 2
            # the substantive activity that moves the deal on
            self.touch(
                rep,
                cust,
                nxt_at - timedelta(hours=rng.uniform(1, 30)),
                "visit" if rng.random() < 0.4 else "call",
                who_id=contact_id,
                what_id=opp_id,
                first=False,
                activities=activities,
                substantive=True,
            )
            stage, entered = new_stage, nxt_at
            path.append((stage, entered, skipped))
            if stage == 5:
                won_at = entered
        # history rows, evidence and truth
        for i, (st, when, skipped) in enumerate(path):
            name, canonical, order, prob, *_rest, evidence = stages[st]
            has_evidence = True
            if evidence:
                has_evidence = rng.random() >= traits["no_evidence"] * self.rate
                if has_evidence:
                    ev_at = when - timedelta(hours=rng.uniform(1, 40))
                    org.crm["ContentVersion"].append(
                        {
                            "Id": self.next_id("068"),
                            "Title": f"{evidence}-{cust.company}",
                            "PathOnClient": f"{evidence}.pdf",
                            "FileType": "PDF",
                            "ContentSize": rng.randint(50_000, 3_000_000),
                            "FirstPublishLocationId": opp_id,
                            "Evidence_Type__c": evidence,
                            "OwnerId": rep.user_id,
                            "IsDeleted": False,
                            "CreatedDate": ev_at,
                            "CreatedById": rep.user_id,
                            "SystemModstamp": ev_at,
                        }
                    )
            history_id = self.next_id("008")
            org.crm["OpportunityHistory"].append(
                self._history(history_id, opp_id, name, amount, prob, when, rep)
            )
            exited = path[i + 1][1] if i + 1 < len(path) else lost_at
            org.truth_stages.append(
                {
                    "opportunity_id": opp_id,
                    "rep_id": rep.rep_id,
                    "stage": canonical,
                    "stage_order": order,
                    "entered_at": when,
                    "exited_at": exited,
                    "has_evidence": has_evidence,
                    "skipped_from": stages[skipped][1] if skipped else None,
                }
            )
            if not has_evidence:
                self.anomaly(
                    "stage_without_evidence",
                    "opportunity_history",
                    history_id,
                    rep,
                    opportunity_id=opp_id,
                    stage=canonical,
                )
            if skipped:
                self.anomaly(
                    "stage_skip",
                    "opportunity_history",
                    history_id,
                    rep,
                    opportunity_id=opp_id,
                    skipped=stages[skipped + 1][1],
                )
        final_stage, final_at = path[-1][0], path[-1][1]
        if lost_at is not None:
            name, canonical, order, prob, *_ = stages[99]
            org.crm["OpportunityHistory"].append(
                self._history(self.next_id("008"), opp_id, name, amount, prob, lost_at, rep)
            )
            org.truth_stages.append(
                {
                    "opportunity_id": opp_id,
                    "rep_id": rep.rep_id,
                    "stage": "lost",
                    "stage_order": 99,
                    "entered_at": lost_at,
                    "exited_at": None,
                    "has_evidence": True,
                    "skipped_from": None,
                }
            )
            final_stage, final_at = 99, lost_at
        name, canonical, order, prob, *_ = stages[final_stage]
        expected_close = (
            won_at
            or lost_at
            or at + timedelta(days=sum(STAGE_DWELL_DAYS.values()) * traits["dwell"])
        )
        next_step = rng.random() < traits["info"] and final_stage < 5
        opp.update(
            StageName=name,
            Probability=prob * 100,
            CloseDate=expected_close.date(),
            IsClosed=final_stage >= 5,
            IsWon=final_stage in (5, 6),
            ForecastCategoryName=vocab.FORECAST_CATEGORY[final_stage],
            NextStep=rng.choice(["安排演示", "发送报价", "约见决策人", "确认合同"])
            if next_step
            else None,
            Next_Step_Date__c=(
                min(
                    final_at + timedelta(days=rng.randint(2, 14)), org.end + timedelta(days=14)
                ).date()
                if next_step
                else None
            ),
            LastModifiedDate=final_at,
            SystemModstamp=final_at,
        )
        if won_at is not None:
            self.erp_documents(rep, cust, account, opp, won_at, final_stage, final_at)

    def _history(self, hid, opp_id, stage_name, amount, prob, when, rep) -> dict[str, Any]:
        return {
            "Id": hid,
            "OpportunityId": opp_id,
            "StageName": stage_name,
            "Amount": amount,
            "Probability": prob * 100,
            "CloseDate": (when + timedelta(days=30)).date(),
            "ExpectedRevenue": round(amount * prob, 2),
            "ForecastCategory": vocab.FORECAST_CATEGORY[
                {s[0]: s[2] for s in vocab.STAGES}[stage_name]
            ],
            "CreatedById": rep.user_id,
            "CreatedDate": when,
            "SystemModstamp": when,
            "IsDeleted": False,
        }

    # -- ERP -----------------------------------------------------------------------------------
    def u8_customer(self, cust: Customer, rep: Person, since: datetime) -> str:
        code = f"C{len(self.org.u8['Customer']) + 10001:05d}"
        self.org.u8["Customer"].append(
            {
                "cCusCode": code,
                "cCusName": cust.u8_name,
                "cCusAbbName": cust.u8_name[:6],
                "cCCCode": "01",
                "cCusDepart": _dep_code(rep.region),
                "cCusPPerson": rep.u8_person_code,
                "dCusDevDate": since.date(),
                "pubufts": self.ufts(),
                "_at": since,
            }
        )
        return code

    def erp_documents(self, rep, cust, account, opp, won_at, final_stage, final_at) -> None:
        rng, org = self.rng, self.org
        code = self.u8_customer(cust, rep, won_at)
        if rng.random() < 0.8:
            account["ERP_Customer_Code__c"] = code
            account["LastModifiedDate"] = account["SystemModstamp"] = won_at
        account["Type"] = "客户"
        if rng.random() < 0.05 * self.rate:
            self.anomaly("won_without_order", "opportunities", opp["Id"], rep, amount=opp["Amount"])
            return
        total = opp["Amount"]
        if rng.random() < 0.08 * self.rate:
            total = round(total * (1 + rng.choice([-1, 1]) * rng.uniform(0.03, 0.15)), 2)
            self.anomaly(
                "erp_amount_mismatch",
                "opportunities",
                opp["Id"],
                rep,
                crm_amount=opp["Amount"],
                u8_amount=total,
            )
        so_id = len(org.u8["SO_SOMain"]) + 1
        so_code = f"SO{won_at:%Y%m}{so_id:05d}"
        order_at = won_at + timedelta(hours=rng.uniform(1, 48))
        if order_at > org.end:
            order_at = org.end - timedelta(minutes=5)
        org.u8["SO_SOMain"].append(
            {
                "ID": so_id,
                "cSOCode": so_code,
                "dDate": order_at.date(),
                "cCusCode": code,
                "cPersonCode": rep.u8_person_code,
                "cDepCode": _dep_code(rep.region),
                "iStatus": 1,
                "cVerifier": rep.manager.name if rep.manager else None,
                "dverifysystime": order_at,
                "dmodifysystime": order_at,
                "ufts": self.ufts(),
                "_at": order_at,
            }
        )
        shares = [0.6, 0.25, 0.15] if total > 150_000 else [1.0]
        detail_ids = []
        remaining = round(total, 2)
        for i, share in enumerate(shares):
            line_sum = remaining if i == len(shares) - 1 else round(total * share, 2)
            remaining = round(remaining - line_sum, 2)
            money = round(line_sum / 1.13, 2)
            detail_id = len(org.u8["SO_SODetails"]) + 1
            detail_ids.append((detail_id, line_sum))
            org.u8["SO_SODetails"].append(
                {
                    "iSOsID": detail_id,
                    "ID": so_id,
                    "cInvCode": vocab.PRODUCTS[i][0],
                    "iQuantity": 1,
                    "iMoney": money,
                    "iTax": round(line_sum - money, 2),
                    "iSum": line_sum,
                    "iNatSum": line_sum,
                    "dPreDate": (order_at + timedelta(days=30)).date(),
                    "ufts": self.ufts(),
                    "_at": order_at,
                }
            )
        self.mistaken_order(rep, code, order_at, detail_ids)
        invoice_at = order_at + timedelta(days=rng.uniform(5, 30))
        if invoice_at <= org.end:
            sbv_id = len(org.u8["SaleBillVouch"]) + 1
            org.u8["SaleBillVouch"].append(
                {
                    "SBVID": sbv_id,
                    "cSBVCode": f"FP{invoice_at:%Y%m}{sbv_id:05d}",
                    "dDate": invoice_at.date(),
                    "cCusCode": code,
                    "cPersonCode": rep.u8_person_code,
                    "cSOCode": so_code,
                    "ufts": self.ufts(),
                    "_at": invoice_at,
                }
            )
            for detail_id, line_sum in detail_ids:
                org.u8["SaleBillVouchs"].append(
                    {
                        "AutoID": len(org.u8["SaleBillVouchs"]) + 1,
                        "SBVID": sbv_id,
                        "iSum": line_sum,
                        "iNatSum": line_sum,
                        "iSOsID": detail_id,
                        "ufts": self.ufts(),
                        "_at": invoice_at,
                    }
                )
        if final_stage == 6:
            paid_at = max(final_at, invoice_at)
            if paid_at <= org.end:
                bill_id = len(org.u8["Ap_CloseBill"]) + 1
                org.u8["Ap_CloseBill"].append(
                    {
                        "iID": bill_id,
                        "cVouchID": f"SK{paid_at:%Y%m}{bill_id:05d}",
                        "cVouchType": "48",
                        "cFlag": "AR",
                        "dVouchDate": paid_at.date(),
                        "cDwCode": code,
                        "cPerson": rep.u8_person_code,
                        "iAmount": round(total, 2),
                        "ufts": self.ufts(),
                        "_at": paid_at,
                    }
                )
                org.u8["Ap_CloseBills"].append(
                    {
                        "ID": len(org.u8["Ap_CloseBills"]) + 1,
                        "iID": bill_id,
                        "iAmt": round(total, 2),
                        "ufts": self.ufts(),
                        "_at": paid_at,
                    }
                )

    def mistaken_order(self, rep, code, order_at, detail_ids) -> None:
        """Now and then an order is keyed in twice and the copy deleted a little later (U8
        deletes unaudited documents outright). Only copies deleted by the org's last day are
        made, so the sources at that day never hold them; earlier views do
        (``as_seen``), which is what key reconciliation in the U8 loader is for."""
        rng, org = self.rng_erp, self.org
        if rng.random() >= 0.04:
            return
        keyed_at = order_at + timedelta(minutes=rng.randint(10, 90))
        deleted_at = keyed_at + timedelta(hours=rng.uniform(2, 72))
        if deleted_at > org.end:
            return
        so_id = len(org.u8["SO_SOMain"]) + 1
        main = dict(org.u8["SO_SOMain"][-1])
        main.update(
            ID=so_id,
            cSOCode=f"SO{keyed_at:%Y%m}{so_id:05d}",
            iStatus=0,
            cVerifier=None,
            dverifysystime=None,
            dmodifysystime=keyed_at,
            ufts=self.ufts(),
            _at=keyed_at,
            _deleted_at=deleted_at,
        )
        org.u8["SO_SOMain"].append(main)
        for detail_id, _ in detail_ids:
            line = dict(org.u8["SO_SODetails"][detail_id - 1])
            line.update(
                iSOsID=len(org.u8["SO_SODetails"]) + 1,
                ID=so_id,
                ufts=self.ufts(),
                _at=keyed_at,
                _deleted_at=deleted_at,
            )
            org.u8["SO_SODetails"].append(line)

    def stamp_u8(self) -> None:
        """Rowversions in the order rows were written, as SQL Server assigns them, so a view
        of an earlier day holds exactly the lower ones."""
        rows = [
            (r["_at"], t_index, i, r)
            for t_index, table in enumerate(U8_TABLES)
            for i, r in enumerate(self.org.u8[table])
        ]
        rows.sort(key=lambda x: x[:3])
        for n, (_, _, _, r) in enumerate(rows, start=1000):
            r["pubufts" if "pubufts" in r else "ufts"] = n

    def simulate_u8_master(self) -> None:
        org = self.org
        for region in vocab.REGIONS:
            org.u8["Department"].append(
                {
                    "cDepCode": _dep_code(region),
                    "cDepName": f"{region}销售部",
                    "pubufts": self.ufts(),
                    "_at": org.start - timedelta(days=800),
                }
            )
        for p in org.people:
            if p.role != "director":
                org.u8["Person"].append(
                    {
                        "cPersonCode": p.u8_person_code,
                        "cPersonName": p.name,
                        "cDepCode": _dep_code(p.region),
                        "pubufts": self.ufts(),
                        "_at": datetime.combine(min(p.hire_date, org.start.date()), time(9)),
                    }
                )
        # customers from before the CRM, never seen by it
        for _ in range(max(5, len(org.reps) * 2)):
            region = self.rng.choice(list(vocab.REGIONS))
            rep = self.rng.choice([p for p in org.reps if p.region == region])
            self.u8_customer(self.new_customer(region), rep, org.start - timedelta(days=400))

    # -- spreadsheets ---------------------------------------------------------------------------
    def build_targets(self) -> None:
        org, rng = self.org, self.rng
        month = org.start.date()
        while month <= org.as_of:
            for region in vocab.REGIONS:
                reps = [p for p in org.reps if p.region == region]
                total = 0.0
                for p in reps:
                    booking = round(rng.uniform(0.8, 1.2) * 280_000, -4)
                    total += booking
                    org.targets.append(
                        {
                            "month": month,
                            "region": region,
                            "rep_id": p.rep_id,
                            "booking_target": booking,
                            "collection_target": round(booking * 0.8, -4),
                        }
                    )
                org.targets.append(
                    {
                        "month": month,
                        "region": region,
                        "rep_id": None,
                        "booking_target": total,
                        "collection_target": round(total * 0.8, -4),
                    }
                )
            month = _add_months(month, 1)

    def build_legacy_visits(self) -> None:
        org, rng = self.org, self.rng
        lo = datetime.combine(_add_months(org.start.date(), -self.scale.legacy_months), time(9))
        for rep in org.reps:
            if rep.hire_date > org.start.date():
                continue
            for _ in range(_poisson(rng, 10 * self.scale.legacy_months)):
                t = self.random_moment(lo, org.start - timedelta(days=1))
                cust = self.new_customer(rep.region)
                text = (
                    rng.choice(vocab.SUBSTANTIVE)[0]
                    if rng.random() < 0.5
                    else rng.choice(vocab.FILLER)
                )
                org.legacy_visits.append(
                    {
                        "visit_date": t.date(),
                        "rep_name": rep.name,
                        "customer_name": cust.company,
                        "channel": rng.choice(["上门拜访", "电话", "微信"]),
                        "notes": text,
                        "duration_s": rng.randint(300, 5400),
                    }
                )


def as_seen(org: Org, through: date) -> Org:
    """The sources as they stood at the end of ``through`` (at most the org's last day).

    Records created later are not there yet; U8 documents deleted by then are gone. A CRM
    record created by then but changed afterwards shows with its creation stamp (the earlier
    view keeps its final field values: the generator keeps no versions), so the next day's
    export carries it again as a change. Truth and targets stay those of the whole org.
    """
    if through > org.as_of:
        raise ValueError(f"the org ends on {org.as_of}; it cannot be seen through {through}")
    cut = datetime.combine(through, time(23, 59, 59))

    def crm_row(r: dict[str, Any]) -> dict[str, Any]:
        if "SystemModstamp" in r and r["SystemModstamp"] > cut:
            return {**r, "SystemModstamp": r["CreatedDate"], "LastModifiedDate": r["CreatedDate"]}
        return r

    view = copy.copy(org)
    view.as_of, view.end = through, cut
    view.crm = {
        obj: [crm_row(r) for r in rows if r["CreatedDate"] <= cut] for obj, rows in org.crm.items()
    }
    view.wecom_contacts = [c for c in org.wecom_contacts if c["follow_info"]["createtime"] <= cut]
    view.messages = [m for m in org.messages if m["msgtime"] <= cut]
    view.checkins = [c for c in org.checkins if c["checkin_time"] <= cut]
    view.u8 = {
        table: [
            r
            for r in rows
            if r["_at"] <= cut and (r.get("_deleted_at") is None or r["_deleted_at"] > cut)
        ]
        for table, rows in org.u8.items()
    }
    view.legacy_visits = [v for v in org.legacy_visits if v["visit_date"] <= through]
    return view


def vocab_objects() -> list[str]:
    return [
        "User",
        "Lead",
        "LeadHistory",
        "Account",
        "Contact",
        "Opportunity",
        "OpportunityHistory",
        "Task",
        "Event",
        "ContentVersion",
    ]


U8_TABLES = [
    "Customer",
    "Person",
    "Department",
    "SO_SOMain",
    "SO_SODetails",
    "SaleBillVouch",
    "SaleBillVouchs",
    "Ap_CloseBill",
    "Ap_CloseBills",
]


def _user_row(uid, name, email, manager, active, created, modified=None) -> dict[str, Any]:
    modified = modified or created
    return {
        "Id": uid,
        "Name": name,
        "Username": email,
        "Email": email,
        "ManagerId": manager,
        "IsActive": active,
        "CreatedDate": created,
        "LastModifiedDate": modified,
        "SystemModstamp": modified,
    }


def _dep_code(region: str) -> str:
    return f"0{list(vocab.REGIONS).index(region) + 1}" if region in vocab.REGIONS else "00"


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in options)
    for value, w in options:
        r -= w
        if r <= 0:
            return value
    return options[-1][0]
