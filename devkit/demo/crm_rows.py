"""CRM rows the generator writes from more than one place, in the export's column order."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def completed_task(
    task_id: str,
    who: str | None,
    what: str | None,
    owner: str,
    subject: str,
    description: str,
    at: datetime,
    *,
    subtype: str = "Task",
    kind: str = "其他",
    call_seconds: int | None = None,
    logged: datetime | None = None,
) -> dict[str, Any]:
    """A completed Salesforce Task done at ``at`` by ``owner`` on ``what`` (a deal, or none)
    with ``who`` (a contact or lead), keyed in at ``logged`` (``at`` unless given)."""
    logged = logged or at
    return {
        "Id": task_id,
        "WhoId": who,
        "WhatId": what,
        "OwnerId": owner,
        "Subject": subject,
        "Description": description,
        "Status": "已完成",
        "Priority": "Normal",
        "TaskSubtype": subtype,
        "Type": kind,
        "ActivityDate": at.date(),
        "CompletedDateTime": at,
        "CallDurationInSeconds": call_seconds,
        "IsClosed": True,
        "IsDeleted": False,
        "CreatedDate": logged,
        "CreatedById": owner,
        "LastModifiedDate": logged,
        "SystemModstamp": logged,
    }
