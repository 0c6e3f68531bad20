"""Changes a day's CRM export carries besides the day's new records, written into a generated
org's export folder the way Salesforce stamps them (``SystemModstamp`` of the day, so the
incremental load picks them up): a task logged late (it happened before the lead's first
touch), a lead edited, a lead and a task deleted (``IsDeleted``), a lead converted to a new
contact with the lead's mobile, so the WeCom customer with that mobile resolves to the contact
now instead of the lead, and a call logged late on a deal that closed in an earlier month (the
win model's training rows of the months after it change)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from devkit.demo.variants import _read_csv, _write_csv


@dataclass(frozen=True)
class CrmChanges:
    late_task: str
    late_task_lead: str
    late_task_at: datetime
    edited_lead: str
    deleted_lead: str
    deleted_task: str
    converted_lead: str
    new_contact: str
    wecom_contact: str
    late_deal_task: str
    late_deal: str
    # the late call's record as written (a later day's export, regenerated, no longer has it)
    late_deal_task_record: dict[str, str] = field(compare=False, repr=False)


def _stamp(t: datetime) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.000Z"


def plant_crm_changes(src: Path, day: date) -> CrmChanges:
    """Write the changes into ``src/crm_export`` (as of ``day``); raise if the org has no
    record to change (each kind needs one)."""
    export = src / "crm_export"
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    lead_fields, leads = _read_csv(export / "Lead.csv")
    task_fields, tasks = _read_csv(export / "Task.csv")
    contact_fields, contacts = _read_csv(export / "Contact.csv")
    accounts = _read_csv(export / "Account.csv")[1]
    wecom_by_mobile = {}
    for line in (src / "wecom" / "contacts.jsonl").read_text(encoding="utf-8").splitlines():
        contact = json.loads(line)
        if contact["follow_info"]["createtime"] >= (now - timedelta(days=2)).timestamp():
            continue
        for mobile in contact["follow_info"].get("remark_mobiles") or ():
            wecom_by_mobile[mobile] = contact["external_contact"]["external_userid"]

    # records the warehouse held before this day (created two days back or earlier)
    before = now - timedelta(days=2)

    def older(record: dict[str, str]) -> bool:
        return datetime.fromisoformat(record["CreatedDate"].replace("Z", "+00:00")) < before

    contact_mobiles = {c["MobilePhone"] for c in contacts}
    live = sorted(
        (
            lead
            for lead in leads
            if lead["IsDeleted"] == "false" and lead["IsConverted"] == "false" and older(lead)
        ),
        key=lambda lead: lead["Id"],
    )
    convertible = [
        lead
        for lead in live
        if lead["MobilePhone"] in wecom_by_mobile and lead["MobilePhone"] not in contact_mobiles
    ]
    if not convertible or len(live) < 4:
        raise ValueError(f"{export}: no open lead a WeCom customer's mobile matches")
    converted = convertible[0]
    others = [lead for lead in live if lead["Id"] != converted["Id"]]
    touched = {
        t["WhoId"]
        for t in tasks
        if t["IsDeleted"] == "false" and t["IsClosed"] == "true" and older(t)
    }
    late_lead = next(lead for lead in others if lead["Id"] in touched)
    edited = next(lead for lead in others if lead["Id"] != late_lead["Id"])
    deleted = next(lead for lead in others if lead["Id"] not in (late_lead["Id"], edited["Id"]))

    # the lead converts: a contact with its mobile on the first account
    new_contact = {field: "" for field in contact_fields}
    new_contact.update(
        Id=converted["Id"].replace("00Q", "003", 1)[:-3] + "ZZZ",
        AccountId=accounts[0]["Id"],
        OwnerId=converted["OwnerId"],
        LastName=converted["LastName"],
        FirstName=converted["FirstName"],
        Name=converted["Name"],
        MobilePhone=converted["MobilePhone"],
        IsDeleted="false",
        CreatedDate=_stamp(now),
        LastModifiedDate=_stamp(now),
        SystemModstamp=_stamp(now),
    )
    contacts.append({k: v for k, v in new_contact.items() if k in contact_fields})
    converted.update(
        IsConverted="true",
        ConvertedDate=day.isoformat(),
        ConvertedAccountId=accounts[0]["Id"],
        ConvertedContactId=new_contact["Id"],
    )
    edited.update(LeadSource="展会" if edited["LeadSource"] != "展会" else "官网表单")
    deleted.update(IsDeleted="true")
    for lead in (converted, edited, deleted):
        lead.update(LastModifiedDate=_stamp(now), SystemModstamp=_stamp(now))

    # a call logged today that happened a minute after the lead came in
    late_at = datetime.fromisoformat(late_lead["CreatedDate"].replace("Z", "+00:00")) + timedelta(
        minutes=1
    )
    template = next(t for t in tasks if t["WhoId"] == late_lead["Id"] and t["IsClosed"] == "true")
    late_task = _task_like(template, "ZZZ", late_at, now)
    # another lead's touch is deleted
    deleted_task = next(
        t
        for t in tasks
        if t["IsDeleted"] == "false"
        and older(t)
        and t["WhoId"].startswith("00Q")
        and t["WhoId"] not in (late_lead["Id"], deleted["Id"])
    )
    deleted_task.update(IsDeleted="true", LastModifiedDate=_stamp(now), SystemModstamp=_stamp(now))
    tasks.append(late_task)
    late_deal_task = _late_call_on_a_closed_deal(export, tasks, day, now)

    _write_csv(export / "Lead.csv", lead_fields, leads)
    _write_csv(export / "Contact.csv", contact_fields, contacts)
    _write_csv(export / "Task.csv", task_fields, tasks)
    return CrmChanges(
        late_task=late_task["Id"],
        late_task_lead=late_lead["Id"],
        late_task_at=late_at,
        edited_lead=edited["Id"],
        deleted_lead=deleted["Id"],
        deleted_task=deleted_task["Id"],
        converted_lead=converted["Id"],
        new_contact=new_contact["Id"],
        wecom_contact=wecom_by_mobile[converted["MobilePhone"]],
        late_deal_task=late_deal_task["Id"],
        late_deal=late_deal_task["WhatId"],
        late_deal_task_record=late_deal_task,
    )


def _late_call_on_a_closed_deal(
    export: Path, tasks: list[dict[str, str]], day: date, now: datetime
) -> dict[str, str]:
    """Append to ``tasks`` a call logged now that happened two days before a deal closed, the
    deal closed before ``day``'s month (the model of this month trains on it); returns the
    task."""
    earlier = date(day.year, day.month, 1)
    opportunities = _read_csv(export / "Opportunity.csv")[1]
    closed = sorted(
        (
            o
            for o in opportunities
            if o["IsClosed"] == "true"
            and o["IsDeleted"] == "false"
            and date.fromisoformat(o["CloseDate"]) < earlier
            and o["CreatedDate"][:10]
            < (date.fromisoformat(o["CloseDate"]) - timedelta(2)).isoformat()
        ),
        key=lambda o: o["Id"],
    )
    template = next((t for t in tasks if t["WhatId"].startswith("006")), None)
    if not closed or template is None:
        raise ValueError(f"{export}: no deal closed before {earlier} to log a late call on")
    deal = closed[0]
    at = datetime.combine(
        date.fromisoformat(deal["CloseDate"]) - timedelta(days=2), datetime.min.time(), UTC
    ) + timedelta(hours=2)
    task = _task_like(
        template,
        "ZZY",
        at,
        now,
        WhoId="",
        WhatId=deal["Id"],
        # words no other text says, so its chat-risk signals are its own
        Description=f"客户说金蝶的报价比你们低，领导还没批（{deal['Id']}）",
        OwnerId=deal["OwnerId"],
    )
    tasks.append(task)
    return task


def _task_like(template: dict, id_tail: str, at: datetime, now: datetime, **fields: str) -> dict:
    """A new Task row shaped like ``template``, done at ``at`` and written to the CRM ``now``."""
    task = {
        **template,
        "Id": template["Id"][:-3] + id_tail,
        **fields,
        "ActivityDate": at.date().isoformat(),
        "CreatedDate": _stamp(now),
        "LastModifiedDate": _stamp(now),
        "SystemModstamp": _stamp(now),
    }
    if "CompletedDateTime" in task:
        task["CompletedDateTime"] = _stamp(at)
    return task


def rewrite_note(src: Path, changes: CrmChanges, description: str, day: date) -> None:
    """The late call of ``changes`` with its description rewritten as of ``day``, written into
    ``src/crm_export`` (in place of the record, or added again when the day's export no longer
    carries it)."""
    export = src / "crm_export"
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    fields, tasks = _read_csv(export / "Task.csv")
    tasks = [t for t in tasks if t["Id"] != changes.late_deal_task]
    task = {**changes.late_deal_task_record, "Description": description}
    task.update(LastModifiedDate=_stamp(now), SystemModstamp=_stamp(now))
    tasks.append({k: v for k, v in task.items() if k in fields})
    _write_csv(export / "Task.csv", fields, tasks)


def delete_note(src: Path, task_id: str, day: date) -> None:
    """Mark the task ``task_id`` deleted in ``src/crm_export`` as of ``day`` (``IsDeleted``,
    stamped that day)."""
    export = src / "crm_export"
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    fields, tasks = _read_csv(export / "Task.csv")
    task = next(t for t in tasks if t["Id"] == task_id)
    task.update(IsDeleted="true", LastModifiedDate=_stamp(now), SystemModstamp=_stamp(now))
    _write_csv(export / "Task.csv", fields, tasks)
